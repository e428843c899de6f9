package report

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// ErrNoRecords is returned by Build for a cutover whose journal has no
// records: an unknown ID, or the wrong journal.
var ErrNoRecords = errors.New("no records")

// Options are Build's options. The zero value is valid.
type Options struct {
	// Now is the moment the report is made for a cutover still running
	// (whether rollback is still possible and until when); zero means the
	// time of the last record. A Now before the last record is taken as
	// the last record's time, and an ended cutover is reported as it
	// ended.
	Now time.Time
	// Plan, if set, is used when the journal's start record has no
	// outline (older journals). Its stage names must be the journal's.
	Plan *cutover.Plan
}

// Report is what happened to one cutover, folded from its journal: the
// facts a tool shows at a glance and the timeline behind them. Times are
// the journal's, each clamped to at least the time of the record before
// (commands are stamped by their sender's clock).
type Report struct {
	// ID is the cutover's ID; Plan the plan's name; Initiator who started
	// it; TwoPerson whether an approval by the initiator is refused.
	ID        string
	Plan      string
	Initiator string
	TwoPerson bool
	// Phase is where the cutover stands; Cause why it rolled back,
	// failed or waits (the journal's error), if it did.
	Phase cutover.Phase
	Cause string
	// Current names the stage the cutover is at, or stopped at: the last
	// stage a record names. Empty before any stage started.
	Current string
	// Started is the time of the start record. Ended is the time of the
	// record that ended the cutover (completed, rolled back, failed);
	// zero while it runs or waits. At is the moment the report describes:
	// Ended, or Options.Now, or the last record's time.
	Started, Ended, At time.Time
	// Total is At − Started; ReversibleFor how much of it rollback was
	// possible.
	Total, ReversibleFor time.Duration
	// Reversible are the spans of time rollback was possible, in order.
	Reversible []Span
	// CanRollBack is true when rollback is possible at At (never for a
	// cutover that completed or rolled back); RollbackUntil is when the
	// earliest open window closes, zero if none is open.
	CanRollBack   bool
	RollbackUntil time.Time
	// Outlined is false when neither the journal nor Options.Plan said how
	// reversible the stages are: the PNR, CanRollBack, RollbackUntil and
	// ReversibleFor are then unknown (zero), and the renderings say so.
	Outlined bool
	// PNR is the point of no return and what became of it.
	PNR PNR
	// RollbackStarted is when the first stage was reverted (its intent);
	// zero if none was.
	RollbackStarted time.Time
	// Stages are the plan's stages with what happened to each, in order.
	Stages []Stage
	// Verdicts are every verdict journaled, in order.
	Verdicts []Verdict
	// Approvals are the approve commands, in order; Commands every
	// command, approvals included.
	Approvals []Command
	Commands  []Command
	// Traffic are the traffic weights the stages journaled (see
	// cutover.NoteTraffic), in order; Targets their target names, sorted.
	Traffic []TrafficPoint
	Targets []string
	// Notes are what the report could not make sense of in the journal
	// (a traffic note that does not parse), for the reader.
	Notes []string
}

// Span is an interval of time.
type Span struct {
	From, To time.Time
}

// PNR is the point of no return of a cutover.
type PNR struct {
	// Index and Stage name the PNR's stage; Index is -1 if the plan has
	// none (or, without an outline, is not known).
	Index int
	Stage string
	// Crossed is true once rollback stopped being possible, at CrossedAt.
	Crossed   bool
	CrossedAt time.Time
	// Approved is true when the journal holds a valid approval for the
	// PNR, given by ApprovedBy at ApprovedAt for ApprovalReason.
	Approved       bool
	ApprovedBy     string
	ApprovalReason string
	ApprovedAt     time.Time
}

// Stage is one stage of the plan and what happened to it.
type Stage struct {
	Index int
	Name  string
	// Reversibility, Bake, Approval and Gates are what the plan declared
	// (known when Report.Outlined).
	Reversibility cutover.Reversibility
	Bake          time.Duration
	Approval      bool
	Gates         []string
	// Started is the first apply intent; Applied when it was last
	// applied; Failed when its apply last failed; Baked when it passed
	// its bake; RevertStarted and Reverted when it was reverted; Waited
	// when the runner last stopped before it to wait for an approval.
	// Zero when it did not happen.
	Started, Applied, Failed, Baked, RevertStarted, Reverted, Waited time.Time
	// Outcome is where the stage stands (cutover's folded status); Error
	// the last error of its apply or revert.
	Outcome cutover.StageStatus
	Error   string
}

// Ended returns when the stage stopped changing: reverted, baked, or
// failed to apply; zero while it is under way or did not start.
func (s *Stage) Ended() time.Time {
	switch s.Outcome {
	case cutover.StageReverted:
		return s.Reverted
	case cutover.StageBaked:
		return s.Baked
	case cutover.StageFailed:
		return s.Failed
	}
	return time.Time{}
}

// Verdict is one verdict of a gate as journaled.
type Verdict struct {
	Time     time.Time
	Stage    string
	Gate     string
	Decision cutover.Decision
	Final    bool
	Reason   string
	Figures  map[string]float64
}

// Command is a command from the journal and the runner's answer to it.
type Command struct {
	Seq     uint64
	Time    time.Time
	Command cutover.Command
	// Stage is the stage an approval names (empty: every approval point).
	Stage  string
	Actor  string
	Reason string
	// Answered is true when the runner answered it (a RecAck), at
	// AnsweredAt, saying Answer; Refusal, if set, is why it refused.
	Answered   bool
	AnsweredAt time.Time
	Answer     string
	Refusal    string
	// Identity is the key the runner verified the command's signature
	// with (an SSH key fingerprint, a KMS key ARN), next to the typed
	// Actor; empty when the runner has no approvers configured.
	Identity string
}

// Accepted reports whether the runner took the command in without
// refusing it.
func (c *Command) Accepted() bool { return c.Answered && c.Refusal == "" }

// TrafficPoint is the share of traffic in percent by target that a stage
// set at a moment.
type TrafficPoint struct {
	Time    time.Time
	Stage   string
	Weights map[string]int
}

// Build folds the records of cutover id (in order from Seq 1) into a
// Report. A journal with no records is an error wrapping ErrNoRecords; one
// that does not fold (a gap, an unknown record) an error wrapping
// cutover.ErrCorruptJournal that names the record.
func Build(id string, recs []cutover.Record, opts Options) (*Report, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("report on cutover %q: %w; is the ID right, and the journal the one it ran with?", id, ErrNoRecords)
	}
	recs = clamp(recs)
	st, err := cutover.Fold(id, recs)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	plan, outlined, err := journalPlan(recs, opts.Plan)
	if err != nil {
		return nil, fmt.Errorf("report on cutover %q: %w", id, err)
	}
	r := &Report{
		ID: id, Plan: st.Plan, Initiator: st.Initiator, TwoPerson: st.TwoPerson,
		Phase: st.Phase, Cause: st.Cause, Started: st.Started, Outlined: outlined,
		PNR: PNR{Index: -1},
	}
	last := recs[len(recs)-1].Time
	r.At = last
	switch st.Phase {
	case cutover.PhaseCompleted, cutover.PhaseRolledBack, cutover.PhaseFailed:
		r.Ended = last
	default:
		if opts.Now.After(last) {
			r.At = opts.Now
		}
	}
	r.Total = r.At.Sub(r.Started)
	r.stages(plan, st)
	if err := r.events(recs); err != nil {
		return nil, err
	}
	if outlined {
		if err := r.track(id, plan, recs, st); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// clamp returns recs with each time at least the one before.
func clamp(recs []cutover.Record) []cutover.Record {
	out := slices.Clone(recs)
	for i := 1; i < len(out); i++ {
		if out[i].Time.Before(out[i-1].Time) {
			out[i].Time = out[i-1].Time
		}
	}
	return out
}

// journalPlan returns the plan the journal outlines or, for a journal
// without an outline, the plan given (whose stage names must match), and
// whether the stages' reversibility is known.
func journalPlan(recs []cutover.Record, given *cutover.Plan) (cutover.Plan, bool, error) {
	plan, err := cutover.JournalPlan(recs)
	if err == nil {
		return plan, true, nil
	}
	if !errors.Is(err, cutover.ErrNoOutline) {
		return plan, false, err
	}
	if given == nil {
		return plan, false, nil
	}
	names := recs[0].Stages
	if len(given.Stages) != len(names) {
		return plan, false, fmt.Errorf("Options.Plan %q has %d stages, the journal's start record names %d", given.Name, len(given.Stages), len(names))
	}
	for i := range names {
		if given.Stages[i].Name != names[i] {
			return plan, false, fmt.Errorf("Options.Plan %q: stage %d is %q, the journal names %q", given.Name, i, given.Stages[i].Name, names[i])
		}
	}
	return *given, true, nil
}

// stages fills r.Stages with what plan declares and st folded.
func (r *Report) stages(plan cutover.Plan, st cutover.State) {
	r.Stages = make([]Stage, len(st.Stages))
	for i, ss := range st.Stages {
		s := Stage{Index: i, Name: ss.Name, Outcome: ss.Status, Error: ss.LastError}
		if i < len(plan.Stages) {
			ps := &plan.Stages[i]
			s.Reversibility, s.Bake, s.Approval = ps.Reversibility, ps.Bake, ps.Approval || ps.Reversibility.Kind == cutover.KindIrreversible
		}
		r.Stages[i] = s
	}
}

// events collects the stages' times, the verdicts, the commands and their
// answers, and the traffic.
func (r *Report) events(recs []cutover.Record) error {
	if len(recs[0].Outline) == len(r.Stages) {
		for i, o := range recs[0].Outline {
			r.Stages[i].Gates = slices.Clone(o.Gates)
		}
	}
	bySeq := map[uint64]int{}
	targets := map[string]bool{}
	for i := range recs {
		rec := &recs[i]
		var s *Stage // the stage a stage's record names (Fold checked them)
		switch rec.Type {
		case cutover.RecStart, cutover.RecCommand, cutover.RecAck:
		default:
			if rec.Stage != "" && rec.Index >= 0 && rec.Index < len(r.Stages) && r.Stages[rec.Index].Name == rec.Stage {
				s = &r.Stages[rec.Index]
			}
		}
		switch rec.Type {
		case cutover.RecIntent, cutover.RecApplied, cutover.RecApplyFailed, cutover.RecBaked, cutover.RecReverted, cutover.RecWaiting:
			if s != nil {
				s.at(rec, r)
			}
		case cutover.RecVerdict:
			v := rec.Verdict
			r.Verdicts = append(r.Verdicts, Verdict{Time: rec.Time, Stage: rec.Stage, Gate: rec.Gate,
				Decision: v.Decision, Final: v.Final, Reason: v.Reason, Figures: v.Figures})
		case cutover.RecCommand:
			bySeq[rec.Seq] = len(r.Commands)
			r.Commands = append(r.Commands, Command{Seq: rec.Seq, Time: rec.Time, Command: rec.Command,
				Stage: rec.Stage, Actor: rec.Actor, Reason: rec.Reason})
		case cutover.RecAck:
			if k, ok := bySeq[rec.Ref]; ok {
				c := &r.Commands[k]
				c.Answered, c.AnsweredAt, c.Answer, c.Refusal, c.Identity = true, rec.Time, rec.Reason, rec.Error, rec.Identity
			}
		case cutover.RecData:
			if rec.Key != cutover.DataTraffic {
				break
			}
			w, err := cutover.ParseTraffic(rec.Value)
			if err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("record seq %d: %v; left out of the traffic", rec.Seq, err))
				break
			}
			for t := range w {
				targets[t] = true
			}
			r.Traffic = append(r.Traffic, TrafficPoint{Time: rec.Time, Stage: rec.Stage, Weights: w})
		}
		if s != nil {
			r.Current = s.Name
		}
	}
	for _, c := range r.Commands {
		if c.Command == cutover.CmdApprove {
			r.Approvals = append(r.Approvals, c)
		}
	}
	for t := range targets {
		r.Targets = append(r.Targets, t)
	}
	sort.Strings(r.Targets)
	return nil
}

// tracked reports whether a record of type t can change what the PNR
// tracker says.
func tracked(t cutover.RecordType) bool {
	switch t {
	case cutover.RecStart, cutover.RecIntent, cutover.RecApplied, cutover.RecApplyFailed,
		cutover.RecReverted, cutover.RecCommand:
		return true
	}
	return false
}

// track walks the journal with the PNR tracker: when rollback was
// possible, when the PNR was crossed and approved, and where the cutover
// stands at r.At.
func (r *Report) track(id string, plan cutover.Plan, recs []cutover.Record, final cutover.State) error {
	end := r.At
	var (
		st  cutover.State
		err error
	)
	for i := range recs {
		if tracked(recs[i].Type) {
			if st, err = cutover.Fold(id, recs[:i+1]); err != nil {
				return fmt.Errorf("report: %w", err)
			}
		}
		from := recs[i].Time
		to := end
		if i+1 < len(recs) {
			to = recs[i+1].Time
		}
		ps := cutover.Track(plan, st, from)
		if ps.Approved && r.PNR.ApprovedAt.IsZero() {
			r.PNR.ApprovedAt = from
		}
		if !ps.CanRollBack {
			if !r.PNR.Crossed {
				r.PNR.Crossed, r.PNR.CrossedAt = true, from
			}
			continue
		}
		if !ps.Until.IsZero() && ps.Until.Before(to) {
			to = ps.Until
			if !r.PNR.Crossed {
				r.PNR.Crossed, r.PNR.CrossedAt = true, ps.Until
			}
		}
		r.addReversible(from, to)
	}
	ps := cutover.Track(plan, final, r.At)
	r.PNR.Index, r.PNR.Stage = ps.Index, ps.Stage
	r.PNR.Approved, r.PNR.ApprovedBy, r.PNR.ApprovalReason = ps.Approved, ps.ApprovedBy, ps.ApprovalReason
	if !ps.Approved {
		r.PNR.ApprovedAt = time.Time{}
	}
	if ps.Crossed && !r.PNR.Crossed {
		r.PNR.Crossed, r.PNR.CrossedAt = true, r.At
	}
	if r.Phase != cutover.PhaseCompleted && r.Phase != cutover.PhaseRolledBack {
		r.CanRollBack, r.RollbackUntil = ps.CanRollBack, ps.Until
	}
	return nil
}

// addReversible adds [from, to] to r.Reversible, joining it to the span
// before when they touch.
func (r *Report) addReversible(from, to time.Time) {
	if to.Before(from) {
		return
	}
	if n := len(r.Reversible); n > 0 && !r.Reversible[n-1].To.Before(from) {
		if to.After(r.Reversible[n-1].To) {
			r.Reversible[n-1].To = to
		}
	} else {
		r.Reversible = append(r.Reversible, Span{From: from, To: to})
	}
	r.ReversibleFor = 0
	for _, s := range r.Reversible {
		r.ReversibleFor += s.To.Sub(s.From)
	}
}

// at records the time of rec, a record of stage s.
func (s *Stage) at(rec *cutover.Record, r *Report) {
	switch rec.Type {
	case cutover.RecIntent:
		if rec.Action == "revert" {
			s.RevertStarted = rec.Time
			if r.RollbackStarted.IsZero() {
				r.RollbackStarted = rec.Time
			}
		} else if s.Started.IsZero() {
			s.Started = rec.Time
		}
	case cutover.RecApplied:
		s.Applied = rec.Time
	case cutover.RecApplyFailed:
		s.Failed = rec.Time
	case cutover.RecBaked:
		s.Baked = rec.Time
	case cutover.RecReverted:
		s.Reverted = rec.Time
	case cutover.RecWaiting:
		s.Waited = rec.Time
	}
}
