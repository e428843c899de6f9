package cutover

import "time"

// EventType names what happened.
type EventType string

// The event types.
const (
	EvStarted         EventType = "started"          // Run began or resumed a cutover
	EvStageStarted    EventType = "stage_started"    // about to apply a stage
	EvStageApplied    EventType = "stage_applied"    // Apply and Verify succeeded
	EvGateJudged      EventType = "gate_judged"      // a gate returned a verdict
	EvStageBaked      EventType = "stage_baked"      // the stage passed its bake
	EvPaused          EventType = "paused"           // a pause command is in force
	EvResumed         EventType = "resumed"          // the pause was lifted
	EvWaitingApproval EventType = "waiting_approval" // the PNR needs an approval
	EvApproved        EventType = "approved"         // an approval was accepted
	EvPNRApproaching  EventType = "pnr_approaching"  // a window closes soon
	EvPNRCrossed      EventType = "pnr_crossed"      // rollback is no longer possible
	EvRollingBack     EventType = "rolling_back"     // rollback started; Err is the cause
	EvStageReverted   EventType = "stage_reverted"   // a stage was reverted
	EvRevertFailed    EventType = "revert_failed"    // a revert attempt failed; it is retried
	EvApplyRetry      EventType = "apply_retry"      // an apply attempt failed; the stage is applied again
	EvRolledBack      EventType = "rolled_back"      // every applied stage was reverted
	EvCompleted       EventType = "completed"        // the plan ran to the end
	EvFailed          EventType = "failed"           // ended neither completed nor rolled back
	EvSuspended       EventType = "suspended"        // Run stopped on ErrSuspended; the next Run resumes
	EvLeaseWait       EventType = "lease_wait"       // the lease is held; Run waits (bounded) for it
)

// Event is a typed notification from the runner.
type Event struct {
	Type    EventType
	Time    time.Time
	Cutover string
	// Stage and Index name the stage concerned, if any (Index is -1 if none).
	Stage string
	Index int
	// Gate and Verdict are set for EvGateJudged.
	Gate    string
	Verdict *Verdict
	// Elapsed is how long the stage has baked so far (EvGateJudged), Bake
	// its bake time.
	Elapsed, Bake time.Duration
	// PNR is the tracker's view at the time of the event.
	PNR PNRStatus
	// Err is the cause for EvRollingBack, EvRevertFailed, EvApplyRetry and
	// EvFailed.
	Err error
	// Message is a one-line human summary.
	Message string
}

// Observer receives events. Observe is called synchronously from the
// runner's goroutine and must return quickly; it must not call the runner.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to the Observer interface.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

var _ Observer = ObserverFunc(nil)
