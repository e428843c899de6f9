package cutover

import (
	"fmt"
	"time"
	"unique"
)

// Phase is where a cutover stands as a whole.
type Phase string

// The phases.
const (
	PhaseNew         Phase = "new"          // no records yet
	PhaseRunning     Phase = "running"      // moving forward
	PhaseWaiting     Phase = "waiting"      // stopped for an approval
	PhaseRollingBack Phase = "rolling_back" // reverting applied stages
	PhaseCompleted   Phase = "completed"    // terminal: the plan ran to the end
	PhaseRolledBack  Phase = "rolled_back"  // terminal: every applied stage reverted
	PhaseFailed      Phase = "failed"       // terminal until resumed: see State.Cause
	PhaseSuspended   Phase = "suspended"    // stopped by ErrSuspended, not rolled back; the next Run resumes
)

// StageStatus is where one stage stands.
type StageStatus string

// The stage statuses.
const (
	StagePending   StageStatus = "pending"   // not started
	StageApplying  StageStatus = "applying"  // intent journaled, outcome not
	StageApplied   StageStatus = "applied"   // applied, baking
	StageBaked     StageStatus = "baked"     // applied and passed
	StageReverting StageStatus = "reverting" // revert intent journaled, outcome not
	StageReverted  StageStatus = "reverted"  // reverted
	StageFailed    StageStatus = "failed"    // apply failed (it may be partly applied)
)

// StageState is the folded state of one stage.
type StageState struct {
	Name      string
	Status    StageStatus
	AppliedAt time.Time // when RecApplied was written
	BakedAt   time.Time
	// Data holds what the stage remembered (see Remember).
	Data map[string]string
	// Verdicts holds the last verdict of each gate, by gate name.
	Verdicts map[string]Verdict
	// RevertAttempts counts failed revert attempts since the last intent.
	RevertAttempts int
	LastError      string
}

// Approval is an approve command taken from the journal.
type Approval struct {
	Stage  string // the stage approved; empty approves every approval point
	Actor  string
	Reason string
	Time   time.Time
	Seq    uint64
	// Identity is the key that signed the approval (a key fingerprint or
	// KMS key ARN), if it was signed. A runner with RunnerOptions.Approvers takes
	// in only approvals whose signature it verified; in a tool that reads
	// the journal it is what the record claims.
	Identity string
}

// State is the fold of a cutover's journal: what has happened to it.
type State struct {
	ID        string
	Plan      string
	Initiator string
	// InitiatorKey is the key that signed the start (RunnerOptions.Signer), if
	// it was signed; the two-person rule then compares keys, never typed
	// names. A runner with RunnerOptions.Approvers verifies it before anything
	// else; in a tool that reads the journal it is what the record claims.
	InitiatorKey string
	// TwoPerson is true when the runner refuses an approval by the
	// Initiator (RunnerOptions.TwoPerson).
	TwoPerson bool
	Started   time.Time
	Phase     Phase
	Stages    []StageState
	Approvals []Approval
	// Paused is true while a pause command is not yet followed by resume or
	// promote. Aborted is true once an abort command was written.
	Paused  bool
	Aborted bool
	// Promotes counts promote commands; the runner ends a bake when it sees
	// a new one.
	Promotes int
	// Judged is when green was last judged, as the journal shows it (the
	// last verdict record; verdicts are journaled when they change, at the
	// end of each bake and before the PNR is crossed), and Judgement the
	// worst decision journaled then.
	Judged    time.Time
	Judgement Decision
	// Cause is the error of the last RecFailed, RecRolledBack, RecWaiting
	// or RecSuspended record.
	Cause   string
	LastSeq uint64
	Updated time.Time
}

// Fold computes the state of cutover id from its records, which must be in
// order starting at Seq 1. A gap, a duplicate or an unknown record type is an
// error wrapping ErrCorruptJournal that names the record's Seq.
func Fold(id string, recs []Record) (State, error) {
	st := State{ID: id, Phase: PhaseNew}
	for i := range recs {
		if err := st.apply(&recs[i], true); err != nil {
			return st, err
		}
	}
	return st, nil
}

// skip folds a refused command in: its Seq is taken, nothing else
// changes.
func (st *State) skip(rec *Record) error {
	if rec.Seq != st.LastSeq+1 || st.LastSeq == 0 {
		return st.apply(rec, false) // reports the gap, duplicate or missing start
	}
	st.LastSeq = rec.Seq
	st.Updated = rec.Time
	return nil
}

// corrupt returns an error wrapping ErrCorruptJournal about record rec.
func (st *State) corrupt(rec *Record, format string, args ...any) error {
	return fmt.Errorf("cutover %s: record seq %d (%s): %s: %w", st.ID, rec.Seq, rec.Type, fmt.Sprintf(format, args...), ErrCorruptJournal)
}

// stage returns the stage rec names, checking its index and name against
// the RecStart record.
func (st *State) stage(rec *Record) (*StageState, error) {
	if rec.Index < 0 || rec.Index >= len(st.Stages) {
		return nil, st.corrupt(rec, "stage index %d outside 0–%d", rec.Index, len(st.Stages)-1)
	}
	s := &st.Stages[rec.Index]
	if s.Name != rec.Stage {
		return nil, st.corrupt(rec, "stage %d is %q, record names %q", rec.Index, s.Name, rec.Stage)
	}
	return s, nil
}

// apply folds one record into st. It is the incremental form of Fold.
// Without whole it keeps neither the gates' verdicts nor the stages' data
// (maps per stage, most of a State's memory): the runner keeps them in
// compact lists instead (see drive.foldKept).
func (st *State) apply(rec *Record, whole bool) error {
	if rec.Seq != st.LastSeq+1 {
		if rec.Seq <= st.LastSeq {
			return st.corrupt(rec, "duplicate or out of order, after seq %d", st.LastSeq)
		}
		return st.corrupt(rec, "gap: want seq %d", st.LastSeq+1)
	}
	if st.LastSeq == 0 && rec.Type != RecStart {
		return st.corrupt(rec, "first record is not %q", RecStart)
	}
	// A runner's record after a suspension is a Run resuming it; the
	// record types below set the phase further.
	if st.Phase == PhaseSuspended && rec.Type != RecCommand && rec.Type != RecAck {
		st.Phase = PhaseRunning
	}
	switch rec.Type {
	case RecStart:
		if st.LastSeq != 0 {
			return st.corrupt(rec, "second start record")
		}
		st.Plan = rec.Plan
		st.Initiator = rec.Actor
		if rec.Signed != nil {
			st.InitiatorKey = rec.Signed.Key
		}
		st.TwoPerson = rec.TwoPerson
		st.Started = rec.Time
		st.Phase = PhaseRunning
		st.Stages = make([]StageState, len(rec.Stages))
		for i, n := range rec.Stages {
			st.Stages[i] = StageState{Name: n, Status: StagePending}
		}
	case RecIntent:
		s, err := st.stage(rec)
		if err != nil {
			return err
		}
		switch rec.Action {
		case actionApply:
			s.Status = StageApplying
			// An apply intent after a failure is a cutover sent forward
			// again by a resume after it failed past its PNR.
			if st.Phase == PhaseWaiting || st.Phase == PhaseNew || st.Phase == PhaseFailed {
				st.Phase = PhaseRunning
			}
		case actionRevert:
			s.Status = StageReverting
			s.RevertAttempts = 0
			st.Phase = PhaseRollingBack
		default:
			return st.corrupt(rec, "unknown action %q; want %q or %q", rec.Action, actionApply, actionRevert)
		}
	case RecApplied:
		s, err := st.stage(rec)
		if err != nil {
			return err
		}
		s.Status = StageApplied
		s.AppliedAt = rec.Time
		// After a failed apply only an irreversible stage, which cannot be
		// reverted, is applied again: the cutover runs forward once more.
		if st.Phase == PhaseRollingBack || st.Phase == PhaseFailed {
			st.Phase = PhaseRunning
		}
	case RecApplyFailed:
		s, err := st.stage(rec)
		if err != nil {
			return err
		}
		s.Status = StageFailed
		s.LastError = rec.Error
		st.Phase = PhaseRollingBack
	case RecVerdict:
		s, err := st.stage(rec)
		if err != nil {
			return err
		}
		if rec.Verdict == nil {
			return st.corrupt(rec, "no verdict")
		}
		if whole {
			put(&s.Verdicts, rec.Gate, *rec.Verdict)
		}
		if rec.Verdict.Decision == Fail {
			st.Phase = PhaseRollingBack
		}
		if !rec.Time.Equal(st.Judged) || worse(rec.Verdict.Decision, st.Judgement) {
			st.Judgement = rec.Verdict.Decision
		}
		st.Judged = rec.Time
	case RecBaked:
		s, err := st.stage(rec)
		if err != nil {
			return err
		}
		s.Status = StageBaked
		s.BakedAt = rec.Time
	case RecReverted:
		s, err := st.stage(rec)
		if err != nil {
			return err
		}
		s.Status = StageReverted
		s.RevertAttempts = 0
	case RecRevertFailed:
		s, err := st.stage(rec)
		if err != nil {
			return err
		}
		s.RevertAttempts++
		s.LastError = rec.Error
	case RecData:
		s, err := st.stage(rec)
		if err != nil {
			return err
		}
		if whole {
			put(&s.Data, rec.Key, rec.Value)
		}
	case RecCommand:
		switch rec.Command {
		case CmdPause:
			st.Paused = true
		case CmdResume:
			st.Paused = false
		case CmdPromote:
			st.Paused = false
			st.Promotes++
		case CmdAbort:
			st.Aborted = true
		case CmdApprove:
			a := Approval{Stage: rec.Stage, Actor: rec.Actor, Reason: rec.Reason, Time: rec.Time, Seq: rec.Seq}
			if rec.Signed != nil {
				a.Identity = rec.Signed.Key
			}
			st.Approvals = append(st.Approvals, a)
		default:
			return st.corrupt(rec, "unknown command %q", rec.Command)
		}
	case RecAck:
		if rec.Ref == 0 || rec.Ref >= rec.Seq {
			return st.corrupt(rec, "answers seq %d; want an earlier command", rec.Ref)
		}
	case RecWaiting:
		st.Phase = PhaseWaiting
		st.Cause = rec.Error
	case RecSuspended:
		st.Phase = PhaseSuspended
		st.Cause = rec.Error
	case RecCompleted:
		st.Phase = PhaseCompleted
	case RecRolledBack:
		st.Phase = PhaseRolledBack
		st.Cause = rec.Error
	case RecFailed:
		st.Phase = PhaseFailed
		st.Cause = rec.Error
	default:
		return st.corrupt(rec, "unknown record type")
	}
	st.LastSeq = rec.Seq
	st.Updated = rec.Time
	return nil
}

// worse reports whether decision a is worse than b: Fail, then Pending,
// then Pass.
func worse(a, b Decision) bool {
	rank := func(d Decision) int {
		switch d {
		case Fail:
			return 2
		case Pass:
			return 0
		}
		return 1
	}
	return rank(a) > rank(b)
}

// The actions of RecIntent records.
const (
	actionApply  = "apply"
	actionRevert = "revert"
)

// touched reports whether a stage in status s may have changed the world
// and has not been reverted.
func touched(s StageStatus) bool {
	switch s {
	case StageApplying, StageApplied, StageBaked, StageFailed, StageReverting:
		return true
	}
	return false
}

// stageDatum is a datum one stage remembered (see Remember), as the drive
// keeps it: the value interned, as the same traffic notes recur across
// the cutovers of one process.
type stageDatum struct {
	index int
	key   string
	value unique.Handle[string]
}

// keepDatum remembers the datum of a RecData record.
func (d *drive) keepDatum(rec *Record) {
	for k := range d.data {
		if sd := &d.data[k]; sd.index == rec.Index && sd.key == rec.Key {
			sd.value = unique.Make(rec.Value)
			return
		}
	}
	d.data = append(d.data, stageDatum{index: rec.Index, key: rec.Key, value: unique.Make(rec.Value)})
}

// datum returns what stage i remembered under key, if anything.
func (d *drive) datum(i int, key string) (string, bool) {
	for _, sd := range d.data {
		if sd.index == i && sd.key == key {
			return sd.value.Value(), true
		}
	}
	return "", false
}

// foldKept adds to d.st what the drive keeps outside it, in compact lists
// rather than in maps per stage: the gates' last verdicts and the stages'
// data. d.st is then what Fold would return.
func (d *drive) foldKept() {
	st := &d.st
	for _, sv := range d.verdicts {
		if sv.index < len(st.Stages) {
			put(&st.Stages[sv.index].Verdicts, sv.gate, sv.v.verdict())
		}
	}
	for _, sd := range d.data {
		if sd.index < len(st.Stages) {
			put(&st.Stages[sd.index].Data, sd.key, sd.value.Value())
		}
	}
}

// put sets (*m)[k] to v, making the map if it is nil.
func put[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = make(map[string]V, 1)
	}
	(*m)[k] = v
}
