package cutover

import (
	"context"
	"errors"

	"go.uber.org/zap"
)

// attend waits for a stage's call to return its error on done, and, every
// poll interval until it does, takes in the commands sent meanwhile and
// answers them (RecAck), so that a slow or hung Apply, Verify or Revert
// does not leave an operator unanswered. When stop returns a cause — an
// abort, a reversibility window about to close unapproved — the call's
// context is cancelled with it, the cause is kept in d.cut for the caller,
// and attend waits for the call to return: Apply and Revert honour their
// context (the Stage contract), and a rollback must not run beside an
// Apply still moving traffic.
//
// A journal that cannot be read or written here is logged and left to
// the next append after the call, which stops the drive if it is really
// gone.
func (d *drive) attend(ctx context.Context, done <-chan error, cancel context.CancelCauseFunc, stop func() error) error {
	for {
		fired := d.after(d.o.PollInterval)
		select {
		case err := <-done:
			d.stopAfter()
			return err
		case <-ctx.Done():
			// The call's context is done too: nothing more to attend to.
			d.stopAfter()
			return <-done
		case <-fired:
		}
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
			return <-done
		}
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
