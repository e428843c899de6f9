package cutover

import "time"

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
	Stage  string // the stage approved; empty approves the next PNR
	Actor  string
	Reason string
	Time   time.Time
	Seq    uint64
}

// State is the fold of a cutover's journal: what has happened to it.
type State struct {
	ID        string
	Plan      string
	Initiator string
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
	// Cause is the error of the last RecFailed, RecRolledBack or
	// RecWaiting record.
	Cause   string
	LastSeq uint64
	Updated time.Time
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

// Fold computes the state of cutover id from its records, which must be in
// order starting at Seq 1. A gap, a duplicate or an unknown record type is an
// error wrapping ErrCorruptJournal that names the record's Seq.
func Fold(id string, recs []Record) (State, error) {
	panic("not implemented")
}

// Track returns the PNR tracker's view of the cutover in state st of plan p
// at time now. With twoPerson set, an approval by the initiator is not
// valid.
func Track(p Plan, st State, now time.Time, twoPerson bool) PNRStatus {
	panic("not implemented")
}
