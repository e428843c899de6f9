package notify

import (
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// Message is the JSON object every sink delivers for an event: one schema,
// documented in docs/notify.md. Field names are stable; new fields may be
// added.
type Message struct {
	// Type is the event type (cutover.EventType): "waiting_approval",
	// "rolled_back", "completed", ….
	Type cutover.EventType `json:"type"`
	// Time is when it happened, on the runner's clock.
	Time time.Time `json:"time"`
	// Cutover is the cutover's ID.
	Cutover string `json:"cutover"`
	// Stage and StageIndex name the stage concerned; StageIndex is -1 and
	// Stage empty if none.
	Stage      string `json:"stage,omitempty"`
	StageIndex int    `json:"stage_index"`
	// Gate, Decision and Reason are a gate's verdict (gate_judged).
	Gate     string `json:"gate,omitempty"`
	Decision string `json:"decision,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Error is the cause of a rollback or failure.
	Error string `json:"error,omitempty"`
	// Text is a one-line summary for people.
	Text string `json:"text"`
	// Rollback is whether, and until when, rollback is possible.
	Rollback Rollback `json:"rollback"`
}

// Rollback is the point-of-no-return tracker's view in a Message.
type Rollback struct {
	// Possible is true while every applied stage can still be reverted.
	Possible bool `json:"possible"`
	// Until is when the earliest open window closes, if one is open.
	Until *time.Time `json:"until,omitempty"`
	// PNRStage names the point of no return, if the plan has one.
	PNRStage string `json:"pnr_stage,omitempty"`
	// Crossed is true once rollback is no longer possible.
	Crossed bool `json:"crossed,omitempty"`
}

// NewMessage returns the Message of e.
func NewMessage(e cutover.Event) Message {
	m := Message{
		Type: e.Type, Time: e.Time.UTC(), Cutover: e.Cutover, Stage: e.Stage, StageIndex: e.Index,
		Gate: e.Gate, Text: e.Message,
		Rollback: Rollback{Possible: e.PNR.CanRollBack, PNRStage: e.PNR.Stage, Crossed: e.PNR.Crossed},
	}
	if e.Index < 0 {
		m.Stage, m.StageIndex = "", -1
	}
	if e.Verdict != nil {
		m.Decision, m.Reason = e.Verdict.Decision.String(), e.Verdict.Reason
	}
	if e.Err != nil {
		m.Error = e.Err.Error()
	}
	if !e.PNR.Until.IsZero() {
		u := e.PNR.Until.UTC()
		m.Rollback.Until = &u
	}
	if m.Text == "" {
		m.Text = string(e.Type)
	}
	return m
}

// Summary is the one line a person reads: "cutover web-42: rolled_back
// (stage green-10): gate error-rate failed".
func (m Message) Summary() string {
	s := "cutover " + m.Cutover + ": " + string(m.Type)
	if m.Stage != "" {
		s += " (stage " + m.Stage + ")"
	}
	if m.Text != "" && m.Text != string(m.Type) {
		s += ": " + m.Text
	}
	if m.Error != "" && m.Error != m.Text {
		s += ": " + m.Error
	}
	return s
}

// recordEvents maps the journal's record types to the events the runner
// emitted when it wrote them.
var recordEvents = map[cutover.RecordType]cutover.EventType{
	cutover.RecStart:        cutover.EvStarted,
	cutover.RecApplied:      cutover.EvStageApplied,
	cutover.RecVerdict:      cutover.EvGateJudged,
	cutover.RecBaked:        cutover.EvStageBaked,
	cutover.RecReverted:     cutover.EvStageReverted,
	cutover.RecRevertFailed: cutover.EvRevertFailed,
	cutover.RecApplyFailed:  cutover.EvApplyRetry,
	cutover.RecWaiting:      cutover.EvWaitingApproval,
	cutover.RecCompleted:    cutover.EvCompleted,
	cutover.RecRolledBack:   cutover.EvRolledBack,
	cutover.RecFailed:       cutover.EvFailed,
	cutover.RecSuspended:    cutover.EvSuspended,
}

// FromRecord returns the Message of the event the runner emitted when it
// wrote r to cutover id's journal, with rb as the rollback view; false for
// a record no event corresponds to (commands, answers, data). A tool that
// follows a journal (cutoverctl show -watch) notifies with it.
func FromRecord(id string, r cutover.Record, rb Rollback) (Message, bool) {
	t, ok := recordEvents[r.Type]
	if !ok {
		return Message{}, false
	}
	m := Message{Type: t, Time: r.Time.UTC(), Cutover: id, Stage: r.Stage, StageIndex: r.Index, Gate: r.Gate, Error: r.Error, Rollback: rb}
	if r.Stage == "" {
		m.StageIndex = -1
	}
	if r.Verdict != nil {
		m.Decision, m.Reason = r.Verdict.Decision.String(), r.Verdict.Reason
	}
	m.Text = string(t)
	if m.Reason != "" {
		m.Text = r.Gate + ": " + m.Decision + ": " + m.Reason
	}
	return m, true
}
