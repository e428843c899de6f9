package cutover_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// badGreenPlan returns a plan of a canary stage judged by g that pauses
// after its bake, then an irreversible "retire" stage.
func badGreenPlan(c *cloud, g cutover.Gate) cutover.Plan {
	p := irreversiblePlan(c)
	p.Stages[0].Gates = []cutover.Gate{g}
	return p
}

// failedAfter reports when the journal's first Fail verdict was written and
// that the cutover ended rolled back with no stage left applied.
func rolledBackOnFail(t *testing.T, j cutover.Journal, c *cloud, o outcome) time.Time {
	t.Helper()
	var gf *cutover.GateFailedError
	if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.As(o.err, &gf) || o.st.Phase != cutover.PhaseRolledBack {
		t.Fatalf("run: %v (%s), want a rollback on the gate's Fail", o.err, o.st.Phase)
	}
	if c.applied["retire"] || c.applied["s0"] {
		t.Errorf("cloud after the rollback: %v", c.Applied())
	}
	for _, r := range readAll(t, j, "c") {
		if r.Type == cutover.RecVerdict && r.Verdict.Decision == cutover.Fail {
			return r.Time
		}
	}
	t.Fatal("no Fail verdict journaled")
	return time.Time{}
}

// rolledBackOnAbort checks that the run ended rolled back for an abort,
// its journal's last record a rolled_back written within bound of sent,
// and no stage left applied; it returns the journal's records.
func rolledBackOnAbort(t *testing.T, j cutover.Journal, c *cloud, o outcome, sent time.Time, bound time.Duration) []cutover.Record {
	t.Helper()
	if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.Is(o.err, cutover.ErrAborted) {
		t.Fatalf("run: %v, want rolled back for the abort", o.err)
	}
	recs := readAll(t, j, "c")
	last := recs[len(recs)-1]
	if last.Type != cutover.RecRolledBack {
		t.Fatalf("last record %s, want rolled_back", last.Type)
	}
	if took := last.Time.Sub(sent); took > bound {
		t.Errorf("rolled back %s after the abort, want within %s", took, bound)
	}
	if got := c.Applied(); len(got) != 0 {
		t.Errorf("applied after the rollback: %v", got)
	}
	return recs
}

// A canary paused after its bake is watched: green going bad during the
// pause rolls it back within one poll of the gate showing it.
func TestPauseWithBadGreenRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := &switchGate{name: "errors"}
		p := badGreenPlan(c, g)
		p.Stages[0].Pause = true
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll, WaitForApproval: true}, p)
		time.Sleep(30 * time.Minute) // baked, paused
		if st := foldAll(t, j, "c"); st.Stages[0].Status != cutover.StageBaked {
			t.Fatalf("s0 is %s, want baked and paused", st.Stages[0].Status)
		}
		bad := time.Now()
		g.fail.Store(true)
		o := <-done
		if at := rolledBackOnFail(t, j, c, o); at.Sub(bad) > poll {
			t.Errorf("Fail journaled %s after green went bad, want within a poll (%s)", at.Sub(bad), poll)
		}
	})
}

// A runner waiting for the approval of an irreversible stage watches
// green: when it goes bad, it rolls back and blue is never retired, even
// when an approval arrives afterwards.
func TestApprovalWaitWithBadGreenRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := &switchGate{name: "errors"}
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll, WaitForApproval: true}, badGreenPlan(c, g))
		time.Sleep(time.Hour)
		if st := foldAll(t, j, "c"); st.Phase != cutover.PhaseWaiting {
			t.Fatalf("phase %s, want waiting for the approval", st.Phase)
		}
		bad := time.Now()
		g.fail.Store(true)
		time.Sleep(poll / 2)
		_ = cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "bob", "looks fine", "")
		o := <-done
		if at := rolledBackOnFail(t, j, c, o); at.Sub(bad) > poll {
			t.Errorf("Fail journaled %s after green went bad, want within a poll", at.Sub(bad))
		}
	})
}

// A Run resuming a cutover stopped at the PNR judges green again before
// it retires anything: green gone bad since is rolled back.
func TestResumeAtPNRWithBadGreenRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := &switchGate{name: "errors"}
		p := badGreenPlan(c, g)
		j := cutover.NewMemJournal()
		if _, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("first run: %v, want ErrPNRNotApproved", err)
		}
		time.Sleep(2 * time.Hour)
		g.fail.Store(true)
		if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "bob", "approved this morning", ""); err != nil {
			t.Fatal(err)
		}
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p)
		rolledBackOnFail(t, j, c, outcome{st, err})
	})
}

// A Run resuming at the PNR with green still healthy journals the fresh
// verdict it crosses on, after the approval.
func TestResumeAtPNRJournalsFreshEvidence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := badGreenPlan(c, &switchGate{name: "errors"})
		j := cutover.NewMemJournal()
		if _, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("first run: %v, want ErrPNRNotApproved", err)
		}
		time.Sleep(2 * time.Hour)
		if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "bob", "ok", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p); err != nil {
			t.Fatal(err)
		}
		var approved, judged, retired uint64
		for _, r := range readAll(t, j, "c") {
			switch {
			case r.Type == cutover.RecCommand && r.Command == cutover.CmdApprove:
				approved = r.Seq
			case r.Type == cutover.RecVerdict && r.Verdict.Decision == cutover.Pass && approved > 0 && judged == 0:
				judged = r.Seq
			case r.Type == cutover.RecIntent && r.Stage == "retire":
				retired = r.Seq
			}
		}
		if !(approved < judged && judged < retired) {
			t.Errorf("approval seq %d, fresh pass seq %d, retire intent seq %d: want a pass journaled between them", approved, judged, retired)
		}
	})
}

// A promote that arrives in the last stage is answered, saying it ended
// that stage's bake, before the cutover completes.
func TestPromoteInLastStageIsAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(2, time.Hour)
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll}, p)
		time.Sleep(90 * time.Minute) // s1 bakes
		seq, err := cutover.SendSeq(context.Background(), j, "c", cutover.CmdPromote, "ops", "enough", "")
		if err != nil {
			t.Fatal(err)
		}
		if o := <-done; o.err != nil || o.st.Phase != cutover.PhaseCompleted {
			t.Fatalf("run: %v %s", o.err, o.st.Phase)
		}
		var ack *cutover.Record
		recs := readAll(t, j, "c")
		for k := range recs {
			if recs[k].Type == cutover.RecAck && recs[k].Ref == seq {
				ack = &recs[k]
			}
		}
		if ack == nil || ack.Reason != `promoting: the bake of stage "s1" ends now unless a gate fails` {
			t.Fatalf("answer to the promote: %+v", ack)
		}
		if last := recs[len(recs)-1]; last.Type != cutover.RecCompleted {
			t.Errorf("last record %s, want completed", last.Type)
		}
	})
}
