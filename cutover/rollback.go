package cutover

import (
	"context"
	"errors"
	"fmt"
)

// rollback reverts the applied stages in reverse order, on a context of its
// own bounded by RevertTimeout, and journals the outcome.
func (d *drive) rollback(ctx context.Context, cause error) error {
	if d.leaseLost() {
		return fmt.Errorf("cutover %s: %w", d.id, context.Cause(d.leaseCtx))
	}
	if cause == nil {
		cause = errors.New("rollback")
	}
	rctx, cancel := detached(ctx, d.o.RevertTimeout, d.leaseCtx)
	defer cancel()
	// Journal appends get a little longer than the reverts, so that the
	// outcome of the last attempt is journaled.
	jctx, jcancel := detached(ctx, d.o.RevertTimeout+finishTimeout, d.leaseCtx)
	defer jcancel()
	d.emit(EvRollingBack, -1, cause, "rolling back")

	causeText := cause.Error()
	reverted, crossed := 0, -1
	for i := len(d.p.Stages) - 1; i >= 0; i-- {
		ss := &d.st.Stages[i]
		if !touched(ss.Status) {
			continue
		}
		if !revertible(d.p, ss, i, d.clock.Now()) && !d.stillRevertible(rctx, i) {
			crossed = i
			break
		}
		if err := d.revert(rctx, jctx, i, causeText); err != nil {
			if d.leaseLost() {
				return fmt.Errorf("cutover %s: %w", d.id, context.Cause(d.leaseCtx))
			}
			msg := fmt.Sprintf("%s: %s; cause: %s", ErrRollbackIncomplete, err, causeText)
			fctx, fcancel := detached(ctx, finishTimeout, nil)
			defer fcancel()
			if jerr := d.append(fctx, Record{Type: RecFailed, Stage: d.p.Stages[i].Name, Index: i, Error: msg}); jerr != nil {
				err = errors.Join(err, jerr)
			}
			d.emit(EvFailed, i, err, msg)
			return &outcomeError{kind: ErrRollbackIncomplete, cause: cause, detail: err}
		}
		reverted++
	}
	if crossed >= 0 {
		out := &outcomeError{kind: ErrPNRCrossed, cause: cause,
			detail: fmt.Errorf("stage %q can no longer be reverted", d.p.Stages[crossed].Name)}
		if d.st.Phase == PhaseFailed && reverted == 0 {
			return out
		}
		msg := fmt.Sprintf("%s at stage %q: %s; once green is fixed, send resume and run again to go on", ErrPNRCrossed, d.p.Stages[crossed].Name, causeText)
		if errors.Is(cause, ErrPNRNotApproved) {
			// A window closed while no runner watched it (the process
			// died): an incident, never an approved crossing.
			msg = fmt.Sprintf("%s at stage %q without approval (incident): %s; no approval can be given after the fact", ErrPNRCrossed, d.p.Stages[crossed].Name, causeText)
		}
		if err := d.append(jctx, Record{Type: RecFailed, Stage: d.p.Stages[crossed].Name, Index: crossed, Error: msg}); err != nil {
			out.detail = err
			return out
		}
		d.emit(EvFailed, crossed, cause, msg)
		return out
	}
	if err := d.append(jctx, Record{Type: RecRolledBack, Error: causeText}); err != nil {
		return &outcomeError{kind: ErrRollbackIncomplete, cause: cause, detail: err}
	}
	d.emit(EvRolledBack, -1, cause, "rolled back")
	return &outcomeError{kind: ErrRolledBack, cause: cause}
}

// revert reverts stage i, retrying with exponential backoff until rctx is
// done. Journal appends use jctx.
func (d *drive) revert(rctx, jctx context.Context, i int, cause string) error {
	s := &d.p.Stages[i]
	if d.st.Stages[i].Status != StageReverting {
		if err := d.append(jctx, Record{Type: RecIntent, Stage: s.Name, Index: i, Action: actionRevert, Error: cause}); err != nil {
			return err
		}
	}
	r, err := d.retry(rctx, retryLoop{
		first: d.st.Stages[i].RevertAttempts + 1,
		try: func() error {
			if err := rctx.Err(); err != nil {
				return &StageError{Stage: s.Name, Action: "revert", Err: err}
			}
			if err := d.call(rctx, i, s.Revert, nil); err != nil {
				return &StageError{Stage: s.Name, Action: "revert", Err: err}
			}
			return nil
		},
		// A permanent error is not tried again: the rollback stops
		// incomplete at once, and the journal says which stage is left.
		stop: func(_ int, err error) bool {
			return rctx.Err() == nil && !d.o.Transient(err)
		},
		failed: func(attempt int, err error) error {
			se := err.(*StageError)
			if jerr := d.append(jctx, Record{Type: RecRevertFailed, Stage: s.Name, Index: i, Attempt: attempt, Error: se.Err.Error()}); jerr != nil {
				return errors.Join(se, jerr)
			}
			d.emit(EvRevertFailed, i, se, fmt.Sprintf("revert attempt %d failed", attempt))
			return nil
		},
	})
	if err != nil {
		return err
	}
	if r.cut {
		return fmt.Errorf("%w (gave up after attempt %d: %w)", r.err, r.attempts, context.Cause(rctx))
	}
	if r.err != nil {
		se := r.err.(*StageError)
		if jerr := d.append(jctx, Record{Type: RecRevertFailed, Stage: s.Name, Index: i, Attempt: r.attempts, Error: se.Err.Error()}); jerr != nil {
			return errors.Join(se, jerr)
		}
		return fmt.Errorf("%w (attempt %d: a permanent error, not tried again)", se, r.attempts)
	}
	if err := d.append(jctx, Record{Type: RecReverted, Stage: s.Name, Index: i}); err != nil {
		return err
	}
	d.emit(EvStageReverted, i, nil, "reverted")
	return nil
}

// stillRevertible asks stage i, whose window has closed, whether its
// Revert works all the same (Stage.StillRevertible); an error is a no.
func (d *drive) stillRevertible(ctx context.Context, i int) bool {
	s := &d.p.Stages[i]
	if s.StillRevertible == nil || s.Reversibility.Kind != KindWindow {
		return false
	}
	// Called like Revert, so that it can Recall what Apply remembered.
	var ok bool
	err := d.call(ctx, i, func(ctx context.Context) error {
		var err error
		ok, err = s.StillRevertible(ctx)
		return err
	}, nil)
	if err != nil {
		d.emit(EvRevertFailed, i, err, "cannot tell whether the stage can still be reverted after its window; taking it as crossed")
		return false
	}
	return ok
}
