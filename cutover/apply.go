package cutover

import (
	"context"
	"errors"
	"fmt"
)

// apply applies and verifies stage i, whose intent is journaled.
func (d *drive) apply(ctx context.Context, i int) error {
	s := &d.p.Stages[i]
	d.emit(EvStageStarted, i, nil, "applying")
	var action string
	var err error
	backoff := d.o.RevertBackoff
	for attempt := 1; ; attempt++ {
		action = "apply"
		err = d.call(ctx, i, s.Apply)
		if err == nil && s.Verify != nil {
			action = "verify"
			err = d.call(ctx, i, s.Verify)
		}
		if err == nil || attempt >= d.o.ApplyAttempts || s.Reversibility.Kind == KindIrreversible || ctx.Err() != nil || d.leaseLost() {
			break
		}
		// Journaled like a failed revert attempt: the RecApplied that
		// ends the retries sets the cutover running again.
		se := &StageError{Stage: s.Name, Action: action, Err: err}
		if jerr := d.append(ctx, Record{Type: RecApplyFailed, Stage: s.Name, Index: i, Attempt: attempt, Error: se.Error()}); jerr != nil {
			return d.stopped(ctx, jerr)
		}
		d.emit(EvApplyRetry, i, se, fmt.Sprintf("apply attempt %d of %d failed; trying again", attempt, d.o.ApplyAttempts))
		if serr := d.sleep(ctx, backoff); serr != nil {
			return serr
		}
		backoff = min(2*backoff, maxRevertBackoff)
	}
	if err != nil {
		if d.leaseLost() {
			return d.stopped(ctx, err)
		}
		if s.Reversibility.Kind == KindIrreversible {
			return d.rollForward(ctx, i, &StageError{Stage: s.Name, Action: action, Err: err})
		}
		se := &StageError{Stage: s.Name, Action: action, Err: err}
		var cause error = se
		if ctx.Err() != nil {
			cause = context.Cause(ctx)
		}
		// The stage may be partly applied: journal that, then roll back
		// (which reverts it too). A cancelled caller's rollback journals
		// on a context of its own.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
		if jerr := d.append(actx, Record{Type: RecApplyFailed, Stage: s.Name, Index: i, Error: se.Error()}); jerr != nil {
			return d.stopped(ctx, jerr)
		}
		return &rollbackCause{cause: cause}
	}
	if err := d.append(ctx, Record{Type: RecApplied, Stage: s.Name, Index: i}); err != nil {
		return d.stopped(ctx, err)
	}
	d.marks[i].flags |= markAppliedHere
	if s.Reversibility.Kind == KindIrreversible {
		d.emit(EvPNRCrossed, i, nil, "irreversible stage applied")
	}
	d.emit(EvStageApplied, i, nil, "applied")
	return nil
}

// rollForward finishes irreversible stage i, whose Apply or Verify failed
// with first: such a stage cannot be reverted (it may have partly
// happened), so it is applied again, with exponential backoff, on a context
// of its own bounded by RevertTimeout, as a rollback would be. Each failed
// attempt is journaled as RecApplyFailed, under the stage's one apply
// intent (as failed reverts are under their one revert intent); the
// RecApplied that ends it sets the cutover running again. When the bound
// runs out, the
// cutover is journaled as failed with ErrPNRCrossed, and a later Run applies
// the stage again.
func (d *drive) rollForward(ctx context.Context, i int, first *StageError) error {
	s := &d.p.Stages[i]
	base := context.WithoutCancel(ctx)
	fctx, cancel := context.WithTimeout(base, d.o.RevertTimeout)
	defer cancel()
	jctx, jcancel := context.WithTimeout(base, d.o.RevertTimeout+finishTimeout)
	defer jcancel()
	if d.leaseCtx != nil {
		defer context.AfterFunc(d.leaseCtx, cancel)()
		defer context.AfterFunc(d.leaseCtx, jcancel)()
	}
	backoff := d.o.RevertBackoff
	err := first
	for attempt := 1; ; attempt++ {
		if jerr := d.append(jctx, Record{Type: RecApplyFailed, Stage: s.Name, Index: i, Attempt: attempt, Error: err.Error()}); jerr != nil {
			return d.stopped(ctx, jerr)
		}
		msg := fmt.Sprintf("irreversible stage failed to apply (attempt %d); it cannot be reverted, so it is applied again", attempt)
		d.emit(EvApplyRetry, i, err, msg)
		select {
		case <-fctx.Done():
			if d.leaseLost() {
				return d.stopped(ctx, err)
			}
			out := fmt.Sprintf("%s at stage %q: apply keeps failing (%d attempts): %s; a later Run applies it again", ErrPNRCrossed, s.Name, attempt, err)
			fc, fcancel := context.WithTimeout(base, finishTimeout)
			defer fcancel()
			if jerr := d.append(fc, Record{Type: RecFailed, Stage: s.Name, Index: i, Error: out}); jerr != nil {
				return errors.Join(err, jerr)
			}
			return &outcomeError{kind: ErrPNRCrossed, cause: err, detail: errors.New(out)}
		case <-d.clock.After(backoff):
		}
		backoff = min(2*backoff, maxRevertBackoff)
		action := "apply"
		aerr := d.call(fctx, i, s.Apply)
		if aerr == nil && s.Verify != nil {
			action = "verify"
			aerr = d.call(fctx, i, s.Verify)
		}
		if aerr == nil {
			break
		}
		err = &StageError{Stage: s.Name, Action: action, Err: aerr}
	}
	if jerr := d.append(jctx, Record{Type: RecApplied, Stage: s.Name, Index: i}); jerr != nil {
		return d.stopped(ctx, jerr)
	}
	d.marks[i].flags |= markAppliedHere
	d.emit(EvPNRCrossed, i, nil, "irreversible stage applied")
	d.emit(EvStageApplied, i, nil, "applied")
	return nil
}
