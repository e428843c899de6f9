package cutover

import (
	"context"
	"sync"
	"time"
)

// gateContext is the context a bake's gates are evaluated in: the Run's
// context carrying the bake's timing (BakeTimingFrom) and bounded by the
// bake's deadline plus a poll, so that a gate that ignores its own timeouts
// cannot hold the cutover past it.
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

	once   sync.Once
	armed  context.Context // context.WithDeadline(Context, deadline), or released
	cancel context.CancelFunc
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
	return &gateContext{Context: ctx, timing: t, deadline: time.Now().Add(wait)}
}

// arm returns the context the gates' Done, Err and values come from.
func (c *gateContext) arm() context.Context {
	c.once.Do(func() { c.armed, c.cancel = context.WithDeadline(c.Context, c.deadline) })
	return c.armed
}

// release ends the context: the bake is over.
func (c *gateContext) release() {
	c.once.Do(func() { c.armed = released })
	if c.cancel != nil {
		c.cancel()
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
		return &c.timing
	}
	if a := c.arm(); a != released {
		return a.Value(key)
	}
	return c.Context.Value(key)
}
