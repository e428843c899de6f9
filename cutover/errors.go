package cutover

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrRolledBack: the cutover was rolled back; every applied stage was
	// reverted. The error also unwraps to the cause (*GateFailedError,
	// *StageError, ErrAborted, context.Canceled, ...).
	ErrRolledBack = errors.New("cutover rolled back")
	// ErrRollbackIncomplete: a revert kept failing within its bound. The
	// journal says which stages are still applied; a later Run on the same
	// cutover resumes the rollback.
	ErrRollbackIncomplete = errors.New("rollback incomplete")
	// ErrPNRNotApproved: the next step crosses the point of no return and
	// the journal holds no (valid) approval for it. The cutover waits.
	ErrPNRNotApproved = errors.New("point of no return not approved")
	// ErrPNRCrossed: a failure came after the point of no return, so the
	// cutover cannot be rolled back to where it started.
	ErrPNRCrossed = errors.New("point of no return already crossed")
	// ErrSuspended, as the cause of a cancelled context
	// (context.WithCancelCause), stops a Run without rolling back and
	// without counting as evidence against green: the runner journals
	// RecSuspended, releases its lease and returns an error wrapping
	// ErrSuspended; the next Run of the cutover resumes where it stopped.
	// A controller that is itself redeployed suspends on SIGTERM.
	ErrSuspended = errors.New("cutover suspended")
	// ErrAborted: an abort command was obeyed.
	ErrAborted = errors.New("aborted by command")
	// ErrConflict: a journal append lost a race on the sequence number.
	ErrConflict = errors.New("journal conflict")
	// ErrLeaseHeld: another owner holds the cutover's lease.
	ErrLeaseHeld = errors.New("lease held by another owner")
	// ErrLeaseLost: the lease expired or was taken over while driving.
	ErrLeaseLost = errors.New("lease lost")
	// ErrPlanMismatch: the journal belongs to a different plan, or was
	// started under another two-person rule than the runner's options.
	ErrPlanMismatch = errors.New("journal is for a different plan")
	// ErrCorruptJournal: a journal record could not be decoded or is out of
	// sequence.
	ErrCorruptJournal = errors.New("corrupt journal")
	// ErrInvalidPlan: Validate rejected the plan.
	ErrInvalidPlan = errors.New("invalid plan")
	// ErrEnded is returned by Send for a cutover that has completed or
	// rolled back: no runner will read the command.
	ErrEnded = errors.New("cutover has ended")
)

// GateFailedError says which gate of which stage failed, and its verdict.
// A gate that stayed Pending past the stage's deadline is reported with
// TimedOut set.
type GateFailedError struct {
	Stage    string
	Gate     string
	Verdict  Verdict
	TimedOut bool
}

// Error names the stage and gate and gives the verdict's reason.
func (e *GateFailedError) Error() string {
	if e.TimedOut {
		return fmt.Sprintf("stage %q: gate %q still pending at deadline: %s", e.Stage, e.Gate, e.Verdict.Reason)
	}
	return fmt.Sprintf("stage %q: gate %q failed: %s", e.Stage, e.Gate, e.Verdict.Reason)
}

// StageError says which stage's action (apply, verify or revert) failed.
type StageError struct {
	Stage  string
	Action string
	Err    error
}

// Error names the stage and the action that failed, with the cause.
func (e *StageError) Error() string {
	return fmt.Sprintf("stage %q: %s: %v", e.Stage, e.Action, e.Err)
}

// Unwrap returns the underlying error.
func (e *StageError) Unwrap() error { return e.Err }

// ValidationError names the stage (by index and name) and the field of a
// plan that is wrong, and why. It unwraps to ErrInvalidPlan.
type ValidationError struct {
	Index int // -1 for the plan itself
	Stage string
	Field string
	Msg   string
}

// Error names the stage (by index and name) and field, and says why.
func (e *ValidationError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("plan: %s: %s", e.Field, e.Msg)
	}
	return fmt.Sprintf("plan: stage %d (%q): %s: %s", e.Index, e.Stage, e.Field, e.Msg)
}

// Unwrap returns ErrInvalidPlan.
func (e *ValidationError) Unwrap() error { return ErrInvalidPlan }
