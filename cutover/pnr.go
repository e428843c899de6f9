package cutover

import (
	"context"
	"fmt"
	"time"
)

// windows warns before reversibility windows close and rolls back while it
// still can when one would close, within a poll interval, unapproved.
func (d *drive) windows() error {
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
		if a, ok := approval(&d.st, s.Name, d.o.TwoPersonRule); ok {
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
		if !now.Add(d.o.PollInterval).Before(closes) {
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
// returns ErrPNRNotApproved, or waits with Options.WaitForApproval.
func (d *drive) approve(ctx context.Context, i int) error {
	s := &d.p.Stages[i]
	if !needsApproval(s) {
		return nil
	}
	return d.await(ctx, i, actionApply, func() bool {
		a, ok := approval(&d.st, s.Name, d.o.TwoPersonRule)
		if ok {
			d.approved(i, a)
		}
		return ok
	})
}

// await waits for ok to hold, journaling RecWaiting for what (an action on
// stage i) once, or returns ErrPNRNotApproved without WaitForApproval.
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
		if !d.o.WaitForApproval {
			return fmt.Errorf("cutover %s: %s: %w", d.id, msg, ErrPNRNotApproved)
		}
		if err := d.sleep(ctx, d.o.PollInterval); err != nil {
			return err
		}
		if err := d.poll(ctx); err != nil {
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
			if _, ok := approval(&d.st, s.Name, d.o.TwoPersonRule); !ok {
				open = i
				break
			}
		}
		if open < 0 {
			break
		}
		// poll rolls back if the window would close before approval.
		err := d.await(ctx, open, "close", func() bool {
			_, ok := approval(&d.st, d.p.Stages[open].Name, d.o.TwoPersonRule)
			return ok
		})
		if err != nil {
			return err
		}
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

// approval returns the first valid approval in st for the stage named
// stage: an approve command naming it or naming no stage, by an actor who
// is not the initiator when twoPerson is set.
func approval(st *State, stage string, twoPerson bool) (Approval, bool) {
	for _, a := range st.Approvals {
		if a.Stage != "" && a.Stage != stage || !approver(st, a.Actor, twoPerson) {
			continue
		}
		return a, true
	}
	return Approval{}, false
}

// approver reports whether actor may approve in cutover st: someone, and
// with twoPerson someone other than the initiator.
func approver(st *State, actor string, twoPerson bool) bool {
	return actor != "" && !(twoPerson && actor == st.Initiator)
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
// at time now. With twoPerson set, an approval by the initiator is not
// valid.
func Track(p Plan, st State, now time.Time, twoPerson bool) PNRStatus {
	return track(&p, &st, now, twoPerson)
}

func track(p *Plan, st *State, now time.Time, twoPerson bool) PNRStatus {
	ps := PNRStatus{Index: pnrIndex(p), CanRollBack: true}
	if ps.Index >= 0 {
		ps.Stage = p.Stages[ps.Index].Name
		if a, ok := approval(st, ps.Stage, twoPerson); ok {
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
