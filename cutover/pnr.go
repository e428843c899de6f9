package cutover

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// windows warns before reversibility windows close and rolls back while it
// still can when one would close, within a poll interval, unapproved.
func (d *drive) windows() error { return d.windowsWithin(d.o.PollInterval) }

// windowsWithin is windows, rolling back when a window would close
// unapproved within ahead.
func (d *drive) windowsWithin(ahead time.Duration) error {
	now := d.clock.Now()
	for i := range d.p.Stages {
		s := &d.p.Stages[i]
		if s.Reversibility.Kind != KindWindow {
			continue
		}
		ss := &d.st.Stages[i]
		if (ss.Status != StageApplied && ss.Status != StageBaked) || ss.AppliedAt.IsZero() {
			continue
		}
		closes := ss.AppliedAt.Add(s.Reversibility.Window)
		m := &d.marks[i]
		if now.Before(closes) && m.flags&markWarned == 0 && !now.Before(closes.Add(-d.o.PNRWarning)) {
			m.flags |= markWarned
			d.emit(EvPNRApproaching, i, nil, "reversibility window closes at "+closes.Format(time.RFC3339))
		}
		if a, ok := approval(d.p, &d.st, i); ok {
			d.approved(i, a)
			if !now.Before(closes) && m.flags&markCrossed == 0 {
				m.flags |= markCrossed
				d.emit(EvPNRCrossed, i, nil, "approved reversibility window closed")
			}
			continue
		}
		if !now.Before(closes) {
			return &rollbackCause{cause: fmt.Errorf("stage %q: reversibility window closed at %s without approval: %w", s.Name, closes.Format(time.RFC3339), ErrPNRNotApproved)}
		}
		if !now.Add(ahead).Before(closes) {
			return &rollbackCause{cause: fmt.Errorf("stage %q: reversibility window closes at %s without approval: %w", s.Name, closes.Format(time.RFC3339), ErrPNRNotApproved)}
		}
	}
	return nil
}

// approved emits EvApproved once per stage.
func (d *drive) approved(i int, a Approval) {
	if d.marks[i].flags&markApproved != 0 {
		return
	}
	d.marks[i].flags |= markApproved
	if d.obs != nil || d.logOn {
		d.emit(EvApproved, i, nil, fmt.Sprintf("approved by %s: %s", a.Actor, a.Reason))
	}
}

// approve returns nil once stage i may be applied: it needs no approval or
// the journal holds a valid one. Otherwise it journals RecWaiting and
// returns ErrPNRNotApproved, or waits with RunnerOptions.WaitForApproval.
func (d *drive) approve(ctx context.Context, i int) error {
	s := &d.p.Stages[i]
	if !needsApproval(s) {
		return nil
	}
	return d.await(ctx, i, actionApply, func() bool {
		a, ok := approval(d.p, &d.st, i)
		if ok {
			d.approved(i, a)
		}
		return ok
	})
}

// await waits for ok to hold, journaling RecWaiting for what (an action on
// stage i) once, and watching green meanwhile. Without WaitForApproval it
// returns ErrPNRNotApproved instead of waiting for an apply; an open
// reversibility window is never left unattended: the runner waits for its
// approval and rolls back before it closes unapproved (see windows).
func (d *drive) await(ctx context.Context, i int, what string, ok func() bool) error {
	s := &d.p.Stages[i]
	for !ok() {
		var msg string
		if what == actionApply {
			msg = fmt.Sprintf("stage %q (%s) needs an approval before it is applied", s.Name, s.Reversibility)
		} else {
			msg = fmt.Sprintf("stage %q: reversibility window needs an approval before it closes", s.Name)
		}
		if d.st.Phase != PhaseWaiting || d.waiting != what+":"+s.Name {
			if err := d.append(ctx, Record{Type: RecWaiting, Stage: s.Name, Index: i, Action: what, Error: msg}); err != nil {
				return d.stopped(ctx, err)
			}
		}
		if d.marks[i].flags&markWaitEvent == 0 {
			d.marks[i].flags |= markWaitEvent
			d.emit(EvWaitingApproval, i, nil, msg)
		}
		if !d.o.WaitForApproval && what == actionApply {
			return fmt.Errorf("cutover %s: %s: %w", d.id, msg, ErrPNRNotApproved)
		}
		if err := d.watchPoll(ctx, d.o.PollInterval); err != nil {
			return err
		}
	}
	return nil
}

// finish completes the cutover once no reversibility window is open
// without an approval.
func (d *drive) finish(ctx context.Context) error {
	for {
		open := -1
		for i := range d.p.Stages {
			s := &d.p.Stages[i]
			ss := &d.st.Stages[i]
			if s.Reversibility.Kind != KindWindow || ss.Status != StageBaked || ss.AppliedAt.IsZero() {
				continue
			}
			if _, ok := approval(d.p, &d.st, i); !ok {
				open = i
				break
			}
		}
		if open < 0 {
			break
		}
		// poll rolls back if the window would close before approval.
		err := d.await(ctx, open, "close", func() bool {
			_, ok := approval(d.p, &d.st, open)
			return ok
		})
		if err != nil {
			return err
		}
	}
	// A command that came in during the last stage is answered too.
	if err := d.answer(ctx); err != nil {
		return err
	}
	if err := d.append(ctx, Record{Type: RecCompleted}); err != nil {
		return d.stopped(ctx, err)
	}
	d.emit(EvCompleted, -1, nil, "completed")
	return nil
}

// PNRStatus is the point-of-no-return tracker's view of a cutover at a
// moment.
type PNRStatus struct {
	// Index and Stage name the PNR: the first stage that is irreversible or
	// reversible only within a window. Index is -1 if the plan has none.
	Index int
	Stage string
	// CanRollBack is true while every applied stage can still be reverted.
	CanRollBack bool
	// Until is when the earliest open window closes; zero if none is open.
	Until time.Time
	// Crossed is true once rollback is no longer possible.
	Crossed bool
	// Approved is true when the journal holds a valid approval for the PNR;
	// ApprovedBy and ApprovalReason say who and why.
	Approved       bool
	ApprovedBy     string
	ApprovalReason string
	// Judged is when green was last judged as the journal shows it, and
	// Judgement the decision then (see State.Judged); zero before any
	// verdict.
	Judged    time.Time
	Judgement Decision
}

// needsApproval reports whether s may be applied only with an approval.
func needsApproval(s *Stage) bool {
	return s.Approval || s.Reversibility.Kind == KindIrreversible
}

// pnrIndex returns the index of the first stage of p that is not fully
// reversible, or -1.
func pnrIndex(p *Plan) int {
	for i := range p.Stages {
		if p.Stages[i].Reversibility.Kind != KindReversible {
			return i
		}
	}
	return -1
}

// CheckApproval is the approval rule. Every part of the module that asks
// whether an approval counts asks it (the runner, Track, Send, cutoverctl,
// health.NewApproval); none has a copy.
//
// cmd is an approve command of the cutover whose journal folds to st, of
// plan p (the runner's plan, or JournalPlan of the journal). CheckApproval
// returns nil when cmd is valid, otherwise an error naming the field at
// fault:
//
//   - Actor must be set: an approval says who gave it;
//   - with the two-person rule of the journal's start record
//     (State.TwoPerson), Actor must not be the initiator;
//   - when the start was signed (State.InitiatorKey: approvers are
//     configured), the approval must be signed too, and under the
//     two-person rule by another key than the start: keys are compared,
//     never typed names;
//   - Stage, if set, must be a stage of p, and if that stage has a
//     reversibility window that has already closed, the approval came too
//     late: a window that closed unapproved was crossed without approval,
//     and no later record turns that into an approved crossing.
//
// An approve command naming no stage approves every approval point of the
// cutover, except windows that closed before it was written.
func CheckApproval(p *Plan, st *State, cmd *Record) error {
	if cmd.Type != RecCommand || cmd.Command != CmdApprove {
		return fmt.Errorf("record seq %d: command: %s %q; want an approve command", cmd.Seq, cmd.Type, cmd.Command)
	}
	if cmd.Actor == "" {
		return errors.New("actor: empty; want who gives the approval")
	}
	if st.InitiatorKey != "" {
		if cmd.Signed == nil || cmd.Signed.Key == "" {
			return errors.New("signature: none; this cutover's start was signed, so an approval must be signed by an approver's key")
		}
		if st.TwoPerson && cmd.Signed.Key == st.InitiatorKey {
			return fmt.Errorf("signature: key %s started this cutover and its journal has the two-person rule on; want another person's key", cmd.Signed.Key)
		}
	} else if st.TwoPerson && cmd.Actor == st.Initiator {
		return fmt.Errorf("actor: %s started this cutover and its journal has the two-person rule on; want another person", cmd.Actor)
	}
	if cmd.Stage == "" {
		return nil
	}
	i := p.index(cmd.Stage)
	if i < 0 {
		return fmt.Errorf("stage: %q: plan %q has no such stage; want one of %q", cmd.Stage, p.Name, p.names())
	}
	if closed, ok := windowClose(p, st, i); ok && !cmd.Time.Before(closed) {
		return fmt.Errorf("stage: %q: its reversibility window closed at %s, before this approval (%s); a window crossed without approval stays so",
			cmd.Stage, closed.UTC().Format(time.RFC3339), cmd.Time.UTC().Format(time.RFC3339))
	}
	return nil
}

// windowClose returns when the reversibility window of stage i closes, if
// the stage has one and it has opened (the stage was applied).
func windowClose(p *Plan, st *State, i int) (time.Time, bool) {
	r := p.Stages[i].Reversibility
	if r.Kind != KindWindow || i >= len(st.Stages) || st.Stages[i].AppliedAt.IsZero() {
		return time.Time{}, false
	}
	return st.Stages[i].AppliedAt.Add(r.Window), true
}

// record returns the approve command a was taken from, as CheckApproval
// judges it.
func (a *Approval) record() Record {
	rec := Record{Type: RecCommand, Command: CmdApprove, Seq: a.Seq, Time: a.Time, Actor: a.Actor, Reason: a.Reason, Stage: a.Stage}
	if a.Identity != "" {
		rec.Signed = &Signature{Key: a.Identity}
	}
	return rec
}

// approval returns the first approval in st that is valid (CheckApproval)
// and approves stage i of p: one naming that stage, or naming none and
// written before the stage's window, if any, closed.
func approval(p *Plan, st *State, i int) (Approval, bool) {
	name := p.Stages[i].Name
	closed, windowed := windowClose(p, st, i)
	for k := range st.Approvals {
		a := &st.Approvals[k]
		if a.Stage != "" && a.Stage != name || windowed && !a.Time.Before(closed) {
			continue
		}
		if rec := a.record(); CheckApproval(p, st, &rec) != nil {
			continue
		}
		return *a, true
	}
	return Approval{}, false
}

// revertible reports whether stage i of p, in state s, can still be
// reverted at now.
func revertible(p *Plan, s *StageState, i int, now time.Time) bool {
	r := p.Stages[i].Reversibility
	switch r.Kind {
	case KindIrreversible:
		return false
	case KindWindow:
		// The window opens when the stage has been applied; a stage that
		// is still applying or failed to apply is revertible.
		return s.AppliedAt.IsZero() || now.Before(s.AppliedAt.Add(r.Window))
	}
	return true
}

// Track returns the PNR tracker's view of the cutover in state st of plan p
// at time now. Whether an approval counts is CheckApproval's answer; the
// two-person rule is the journal's (State.TwoPerson).
func Track(p Plan, st State, now time.Time) PNRStatus {
	return track(&p, &st, now)
}

func track(p *Plan, st *State, now time.Time) PNRStatus {
	ps := PNRStatus{Index: pnrIndex(p), CanRollBack: true, Judged: st.Judged, Judgement: st.Judgement}
	if ps.Index >= 0 {
		ps.Stage = p.Stages[ps.Index].Name
		if a, ok := approval(p, st, ps.Index); ok {
			ps.Approved, ps.ApprovedBy, ps.ApprovalReason = true, a.Actor, a.Reason
		}
	}
	n := min(len(p.Stages), len(st.Stages))
	for i := 0; i < n; i++ {
		s := &st.Stages[i]
		if !touched(s.Status) {
			continue
		}
		if !revertible(p, s, i, now) {
			ps.CanRollBack = false
			ps.Crossed = true
			continue
		}
		if w := p.Stages[i].Reversibility; w.Kind == KindWindow && !s.AppliedAt.IsZero() {
			if until := s.AppliedAt.Add(w.Window); ps.Until.IsZero() || until.Before(ps.Until) {
				ps.Until = until
			}
		}
	}
	return ps
}
