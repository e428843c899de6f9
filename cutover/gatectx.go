package cutover

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// gateContext is the context gates are evaluated in: the Run's context,
// bounded so that a gate that ignores its own timeouts cannot hold the
// cutover (a bake's gates by its deadline plus a poll, carrying the bake's
// timing for BakeTimingFrom; the watch's by the grace), and cut short with
// the cause when an abort or a closing window is taken in while a gate
// runs (see judging).
//
// It arms its timer only when a gate asks for Done, Err or a value of the
// Run's context: a gate that never looks at its context (a check of numbers
// already fetched) costs no timer, and a bake no context of the timer's
// size for its whole length (thousands of cutovers bake at once in one
// process). Deadline answers without arming it. After release it is
// cancelled, as a context.WithDeadline cancelled at the end of the bake
// would be.
type gateContext struct {
	context.Context // the Run's

	timing   BakeTiming
	deadline time.Time // on the wall clock

	armed  context.Context // context.WithDeadline(cut's context, deadline), or released
	cancel context.CancelFunc
	cutAt  context.CancelCauseFunc // cancels armed with a cause
	once   sync.Once
	isCut  atomic.Bool
	timed  bool // timing is a bake's
	// closes is set when the round's end fails its gates closed: a
	// bake's past its deadline, or fresh evidence's past the grace (see
	// judging.takeOver).
	closes bool
}

// released is a gateContext's armed context after release when no gate
// armed it.
var released = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// newGateContext returns the gates' context for a bake timed t, bounded
// after wait on the wall clock.
func newGateContext(ctx context.Context, t BakeTiming, wait time.Duration) *gateContext {
	return &gateContext{Context: ctx, timing: t, timed: true, closes: true, deadline: time.Now().Add(wait)}
}

// newWatchContext returns the gates' context for a round of the watch
// (outside a bake: no bake timing), bounded after wait on the wall clock.
func newWatchContext(ctx context.Context, wait time.Duration) *gateContext {
	return &gateContext{Context: ctx, deadline: time.Now().Add(wait)}
}

// arm returns the context the gates' Done, Err and values come from.
func (c *gateContext) arm() context.Context {
	c.once.Do(func() {
		cctx, cut := context.WithCancelCause(c.Context)
		c.armed, c.cancel = context.WithDeadline(cctx, c.deadline)
		c.cutAt = cut
	})
	return c.armed
}

// cut cuts the gates short with cause (an abort, a closing window).
func (c *gateContext) cut(cause error) {
	c.isCut.Store(true)
	c.arm()
	if c.cutAt != nil {
		c.cutAt(cause)
	}
}

// release ends the context: the bake, or the watch's round, is over.
func (c *gateContext) release() {
	c.once.Do(func() { c.armed = released })
	if c.cancel != nil {
		c.cancel()
		c.cutAt(nil)
	}
}

// Deadline implements context.Context.
func (c *gateContext) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done implements context.Context.
func (c *gateContext) Done() <-chan struct{} { return c.arm().Done() }

// Err implements context.Context.
func (c *gateContext) Err() error { return c.arm().Err() }

// Value implements context.Context: the bake's timing, or a value of the
// Run's context (through the armed context, so that context.Cause sees
// the deadline).
func (c *gateContext) Value(key any) any {
	if _, ok := key.(bakeTimingKey); ok {
		if !c.timed {
			return nil
		}
		return &c.timing
	}
	if a := c.arm(); a != released {
		return a.Value(key)
	}
	return c.Context.Value(key)
}
