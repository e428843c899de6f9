package sshsign_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// retirePlan has a reversible shift and an irreversible retire; applied
// records which stages were applied.
func retirePlan(applied map[string]bool) cutover.Plan {
	noop := func(context.Context) error { return nil }
	return cutover.Plan{Name: "migrate", Stages: []cutover.Stage{
		{Name: "shift", Apply: func(context.Context) error { applied["shift"] = true; return nil }, Revert: noop, Reversibility: cutover.Reversible()},
		{Name: "retire", Apply: func(context.Context) error { applied["retire"] = true; return nil }, Reversibility: cutover.Irreversible()},
	}}
}

// answer returns the runner's answer to the command seq.
func answer(t *testing.T, j cutover.Journal, id string, seq uint64) cutover.Record {
	t.Helper()
	recs, err := j.Read(context.Background(), id, seq)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type == cutover.RecAck && r.Ref == seq {
			return r
		}
	}
	t.Fatalf("command seq %d has no answer", seq)
	return cutover.Record{}
}

// TestRunnerTakesOnlySignedApprovals drives a cutover whose irreversible
// stage waits for an approval, with approvers configured and the
// two-person rule: every approval that is forged, unsigned, replayed, by
// the wrong role or by the initiator is refused with its reason
// journaled, and nothing moves; a second approver's signed approval is
// taken.
func TestRunnerTakesOnlySignedApprovals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := newTeam(t)
		j := cutover.NewMemJournal()
		applied := map[string]bool{}
		p := retirePlan(applied)
		r := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice@example.com", Signer: tm.alice, Approvers: tm.approvers, TwoPerson: true})
		ctx := t.Context()
		if _, err := r.Run(ctx, "c1", p); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("first run: %v; want ErrPNRNotApproved", err)
		}
		recs, err := j.Read(ctx, "c1", 0)
		if err != nil {
			t.Fatal(err)
		}
		start := recs[0]
		if start.Signed == nil || start.Signed.Key != tm.alice.Key() {
			t.Fatalf("start record not signed by the initiator's key: %+v", start.Signed)
		}
		appendCopy := func(rec cutover.Record) uint64 {
			t.Helper()
			all, err := j.Read(ctx, "c1", 0)
			if err != nil {
				t.Fatal(err)
			}
			rec.Seq, rec.Time = all[len(all)-1].Seq+1, time.Now()
			if err := j.Append(ctx, "c1", rec); err != nil {
				t.Fatal(err)
			}
			return rec.Seq
		}
		// send journals an approval as a tool other than Send would, past
		// Send's own checks (Send refuses an unsigned approval, or one by
		// the start's key, before writing): the runner must refuse it.
		send := func(s cutover.Signer, actor string) uint64 {
			t.Helper()
			rec := cutover.Record{Type: cutover.RecCommand, Time: time.Now(), Command: cutover.CmdApprove, Actor: actor, Reason: "checked", Stage: "retire"}
			if s != nil {
				if err := cutover.SignCommand(ctx, s, "c1", cutover.PlanHash(start), &rec); err != nil {
					t.Fatal(err)
				}
			}
			return appendCopy(rec)
		}
		// A signature bob gave in another cutover of the same plan.
		other := cutover.Record{Type: cutover.RecCommand, Time: time.Now(), Command: cutover.CmdApprove, Actor: "bob@example.com", Reason: "checked", Stage: "retire"}
		if err := cutover.SignCommand(ctx, tm.bob, "c0", cutover.PlanHash(start), &other); err != nil {
			t.Fatal(err)
		}
		// A signature bob gave for the earlier stage, relabelled.
		earlier := cutover.Record{Type: cutover.RecCommand, Time: time.Now(), Command: cutover.CmdApprove, Actor: "bob@example.com", Reason: "checked", Stage: "shift"}
		if err := cutover.SignCommand(ctx, tm.bob, "c1", cutover.PlanHash(start), &earlier); err != nil {
			t.Fatal(err)
		}
		earlier.Stage = "retire"

		refusals := []struct {
			name string
			seq  uint64
			want string
		}{
			{"unsigned", send(nil, "bob@example.com"), "refused: unsigned"},
			{"forged under bob's name", send(tm.carol, "bob@example.com"), "refused: unknown key"},
			{"unknown key", send(tm.mallory, "mallory"), "refused: unknown key"},
			{"no approve role", send(tm.carol, "carol@example.com"), "refused: wrong role"},
			{"initiator's own", send(tm.alice, "alice@example.com"), "refused: signature: key"},
			{"from another cutover", appendCopy(other), "refused: replayed"},
			{"from an earlier stage", appendCopy(earlier), "refused: replayed"},
		}
		if _, err := r.Run(ctx, "c1", p); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("run after refused approvals: %v; want ErrPNRNotApproved", err)
		}
		if applied["retire"] {
			t.Fatal("retire applied on a refused approval")
		}
		for _, rf := range refusals {
			// Only the initiator's own approval was signed by a key the
			// runner verified; its answer names it.
			wantKey := ""
			if rf.name == "initiator's own" {
				wantKey = tm.alice.Key()
			}
			if a := answer(t, j, "c1", rf.seq); !strings.HasPrefix(a.Error, rf.want) || a.Identity != wantKey {
				t.Errorf("%s: answer %q (identity %q); want %q…", rf.name, a.Error, a.Identity, rf.want)
			}
		}

		if _, err := cutover.SendSeq(ctx, j, "c1", cutover.CmdApprove, "bob@example.com", "unsigned", "retire"); err == nil {
			t.Error("Send wrote an unsigned approval to a cutover whose start is signed")
		}
		if _, err := cutover.SendSigned(ctx, j, "c1", cutover.CmdApprove, "alice@example.com", "mine", "retire", tm.alice); err == nil {
			t.Error("Send wrote an approval signed with the start's key under the two-person rule")
		}
		good, err := cutover.SendSigned(ctx, j, "c1", cutover.CmdApprove, "bob@example.com", "checked", "retire", tm.bob)
		if err != nil {
			t.Fatal(err)
		}
		st, err := r.Run(ctx, "c1", p)
		if err != nil || st.Phase != cutover.PhaseCompleted || !applied["retire"] {
			t.Fatalf("run after bob's approval: %v, %s, retire applied %v; want completed", err, st.Phase, applied["retire"])
		}
		if a := answer(t, j, "c1", good); a.Error != "" || a.Identity != tm.bob.Key() {
			t.Errorf("bob's approval answered %q with identity %q; want accepted as %s", a.Error, a.Identity, tm.bob.Key())
		}
		if st.InitiatorKey != tm.alice.Key() {
			t.Errorf("initiator key %q; want %s", st.InitiatorKey, tm.alice.Key())
		}

		// The audit agrees with the runner.
		recs, err = j.Read(ctx, "c1", 0)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := tm.approvers.VerifyJournal(ctx, "c1", recs)
		if err != nil {
			t.Fatal(err)
		}
		var accepted []uint64
		for _, v := range vs {
			if v.Err == nil {
				accepted = append(accepted, v.Seq)
			}
		}
		// The initiator's own approval verifies (the two-person rule is
		// the runner's), so the audit accepts start, it and bob's.
		if len(accepted) != 3 || accepted[0] != 1 || accepted[2] != good {
			t.Errorf("audit accepted seqs %v; want 1, the initiator's approval and %d", accepted, good)
		}
	})
}

// TestRunnerRefusesUnsignedSteering: an unsigned abort and pause change
// nothing.
func TestRunnerRefusesUnsignedSteering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := newTeam(t)
		j := cutover.NewMemJournal()
		applied := map[string]bool{}
		p := retirePlan(applied)
		r := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice@example.com", Signer: tm.alice, Approvers: tm.approvers})
		ctx := t.Context()
		if _, err := r.Run(ctx, "c1", p); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("first run: %v", err)
		}
		abort, err := cutover.SendSeq(ctx, j, "c1", cutover.CmdAbort, "mallory", "because", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cutover.SendSigned(ctx, j, "c1", cutover.CmdApprove, "bob@example.com", "ok", "retire", tm.bob); err != nil {
			t.Fatal(err)
		}
		st, err := r.Run(ctx, "c1", p)
		if err != nil || st.Phase != cutover.PhaseCompleted || st.Aborted {
			t.Fatalf("run: %v %s aborted=%v; want completed, the unsigned abort refused", err, st.Phase, st.Aborted)
		}
		if a := answer(t, j, "c1", abort); !strings.HasPrefix(a.Error, "refused: unsigned") {
			t.Errorf("unsigned abort answered %q; want refused: unsigned", a.Error)
		}
	})
}

func TestRunnerStartNeedsTheStartRole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := newTeam(t)
		j := cutover.NewMemJournal()
		p := retirePlan(map[string]bool{})
		r := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "bob@example.com", Signer: tm.bob, Approvers: tm.approvers})
		if _, err := r.Run(t.Context(), "c1", p); !errors.Is(err, cutover.ErrRefused) || !strings.Contains(err.Error(), "wrong role") {
			t.Fatalf("start by a key without the start role: %v; want refused: wrong role", err)
		}
		if recs, _ := j.Read(t.Context(), "c1", 0); len(recs) != 0 {
			t.Errorf("%d records journaled; want none", len(recs))
		}
		if _, err := cutover.NewRunner(j, cutover.RunnerOptions{Actor: "alice@example.com", Approvers: tm.approvers}); err == nil || !strings.Contains(err.Error(), "Signer") {
			t.Errorf("approvers without a signer: %v; want an error naming Signer", err)
		}
	})
}
