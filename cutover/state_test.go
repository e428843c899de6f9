package cutover_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/safecutover/safecutover/cutover"
)

var foldT0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// seq numbers recs from 1 and stamps them a minute apart.
func foldSeq(recs ...cutover.Record) []cutover.Record {
	for i := range recs {
		recs[i].Seq = uint64(i + 1)
		recs[i].Time = foldT0.Add(time.Duration(i) * time.Minute)
	}
	return recs
}

var startRecord = cutover.Record{Type: cutover.RecStart, Plan: "p", Stages: []string{"a", "keep", "retire"}, Actor: "alice"}

func intentRecord(i int, name, action string) cutover.Record {
	return cutover.Record{Type: cutover.RecIntent, Stage: name, Index: i, Action: action}
}

func stageRecord(t cutover.RecordType, i int, name string) cutover.Record {
	return cutover.Record{Type: t, Stage: name, Index: i}
}

func TestFoldRejectsCorruptJournals(t *testing.T) {
	tests := []struct {
		name string
		recs []cutover.Record
		want string // in the error
	}{
		{"first is not start", foldSeq(stageRecord(cutover.RecApplied, 0, "a")), "seq 1"},
		{"gap", append(foldSeq(startRecord), cutover.Record{Seq: 3, Type: cutover.RecCompleted}), "seq 3"},
		{"duplicate", append(foldSeq(startRecord), cutover.Record{Seq: 1, Type: cutover.RecCompleted}), "seq 1"},
		{"unknown type", foldSeq(startRecord, cutover.Record{Type: "teleport"}), "seq 2"},
		{"second start", foldSeq(startRecord, startRecord), "seq 2"},
		{"index out of range", foldSeq(startRecord, intentRecord(7, "a", "apply")), "seq 2"},
		{"stage name mismatch", foldSeq(startRecord, intentRecord(1, "a", "apply")), "seq 2"},
		{"unknown action", foldSeq(startRecord, intentRecord(0, "a", "explode")), "seq 2"},
		{"unknown command", foldSeq(startRecord, cutover.Record{Type: cutover.RecCommand, Command: "reboot"}), "seq 2"},
		{"verdict without verdict", foldSeq(startRecord, stageRecord(cutover.RecVerdict, 0, "a")), "seq 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := cutover.Fold("c", tt.recs)
			if !errors.Is(err, cutover.ErrCorruptJournal) || !hasText(err.Error(), tt.want) {
				t.Fatalf("err %v, want ErrCorruptJournal naming %q", err, tt.want)
			}
		})
	}
}

func TestFoldAndTrack(t *testing.T) {
	fail := cutover.Verdict{Decision: cutover.Fail, Reason: "bad"}
	p := cutover.Plan{Name: "p", Stages: []cutover.Stage{mkStage("a"), mkStage("keep", func(s *cutover.Stage) { s.Reversibility = cutover.ReversibleWithin(10 * time.Minute) }), mkStage("retire", irreversible)}}
	approve := func(actor, stage string) cutover.Record {
		return cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: actor, Stage: stage, Reason: "ok"}
	}
	tests := []struct {
		name      string
		recs      []cutover.Record
		at        time.Duration // after foldT0
		twoPerson bool
		phase     cutover.Phase
		statuses  []cutover.StageStatus
		pnr       cutover.PNRStatus
	}{
		{"started", foldSeq(startRecord), 0, false, cutover.PhaseRunning,
			[]cutover.StageStatus{"pending", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true}},
		{"window open", foldSeq(startRecord, intentRecord(0, "a", "apply"), stageRecord(cutover.RecApplied, 0, "a"), stageRecord(cutover.RecBaked, 0, "a"), intentRecord(1, "keep", "apply"), stageRecord(cutover.RecApplied, 1, "keep")), 6 * time.Minute, false, cutover.PhaseRunning,
			[]cutover.StageStatus{"baked", "applied", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true, Until: foldT0.Add(15 * time.Minute)}},
		{"window closed", foldSeq(startRecord, intentRecord(1, "keep", "apply"), stageRecord(cutover.RecApplied, 1, "keep")), time.Hour, false, cutover.PhaseRunning,
			[]cutover.StageStatus{"pending", "applied", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", Crossed: true}},
		{"approved by the initiator, two-person rule", foldSeq(startRecord, approve("alice", "keep")), 0, true, cutover.PhaseRunning,
			[]cutover.StageStatus{"pending", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true}},
		{"approved by another", foldSeq(startRecord, approve("alice", "keep"), approve("bob", "")), 0, true, cutover.PhaseRunning,
			[]cutover.StageStatus{"pending", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true, Approved: true, ApprovedBy: "bob", ApprovalReason: "ok"}},
		{"approval for another stage", foldSeq(startRecord, approve("bob", "retire")), 0, false, cutover.PhaseRunning,
			[]cutover.StageStatus{"pending", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true}},
		{"irreversible applying", foldSeq(startRecord, intentRecord(2, "retire", "apply")), 0, false, cutover.PhaseRunning,
			[]cutover.StageStatus{"pending", "pending", "applying"},
			cutover.PNRStatus{Index: 1, Stage: "keep", Crossed: true}},
		{"gate failed", foldSeq(startRecord, intentRecord(0, "a", "apply"), stageRecord(cutover.RecApplied, 0, "a"), cutover.Record{Type: cutover.RecVerdict, Stage: "a", Gate: "g", Verdict: &fail}), 0, false, cutover.PhaseRollingBack,
			[]cutover.StageStatus{"applied", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true, Judged: foldT0.Add(3 * time.Minute), Judgement: cutover.Fail}},
		{"apply failed", foldSeq(startRecord, intentRecord(0, "a", "apply"), cutover.Record{Type: cutover.RecApplyFailed, Stage: "a", Error: "boom"}), 0, false, cutover.PhaseRollingBack,
			[]cutover.StageStatus{"failed", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true}},
		{"rolled back", foldSeq(startRecord, intentRecord(0, "a", "apply"), stageRecord(cutover.RecApplied, 0, "a"), intentRecord(0, "a", "revert"), stageRecord(cutover.RecRevertFailed, 0, "a"), stageRecord(cutover.RecReverted, 0, "a"), cutover.Record{Type: cutover.RecRolledBack, Error: "abort"}), 0, false, cutover.PhaseRolledBack,
			[]cutover.StageStatus{"reverted", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true}},
		{"waiting", foldSeq(startRecord, cutover.Record{Type: cutover.RecWaiting, Stage: "retire", Index: 2, Error: "needs approval"}), 0, false, cutover.PhaseWaiting,
			[]cutover.StageStatus{"pending", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true}},
		{"completed", foldSeq(startRecord, cutover.Record{Type: cutover.RecCompleted}), 0, false, cutover.PhaseCompleted,
			[]cutover.StageStatus{"pending", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true}},
		{"failed", foldSeq(startRecord, cutover.Record{Type: cutover.RecFailed, Error: "x"}), 0, false, cutover.PhaseFailed,
			[]cutover.StageStatus{"pending", "pending", "pending"},
			cutover.PNRStatus{Index: 1, Stage: "keep", CanRollBack: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recs := slices.Clone(tt.recs)
			recs[0].TwoPerson = tt.twoPerson // the journal decides the rule
			s, err := cutover.Fold("c", recs)
			if err != nil {
				t.Fatal(err)
			}
			var got []cutover.StageStatus
			for _, x := range s.Stages {
				got = append(got, x.Status)
			}
			if s.Phase != tt.phase || s.Initiator != "alice" || s.Plan != "p" || s.LastSeq != uint64(len(tt.recs)) {
				t.Errorf("phase %s initiator %q plan %q last %d", s.Phase, s.Initiator, s.Plan, s.LastSeq)
			}
			if diff := cmp.Diff(tt.statuses, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.pnr, cutover.Track(p, s, foldT0.Add(tt.at))); diff != "" {
				t.Errorf("Track (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFoldCommands(t *testing.T) {
	cmd := func(c cutover.Command) cutover.Record {
		return cutover.Record{Type: cutover.RecCommand, Command: c, Actor: "ops"}
	}
	s, err := cutover.Fold("c", foldSeq(startRecord, cmd(cutover.CmdPause), cmd(cutover.CmdPromote), cmd(cutover.CmdPause),
		cutover.Record{Type: cutover.RecData, Stage: "a", Key: "k", Value: "v"}, cmd(cutover.CmdAbort)))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Paused || s.Promotes != 1 || !s.Aborted || s.Stages[0].Data["k"] != "v" {
		t.Errorf("state %+v", s)
	}
	s, _ = cutover.Fold("c", foldSeq(startRecord, cmd(cutover.CmdPause), cmd(cutover.CmdResume)))
	if s.Paused {
		t.Error("still paused after resume")
	}
}
