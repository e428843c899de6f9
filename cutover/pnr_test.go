package cutover_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/safecutover/safecutover/cutover"
)

// irreversiblePlan has s0 (reversible), retire (irreversible), s2.
func irreversiblePlan(c *cloud) cutover.Plan {
	p := c.plan(3, time.Minute)
	p.Stages[1].Name = "retire"
	p.Stages[1].Apply = func(context.Context) error { c.do("apply", "retire", true); return nil }
	p.Stages[1].Revert = nil
	p.Stages[1].Reversibility = cutover.Irreversible()
	return p
}

// An irreversible stage is never applied without a valid approval; the
// two-person rule rejects the initiator's own.
func TestIrreversibleNeedsApproval(t *testing.T) {
	tests := []struct {
		name      string
		twoPerson bool
		approvals [][2]string // actor, stage
		wantApply bool
	}{
		{"no approval", false, nil, false},
		{"approval by initiator", false, [][2]string{{"alice", "retire"}}, true},
		{"approval naming no stage", false, [][2]string{{"bob", ""}}, true},
		{"approval for another stage", false, [][2]string{{"bob", "s2"}}, false},
		{"two-person: initiator only", true, [][2]string{{"alice", "retire"}}, false},
		{"two-person: second person", true, [][2]string{{"alice", "retire"}, {"bob", "retire"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				p := irreversiblePlan(c)
				j := cutover.NewMemJournal()
				rec := &recorder{}
				r := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice", TwoPerson: tt.twoPerson, Observer: rec})
				st, err := r.Run(t.Context(), "c", p)
				if !errors.Is(err, cutover.ErrPNRNotApproved) || st.Phase != cutover.PhaseWaiting {
					t.Fatalf("first run: %v %s, want ErrPNRNotApproved, waiting", err, st.Phase)
				}
				if c.applied["retire"] {
					t.Fatal("retire applied without approval")
				}
				for _, a := range tt.approvals {
					err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, a[0], "checked dashboards", a[1])
					if tt.twoPerson && a[0] == "alice" {
						// Send applies the approval rule too.
						if err == nil {
							t.Fatal("Send wrote the initiator's approval under the two-person rule")
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				st, err = r.Run(t.Context(), "c", p)
				if got := c.applied["retire"]; got != tt.wantApply {
					t.Fatalf("retire applied %v, want %v (err %v)", got, tt.wantApply, err)
				}
				if !tt.wantApply {
					if !errors.Is(err, cutover.ErrPNRNotApproved) {
						t.Errorf("second run: %v", err)
					}
					// RecWaiting is journaled once, not per Run.
					n := 0
					for _, r := range readAll(t, j, "c") {
						if r.Type == cutover.RecWaiting {
							n++
						}
					}
					if n != 1 {
						t.Errorf("%d waiting records, want 1", n)
					}
					return
				}
				if err != nil || st.Phase != cutover.PhaseCompleted {
					t.Fatalf("second run: %v %s", err, st.Phase)
				}
				pnr := cutover.Track(p, st, time.Now())
				if !pnr.Crossed || pnr.CanRollBack || !pnr.Approved || pnr.Stage != "retire" || pnr.Index != 1 {
					t.Errorf("tracker %+v", pnr)
				}
				if rec.Count(cutover.EvPNRCrossed) != 1 || rec.Count(cutover.EvApproved) != 1 {
					t.Errorf("events %v", rec.Types())
				}
			})
		})
	}
}

// With WaitForApproval the runner waits, polling, and applies the stage
// within one poll of the approval, never before.
func TestWaitForApproval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		var appliedAt time.Time
		p := irreversiblePlan(c)
		p.Stages[1].Apply = func(context.Context) error { appliedAt = time.Now(); c.do("apply", "retire", true); return nil }
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{Actor: "alice", WaitForApproval: true, PollInterval: poll}, p)
		time.Sleep(3 * time.Hour)
		if st := foldAll(t, j, "c"); st.Phase != cutover.PhaseWaiting || !appliedAt.IsZero() {
			t.Fatalf("after 3h: phase %s, applied at %v", st.Phase, appliedAt)
		}
		if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "bob", "ok", ""); err != nil {
			t.Fatal(err)
		}
		approved := time.Now()
		o := <-done
		if o.err != nil {
			t.Fatal(o.err)
		}
		if d := appliedAt.Sub(approved); d < 0 || d > poll {
			t.Errorf("applied %s after approval, want ≤ %s", d, poll)
		}
	})
}

// windowPlan has s0, keep-blue (reversible within 30m), s2 baking bake.
func windowPlan(c *cloud, bake time.Duration) cutover.Plan {
	p := c.plan(3, time.Minute)
	p.Stages[1].Name = "keep-blue"
	p.Stages[1].Apply = func(context.Context) error { c.do("apply", "keep-blue", true); return nil }
	p.Stages[1].Revert = func(context.Context) error { c.do("revert", "keep-blue", false); return nil }
	p.Stages[1].Reversibility = cutover.ReversibleWithin(30 * time.Minute)
	p.Stages[2].Bake = bake
	return p
}

// A window about to close without approval rolls back while it still can;
// with an approval it closes and the cutover completes.
func TestReversibilityWindow(t *testing.T) {
	tests := []struct {
		name    string
		approve bool
		bake    time.Duration // of the stage after the window
		wait    bool
	}{
		{"closes unapproved mid-plan", false, time.Hour, false},
		{"approved", true, time.Hour, false},
		{"open at the end, waiting", false, time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				p := windowPlan(c, tt.bake)
				j := cutover.NewMemJournal()
				rec := &recorder{}
				o := cutover.RunnerOptions{Actor: "alice", Observer: rec, PollInterval: poll, PNRWarning: 10 * time.Minute, WaitForApproval: tt.wait}
				done := startRun(t.Context(), j, o, p)
				if tt.approve {
					time.Sleep(time.Second)
					if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "bob", "blue can go", "keep-blue"); err != nil {
						t.Fatal(err)
					}
				}
				res := <-done
				applied := res.st.Stages[1].AppliedAt
				closes := applied.Add(30 * time.Minute)
				warn, ok := rec.First(cutover.EvPNRApproaching)
				if !ok || warn.Time.Before(closes.Add(-10*time.Minute)) || warn.Time.After(closes.Add(-10*time.Minute+poll)) {
					t.Errorf("pnr_approaching at %v (ok %v), want 10m before %v", warn.Time, ok, closes)
				}
				if warn.PNR.Until != closes || !warn.PNR.CanRollBack {
					t.Errorf("tracker in the warning %+v, want until %v", warn.PNR, closes)
				}
				if tt.approve {
					if res.err != nil {
						t.Fatal(res.err)
					}
					e, ok := rec.First(cutover.EvPNRCrossed)
					if !ok || e.Time.Before(closes) || e.Time.After(closes.Add(poll)) || !e.PNR.Crossed {
						t.Errorf("pnr_crossed %+v, want at %v", e, closes)
					}
					return
				}
				if !errors.Is(res.err, cutover.ErrRolledBack) || !errors.Is(res.err, cutover.ErrPNRNotApproved) {
					t.Fatalf("err %v, want a rollback caused by ErrPNRNotApproved", res.err)
				}
				rb, _ := rec.First(cutover.EvRollingBack)
				if !rb.Time.Before(closes) || rb.Time.Before(closes.Add(-poll)) {
					t.Errorf("rolled back at %v, want within a poll before %v", rb.Time, closes)
				}
				if diff := cmp.Diff([]string(nil), c.Applied()); diff != "" {
					t.Errorf("cloud (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// Without WaitForApproval, a window still open at the end of the plan is
// not left unattended: the runner waits for its approval, watching green,
// and rolls back before it closes unapproved; with an approval sent while
// it waits, it completes.
func TestWindowOpenAtEndNotWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := windowPlan(c, time.Minute)
		j := cutover.NewMemJournal()
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice", PollInterval: poll}).Run(t.Context(), "c", p)
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.Is(err, cutover.ErrPNRNotApproved) || st.Phase != cutover.PhaseRolledBack {
			t.Fatalf("%v %s, want a rollback before the window closed unapproved", err, st.Phase)
		}
		if len(c.Applied()) != 0 {
			t.Errorf("cloud after the rollback: %v", c.Applied())
		}

		c = newCloud()
		p = windowPlan(c, time.Minute)
		j = cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{Actor: "alice", PollInterval: poll}, p)
		for k := 0; foldAll(t, j, "c").Phase != cutover.PhaseWaiting; k++ {
			if k > 100 {
				t.Fatal("the runner never waited for the window's approval")
			}
			time.Sleep(poll)
		}
		if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "bob", "fine", ""); err != nil {
			t.Fatal(err)
		}
		if o := <-done; o.err != nil || o.st.Phase != cutover.PhaseCompleted {
			t.Fatalf("%v %s, want completed", o.err, o.st.Phase)
		}
	})
}

// A window that closed while no runner watched it, unapproved, is a
// failure past the PNR: the stages after it are reverted, not it.
func TestWindowClosedWhileNobodyWatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := windowPlan(c, time.Hour)
		j := cutover.NewMemJournal()
		ctx, cancel := context.WithCancel(t.Context())
		// Crash the runner while s2 bakes: a journal that dies.
		cj := &crashJournal{Journal: j, n: 1 << 40}
		go func() {
			time.Sleep(10 * time.Minute)
			cj.dead.Store(true)
		}()
		_, err := cutover.MustNewRunner(cj, cutover.RunnerOptions{}).Run(ctx, "c", p)
		cancel()
		if !errors.Is(err, errCrash) {
			t.Fatalf("err %v", err)
		}
		time.Sleep(time.Hour)
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
		if !errors.Is(err, cutover.ErrPNRCrossed) || !errors.Is(err, cutover.ErrPNRNotApproved) || st.Phase != cutover.PhaseFailed {
			t.Fatalf("%v %s, want ErrPNRCrossed caused by ErrPNRNotApproved", err, st.Phase)
		}
		if !strings.Contains(st.Cause, "without approval (incident)") {
			t.Errorf("cause %q, want it journaled as crossed without approval", st.Cause)
		}
		if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "bob", "too late", "keep-blue"); err == nil {
			t.Error("Send accepted an approval of a window that had closed")
		}
		if diff := cmp.Diff([]string{"keep-blue", "s0"}, c.Applied()); diff != "" {
			t.Errorf("cloud (-want +got):\n%s", diff)
		}
	})
}
