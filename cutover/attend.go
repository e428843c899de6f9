package cutover

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// attend attends to the journal while a stage's call runs on the drive's
// goroutine, until fdone is closed (the call returned) or ctx is done:
// every poll interval it takes in the commands sent meanwhile and answers
// them (RecAck), so that a slow or hung Apply, Verify or Revert does not
// leave an operator unanswered. When stop returns a cause — an abort, a
// reversibility window about to close unapproved — the call's context is
// cancelled with it and the cause is kept in d.cut for the caller: Apply
// and Revert honour their context (the Stage contract), and the caller
// waits for the call to return before it rolls back, so that a rollback
// never runs beside an Apply still moving traffic. With waitFirst it waits
// a poll interval before it first attends; without, a poll interval has
// already passed.
//
// While it runs, the drive's goroutine is inside the call and touches the
// drive only through the stage handle, under d.mu; attend is the drive's
// goroutine for everything else until it returns.
//
// A journal that cannot be read or written here is logged and left to
// the next append after the call, which stops the drive if it is really
// gone.
func (d *drive) attend(ctx context.Context, fdone <-chan struct{}, cancel context.CancelCauseFunc, stop func() error, waitFirst bool) {
	for {
		if waitFirst {
			fired := d.after(d.o.PollInterval)
			select {
			case <-fdone:
				d.stopAfter()
				return
			case <-ctx.Done():
				// The call's context is done too: nothing more to attend to.
				d.stopAfter()
				return
			case <-fired:
			}
		}
		waitFirst = true
		if err := d.pull(ctx); err != nil {
			d.log.Warn("poll journal during a stage call", zap.String("cutover", d.id), zap.Error(err))
		}
		if err := d.answer(ctx); err != nil {
			d.log.Warn("answer commands during a stage call", zap.String("cutover", d.id), zap.Error(err))
		}
		if stop == nil {
			continue
		}
		if c := stop(); c != nil {
			d.cut = c
			cancel(c)
			return
		}
	}
}

// attendLater starts attend once a poll interval has passed, unless the
// returned stop function is called first; that function waits for attend
// if it started, and is called when the call returned. On the real and the
// scaled clock nothing but a timer exists until then, so a call that
// returns within a poll interval (nearly all of them) costs no goroutine;
// on another clock attend starts on a goroutine at once and waits itself.
func (d *drive) attendLater(ctx context.Context, cancel context.CancelCauseFunc, stop func() error) (called func()) {
	fdone, adone := make(chan struct{}), make(chan struct{})
	run := func(waitFirst bool) {
		defer close(adone)
		d.attend(ctx, fdone, cancel, stop, waitFirst)
	}
	if wall, ok := d.wall(d.o.PollInterval); ok {
		t := time.AfterFunc(wall, func() { run(false) })
		return func() {
			close(fdone)
			if !t.Stop() {
				<-adone
			}
		}
	}
	go run(true)
	return func() {
		close(fdone)
		<-adone
	}
}

// stopApply is the stop of a reversible stage's Apply or Verify under
// attend: an abort in the journal, or an unapproved reversibility window
// of an earlier stage that would close within a poll interval, cuts the
// call short so that the runner rolls back at once. An irreversible stage
// is never cut short: an abort waits until it is finished (see poll).
func (d *drive) stopApply() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.st.Aborted {
		return ErrAborted
	}
	var rb *rollbackCause
	if err := d.windows(); errors.As(err, &rb) {
		return rb.cause
	}
	return nil
}

// callThen returns f(ctx), calling then when f returns or panics.
func callThen(ctx context.Context, f func(context.Context) error, then func()) error {
	defer then()
	return f(ctx)
}

// stageHandle lets Remember and Recall find the stage being applied or
// reverted from the ctx passed to Apply or Revert.
type stageHandle struct {
	d      *drive
	i      int
	closed bool // guarded by d.mu
}

type stageKey struct{}

// call runs f (Apply, Verify or Revert of stage i) with a stage context,
// attending to the journal while it runs (see attend). stop, if not nil,
// is asked at each poll whether to cut f short.
func (d *drive) call(ctx context.Context, i int, f func(context.Context) error, stop func() error) error {
	h := &stageHandle{d: d, i: i}
	cctx, cancel := context.WithCancelCause(context.WithValue(ctx, stageKey{}, h))
	defer cancel(nil)
	err := callThen(cctx, f, d.attendLater(ctx, cancel, stop))
	d.mu.Lock()
	h.closed = true
	d.mu.Unlock()
	return err
}
