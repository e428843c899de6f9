package health_test

import (
	"testing"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
)

func TestApprovalGate(t *testing.T) {
	j, appendRec := approvalJournal(t)
	appendRec(cutover.Record{Type: cutover.RecStart, Plan: "p", Stages: []string{"canary", "retire"}, Actor: "alice"})

	anyApproval, err := health.NewApproval(j, "c1", health.ApprovalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	retire, err := health.NewApproval(j, "c1", health.ApprovalOptions{Stage: "retire", NotBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "no approval yet", evaluate(t, anyApproval), cutover.Pending, "waiting for an approval")

	appendRec(cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdPause, Actor: "bob"})
	appendRec(cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "alice", Stage: "retire", Reason: "mine"})
	want(t, "approved by alice", evaluate(t, anyApproval), cutover.Pass, "approved by alice: mine")
	want(t, "alice may not approve", evaluate(t, retire), cutover.Pending, `stage "retire"`, "other than alice")

	appendRec(cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "bob", Stage: "canary"})
	want(t, "approval of another stage", evaluate(t, retire), cutover.Pending)
	appendRec(cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "bob", Stage: "retire", Reason: "checked dashboards"})
	want(t, "bob approves retire", evaluate(t, retire), cutover.Pass, "approved by bob: checked dashboards")
	want(t, "stays approved", evaluate(t, retire), cutover.Pass, "bob")
}

func TestApprovalBadInput(t *testing.T) {
	if _, err := health.NewApproval(nil, "c1", health.ApprovalOptions{}); err == nil {
		t.Error("nil journal accepted")
	}
	if _, err := health.NewApproval(cutover.NewMemJournal(), "", health.ApprovalOptions{}); err == nil {
		t.Error("empty id accepted")
	}
}

// The gate judges approvals by cutover.CheckApproval: an approval without
// an actor never counts, one by the initiator does not count under the
// journal's two-person rule, and one naming no stage counts for every
// stage.
func TestApprovalGateFollowsTheApprovalRule(t *testing.T) {
	j, appendRec := approvalJournal(t)
	appendRec(cutover.Record{Type: cutover.RecStart, Plan: "p", Stages: []string{"canary", "retire"}, Actor: "alice", TwoPerson: true})
	retire, err := health.NewApproval(j, "c1", health.ApprovalOptions{Stage: "retire"})
	if err != nil {
		t.Fatal(err)
	}
	appendRec(cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Stage: "retire"})
	want(t, "no actor", evaluate(t, retire), cutover.Pending)
	appendRec(cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "alice"})
	want(t, "the initiator under the two-person rule", evaluate(t, retire), cutover.Pending)
	appendRec(cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "bob", Reason: "all of it"})
	want(t, "an approval naming no stage", evaluate(t, retire), cutover.Pass, "approved by bob: all of it")
}

// approvalJournal returns a journal and a function that appends a record
// to its cutover c1 at the next Seq.
func approvalJournal(t *testing.T) (cutover.Journal, func(cutover.Record)) {
	j := cutover.NewMemJournal()
	seq := uint64(0)
	return j, func(r cutover.Record) {
		t.Helper()
		seq++
		r.Seq = seq
		if err := j.Append(t.Context(), "c1", r); err != nil {
			t.Fatal(err)
		}
	}
}
