package cutover_test

import (
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// TestCheckApprovalByKey: once the start is signed, the two-person rule
// compares keys, never typed names, and an unsigned approval counts for
// nothing, in the rule and in the tracker alike.
func TestCheckApprovalByKey(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	start := cutover.Record{Seq: 1, Type: cutover.RecStart, Time: t0, Plan: "p", Stages: []string{"retire"}, Actor: "alice", TwoPerson: true,
		Outline: []cutover.StageOutline{{Reversibility: "irreversible", Approval: true}}, Signed: &cutover.Signature{Key: "SHA256:alice"}}
	p, err := cutover.JournalPlan([]cutover.Record{start})
	if err != nil {
		t.Fatal(err)
	}
	approve := func(actor, key string) cutover.Record {
		r := cutover.Record{Seq: 2, Type: cutover.RecCommand, Time: t0.Add(time.Minute), Command: cutover.CmdApprove, Actor: actor, Stage: "retire"}
		if key != "" {
			r.Signed = &cutover.Signature{Key: key}
		}
		return r
	}
	for _, tc := range []struct {
		name string
		rec  cutover.Record
		want string // "" is valid
	}{
		{"unsigned", approve("bob", ""), "signature: none"},
		{"the start's key under another name", approve("bob", "SHA256:alice"), "two-person rule"},
		{"another key under the initiator's name", approve("alice", "SHA256:bob"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := cutover.Fold("c", []cutover.Record{start, tc.rec})
			if err != nil {
				t.Fatal(err)
			}
			if st.InitiatorKey != "SHA256:alice" {
				t.Fatalf("InitiatorKey %q; want the start's key", st.InitiatorKey)
			}
			err = cutover.CheckApproval(&p, &st, &tc.rec)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("CheckApproval: %v; want %q", err, tc.want)
			}
			if tr := cutover.Track(p, st, t0.Add(time.Hour)); tr.Approved != (tc.want == "") {
				t.Errorf("Track approved %v; want %v", tr.Approved, tc.want == "")
			}
		})
	}
}
