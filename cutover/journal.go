package cutover

import (
	"context"
	"time"
)

// RecordType names the kind of a journal record.
type RecordType string

// The record types. Intent records are written before an action, outcome
// records after it; the state of a cutover is a fold over them (see Fold).
const (
	// RecStart opens a cutover: Plan is the plan name, Stages the stage
	// names in order, Actor who started it, Outline what the plan declared
	// of each stage and TwoPerson whether the two-person rule is on.
	RecStart RecordType = "start"
	// RecIntent is written before Apply (Action "apply") or Revert
	// (Action "revert") of the stage Stage/Index.
	RecIntent RecordType = "intent"
	// RecApplied is written after Apply (and Verify) succeeded.
	RecApplied RecordType = "applied"
	// RecApplyFailed is written after Apply or Verify returned Error.
	RecApplyFailed RecordType = "apply_failed"
	// RecVerdict records a gate's verdict when it changes, and the last one.
	RecVerdict RecordType = "verdict"
	// RecBaked is written when the stage passed its bake and gates.
	RecBaked RecordType = "baked"
	// RecReverted is written after Revert succeeded.
	RecReverted RecordType = "reverted"
	// RecRevertFailed is written after a Revert attempt returned Error.
	RecRevertFailed RecordType = "revert_failed"
	// RecCommand carries a command (Command) from any process.
	RecCommand RecordType = "command"
	// RecAck is the runner's answer to a command, written when it has
	// taken the command in: Ref is the command's Seq, Command repeats it,
	// Reason says what the runner does about it, and Error, if set, why
	// it refused it (an approval by the initiator under the two-person
	// rule). A command without an answer has not reached a runner yet.
	RecAck RecordType = "ack"
	// RecData stores a stage's datum (Key, Value), e.g. a deployment ID, so
	// a resumed runner can find what Apply started. See Remember.
	RecData RecordType = "data"
	// RecWaiting is written when the runner stops to wait for an approval.
	RecWaiting RecordType = "waiting"
	// RecSuspended is written when a Run stops because its context was
	// cancelled with ErrSuspended: nothing was rolled back, Error says
	// where the cutover stands (which stage, what traffic it set), and
	// the next Run resumes from there.
	RecSuspended RecordType = "suspended"
	// RecCompleted, RecRolledBack and RecFailed end a cutover. RecFailed
	// means neither completed nor rolled back (a failure past the PNR, or a
	// rollback that did not finish); Error says why.
	RecCompleted  RecordType = "completed"
	RecRolledBack RecordType = "rolled_back"
	RecFailed     RecordType = "failed"
)

// Command is an instruction to a running cutover, written to its journal by
// any process.
type Command string

// The commands.
const (
	CmdPause   Command = "pause"   // hold at the current stage after it bakes
	CmdResume  Command = "resume"  // lift a pause; after a failure past the PNR, go forward again
	CmdPromote Command = "promote" // end the current bake now (gates must not be failing)
	CmdAbort   Command = "abort"   // roll back now
	CmdApprove Command = "approve" // approve the Stage named (no stage: every approval point)
)

// Lister is implemented by journals that can enumerate the cutovers they
// hold (the memory, file and DynamoDB journals), for tools that show
// them.
type Lister interface {
	// List returns the IDs of the cutovers that have records, sorted.
	List(ctx context.Context) ([]string, error)
}

// Record is one entry of a cutover's journal. Which fields are set depends
// on Type.
type Record struct {
	// Seq numbers the records of one cutover from 1 without gaps.
	Seq  uint64     `json:"seq"`
	Type RecordType `json:"type"`
	Time time.Time  `json:"time"`

	Plan   string   `json:"plan,omitempty"`
	Stages []string `json:"stages,omitempty"`

	Stage string `json:"stage,omitempty"`
	Index int    `json:"index,omitempty"`
	// Action is "apply" or "revert" for RecIntent.
	Action string `json:"action,omitempty"`

	Gate    string   `json:"gate,omitempty"`
	Verdict *Verdict `json:"verdict,omitempty"`

	Command Command `json:"command,omitempty"`
	Actor   string  `json:"actor,omitempty"`
	Reason  string  `json:"reason,omitempty"`

	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`

	Error   string `json:"error,omitempty"`
	Attempt int    `json:"attempt,omitempty"`

	// Outline (RecStart) is what the plan declared of each stage, in
	// order, so that a tool that reads only the journal knows the PNR,
	// the windows and the approvals. Journals written before it existed
	// have none; see JournalPlan.
	Outline []StageOutline `json:"outline,omitempty"`
	// TwoPerson (RecStart) is true when the runner refuses an approval by
	// the initiator.
	TwoPerson bool `json:"two_person,omitempty"`
	// Ref (RecAck) is the Seq of the command answered.
	Ref uint64 `json:"ref,omitempty"`
	// Signed (RecCommand, RecStart) is the signature of the command, or
	// of the start by its initiator, when it was signed (see SignCommand).
	Signed *Signature `json:"signed,omitempty"`
	// Identity (RecAck) is the verified identity of the command's signer
	// (a key fingerprint or KMS key ARN), next to the typed name in
	// Actor; empty when no approvers are configured.
	Identity string `json:"identity,omitempty"`
}

// StageOutline is what the journal keeps of a stage's declaration: all of
// it but the functions and the gates themselves.
type StageOutline struct {
	// Reversibility is "reversible", "window" or "irreversible"; Window is
	// the window's length.
	Reversibility string        `json:"rev"`
	Window        time.Duration `json:"window,omitempty"`
	Bake          time.Duration `json:"bake,omitempty"`
	// Approval is true when the stage waits for an approval before it is
	// applied (irreversible stages always do).
	Approval bool `json:"approval,omitempty"`
	// Pause is true when the runner pauses after the stage has baked.
	Pause bool `json:"pause,omitempty"`
	// Gates names the stage's gates, in order.
	Gates []string `json:"gates,omitempty"`
}

// Journal stores the records of cutovers, append-only.
//
// Implementations are safe for concurrent use by several goroutines and, for
// the file and DynamoDB journals, several processes. Every method honours
// ctx.
type Journal interface {
	// Append adds rec to the journal of cutover id. rec.Seq must be exactly
	// one more than the Seq of the last record (1 for the first); otherwise
	// Append returns an error wrapping ErrConflict and writes nothing. A
	// successful Append is durable when it returns.
	Append(ctx context.Context, id string, rec Record) error
	// Read returns the records of cutover id with Seq greater than after, in
	// order. An unknown id has no records. A record that cannot be decoded
	// is an error that says where it is, never silently skipped.
	Read(ctx context.Context, id string, after uint64) ([]Record, error)
}

// Locator is implemented by journals that can say where a record is
// stored, so that errors about a record point at it (the file journal:
// "dir/id.jsonl:1").
type Locator interface {
	// Locate returns where record seq of cutover id is stored.
	Locate(id string, seq uint64) string
}

// Lease gives one owner at a time the right to drive a cutover.
//
// Implementations are safe for concurrent use; the file and DynamoDB leases
// across processes. Expiry is judged by the lease's clock.
type Lease interface {
	// Acquire makes owner the holder of the lease on id for ttl. It succeeds
	// if the lease is free, expired, or already held by owner (then it is
	// renewed). Otherwise it returns an error wrapping ErrLeaseHeld that
	// names the holder.
	Acquire(ctx context.Context, id, owner string, ttl time.Duration) error
	// Renew extends owner's lease on id by ttl from now. It returns an error
	// wrapping ErrLeaseLost if owner no longer holds it.
	Renew(ctx context.Context, id, owner string, ttl time.Duration) error
	// Release frees owner's lease on id. Releasing a lease one does not
	// hold is not an error.
	Release(ctx context.Context, id, owner string) error
}

var (
	_ Lister = (*MemJournal)(nil)
	_ Lister = (*FileJournal)(nil)
)
