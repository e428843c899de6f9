package cutover

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// apply applies and verifies stage i, whose intent is journaled.
func (d *drive) apply(ctx context.Context, i int) error {
	s := &d.p.Stages[i]
	d.emit(EvStageStarted, i, nil, "applying")
	irreversible := s.Reversibility.Kind == KindIrreversible
	// An abort or a closing window cuts a reversible stage's slow call
	// short (see attend); an irreversible one is finished first.
	var stop func() error
	if !irreversible {
		stop = d.stopApply
	}
	r, err := d.retry(ctx, retryLoop{
		first: 1,
		try:   func() error { return d.applyOnce(ctx, i, stop) },
		// Irreversible stages are not retried here: rollForward does. A
		// permanent error, or a call cut short, rolls back at once.
		stop: func(attempt int, err error) bool {
			return attempt >= d.o.ApplyAttempts || irreversible || ctx.Err() != nil || d.leaseLost() || d.cut != nil || !d.o.Transient(err)
		},
		// Journaled like a failed revert attempt: the RecApplied that
		// ends the retries sets the cutover running again.
		failed: func(attempt int, err error) error {
			if jerr := d.append(ctx, Record{Type: RecApplyFailed, Stage: s.Name, Index: i, Attempt: attempt, Error: err.Error()}); jerr != nil {
				return d.stopped(ctx, jerr)
			}
			d.emit(EvApplyRetry, i, err, fmt.Sprintf("apply attempt %d of %d failed; trying again", attempt, d.o.ApplyAttempts))
			return nil
		},
		// Between attempts commands are taken in and green is judged.
		wait: func(dur time.Duration) error { return d.waitWatched(ctx, dur) },
	})
	cut := d.cut
	d.cut = nil
	if err != nil {
		return err
	}
	if gf, ok := cut.(*GateFailedError); ok {
		// Green failed while the call waited (waitedInCall): the
		// journal shows the evidence before the rollback, as after a
		// bake.
		if err := d.journalFail(ctx, gf); err != nil {
			return err
		}
	}
	if r.cut {
		return d.stopped(ctx, ctx.Err())
	}
	if r.err != nil {
		if d.leaseLost() {
			return d.stopped(ctx, r.err)
		}
		se := r.err.(*StageError)
		if irreversible {
			return d.rollForward(ctx, i, se)
		}
		var cause error = se
		if cut != nil {
			cause = cut
		}
		if ctx.Err() != nil {
			cause = context.Cause(ctx)
		}
		if errors.Is(cause, ErrSuspended) {
			// Not a failure: the stage stays applying in the journal,
			// and the next Run applies it again (Apply is idempotent).
			return &rollbackCause{cause: cause}
		}
		// The stage may be partly applied: journal that, then roll back
		// (which reverts it too). A cancelled caller's rollback journals
		// on a context of its own.
		actx, cancel := detached(ctx, finishTimeout, nil)
		defer cancel()
		if jerr := d.append(actx, Record{Type: RecApplyFailed, Stage: s.Name, Index: i, Error: se.Error()}); jerr != nil {
			return d.stopped(ctx, jerr)
		}
		return &rollbackCause{cause: cause}
	}
	if err := d.append(ctx, Record{Type: RecApplied, Stage: s.Name, Index: i}); err != nil {
		return d.stopped(ctx, err)
	}
	d.applied(i)
	if gf, ok := cut.(*GateFailedError); ok {
		// The call finished although green failed while it waited:
		// roll back all the same, this stage too.
		return &rollbackCause{cause: gf}
	}
	return nil
}

// journalFail journals and sends the Fail that cut a stage's call short
// (see waitedInCall), as the watch would have.
func (d *drive) journalFail(ctx context.Context, gf *GateFailedError) error {
	w := d.p.index(gf.Stage)
	st := gateState{name: gf.Gate, cur: gf.Verdict}
	if err := d.journalVerdict(ctx, w, &st); err != nil {
		return err
	}
	if d.obs != nil || d.logOn {
		d.emitVerdict(w, &st, d.clock.Now().Sub(d.st.Stages[w].AppliedAt))
	}
	return nil
}

// applyOnce calls stage i's Apply and then its Verify, and returns a
// *StageError saying which failed, or nil. stop is attend's.
func (d *drive) applyOnce(ctx context.Context, i int, stop func() error) error {
	s := &d.p.Stages[i]
	if err := d.call(ctx, i, s.Apply, stop); err != nil {
		return &StageError{Stage: s.Name, Action: "apply", Err: err}
	}
	if s.Verify != nil {
		if err := d.call(ctx, i, s.Verify, stop); err != nil {
			return &StageError{Stage: s.Name, Action: "verify", Err: err}
		}
	}
	return nil
}

// applied notes that this Run applied stage i, and says so.
func (d *drive) applied(i int) {
	d.marks[i].flags |= markAppliedHere
	if d.p.Stages[i].Reversibility.Kind == KindIrreversible {
		d.emit(EvPNRCrossed, i, nil, "irreversible stage applied")
	}
	d.emit(EvStageApplied, i, nil, "applied")
}

// rollForward finishes irreversible stage i, whose Apply or Verify failed
// with first: such a stage cannot be reverted (it may have partly
// happened), so it is applied again, with exponential backoff, on a context
// of its own bounded by RevertTimeout, as a rollback would be. Each failed
// attempt is journaled as RecApplyFailed, under the stage's one apply
// intent (as failed reverts are under their one revert intent); the
// RecApplied that ends it sets the cutover running again. When the bound
// runs out, the cutover is journaled as failed with ErrPNRCrossed, and a
// later Run applies the stage again.
func (d *drive) rollForward(ctx context.Context, i int, first *StageError) error {
	s := &d.p.Stages[i]
	fctx, cancel := detached(ctx, d.o.RevertTimeout, d.leaseCtx)
	defer cancel()
	jctx, jcancel := detached(ctx, d.o.RevertTimeout+finishTimeout, d.leaseCtx)
	defer jcancel()
	r, err := d.retry(fctx, retryLoop{
		first: 1,
		err:   first,
		try:   func() error { return d.applyOnce(fctx, i, nil) },
		failed: func(attempt int, err error) error {
			if jerr := d.append(jctx, Record{Type: RecApplyFailed, Stage: s.Name, Index: i, Attempt: attempt, Error: err.Error()}); jerr != nil {
				return d.stopped(ctx, jerr)
			}
			msg := fmt.Sprintf("irreversible stage failed to apply (attempt %d); it cannot be reverted, so it is applied again", attempt)
			d.emit(EvApplyRetry, i, err, msg)
			return nil
		},
	})
	if err != nil {
		return err
	}
	if r.cut {
		if d.leaseLost() {
			return d.stopped(ctx, r.err)
		}
		out := fmt.Sprintf("%s at stage %q: apply keeps failing (%d attempts): %s; a later Run applies it again", ErrPNRCrossed, s.Name, r.attempts, r.err)
		fc, fcancel := detached(ctx, finishTimeout, nil)
		defer fcancel()
		if jerr := d.append(fc, Record{Type: RecFailed, Stage: s.Name, Index: i, Error: out}); jerr != nil {
			return errors.Join(r.err, jerr)
		}
		return &outcomeError{kind: ErrPNRCrossed, cause: r.err, detail: errors.New(out)}
	}
	if jerr := d.append(jctx, Record{Type: RecApplied, Stage: s.Name, Index: i}); jerr != nil {
		return d.stopped(ctx, jerr)
	}
	d.applied(i)
	return nil
}

// intendApply journals the intent to apply stage i. (A revert's intent
// is journaled by revert, on the rollback's own context.)
func (d *drive) intendApply(ctx context.Context, i int) error {
	if err := d.append(ctx, Record{Type: RecIntent, Stage: d.p.Stages[i].Name, Index: i, Action: actionApply}); err != nil {
		return d.stopped(ctx, err)
	}
	return nil
}

// notBaked is the cause of a rollback when stage i is not baked in the
// journal where forward expects it to be.
func (d *drive) notBaked(i int) error {
	return &rollbackCause{cause: fmt.Errorf("stage %q is %s in the journal while the cutover runs forward", d.p.Stages[i].Name, d.st.Stages[i].Status)}
}
