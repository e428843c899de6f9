package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/safecutover/safecutover/cutover"
)

// A Fail at stage k of n reverts the applied stages, k included, in reverse
// order, and the cloud ends where it started.
func TestGateFailAtStageKRevertsInReverse(t *testing.T) {
	const n = 5
	for k := range n {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				p := c.plan(n, time.Minute)
				bad := &switchGate{name: "errors"}
				bad.fail.Store(true)
				p.Stages[k].Gates = append(p.Stages[k].Gates, bad)
				j := cutover.NewMemJournal()
				rec := &recorder{}
				st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{Observer: rec}).Run(t.Context(), "c", p)
				if !errors.Is(err, cutover.ErrRolledBack) {
					t.Fatalf("err %v, want ErrRolledBack", err)
				}
				var gf *cutover.GateFailedError
				if !errors.As(err, &gf) || gf.Stage != fmt.Sprintf("s%d", k) || gf.Gate != "errors" || gf.TimedOut {
					t.Fatalf("err %v, want a *GateFailedError for stage s%d gate errors", err, k)
				}
				var want []string
				for i := k; i >= 0; i-- {
					want = append(want, fmt.Sprintf("s%d", i))
				}
				if diff := cmp.Diff(want, c.Reverts()); diff != "" {
					t.Errorf("reverts (-want +got):\n%s", diff)
				}
				if got := c.Applied(); len(got) != 0 {
					t.Errorf("cloud still has %v applied", got)
				}
				if diff := cmp.Diff(foldAll(t, j, "c"), st); diff != "" {
					t.Errorf("Run's state differs from the journal's fold (-fold +run):\n%s", diff)
				}
				if st.Phase != cutover.PhaseRolledBack {
					t.Errorf("phase %s, want rolled_back", st.Phase)
				}
				if rec.Count(cutover.EvStageReverted) != k+1 || rec.Count(cutover.EvRolledBack) != 1 {
					t.Errorf("events %v", rec.Types())
				}
				// Running it again reports the same outcome and changes nothing.
				_, err = cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
				if !errors.Is(err, cutover.ErrRolledBack) || len(readAll(t, j, "c")) != int(st.LastSeq) {
					t.Errorf("rerun: %v", err)
				}
			})
		})
	}
}

// A stage whose Apply or Verify fails is reverted too: it may be partly
// applied.
func TestApplyOrVerifyErrorRollsBack(t *testing.T) {
	boom := errors.New("boom")
	for _, action := range []string{"apply", "verify"} {
		t.Run(action, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				p := c.plan(3, time.Minute)
				s := &p.Stages[1]
				if action == "apply" {
					s.Apply = func(context.Context) error { c.do("apply", "s1", true); return boom }
				} else {
					s.Verify = func(context.Context) error { return boom }
				}
				j := cutover.NewMemJournal()
				_, err := cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
				var se *cutover.StageError
				if !errors.Is(err, cutover.ErrRolledBack) || !errors.Is(err, boom) || !errors.As(err, &se) || se.Stage != "s1" || se.Action != action {
					t.Fatalf("err %v, want ErrRolledBack and a StageError s1 %s wrapping boom", err, action)
				}
				if diff := cmp.Diff([]string{"s1", "s0"}, c.Reverts()); diff != "" {
					t.Errorf("reverts (-want +got):\n%s", diff)
				}
				if got := c.Applied(); len(got) != 0 {
					t.Errorf("cloud still has %v applied", got)
				}
			})
		})
	}
}

// A revert that fails with a permanent error is journaled and not tried
// again: the rollback stops incomplete at once, naming the stage, and a
// later Run goes on counting its attempts.
func TestRevertPermanentErrorStopsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(2, time.Minute)
		bad := &switchGate{name: "bad"}
		bad.fail.Store(true)
		p.Stages[1].Gates = []cutover.Gate{bad}
		calls := 0
		p.Stages[0].Revert = func(context.Context) error {
			calls++
			return errors.New("access denied")
		}
		j := cutover.NewMemJournal()
		start := time.Now()
		_, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p)
		if !errors.Is(err, cutover.ErrRollbackIncomplete) || !strings.Contains(err.Error(), `stage "s0": revert: access denied`) {
			t.Fatalf("err %v, want ErrRollbackIncomplete naming stage s0's revert", err)
		}
		if calls != 1 {
			t.Errorf("revert called %d times, want 1", calls)
		}
		if d := time.Since(start); d > 5*time.Minute {
			t.Errorf("the run took %v: a permanent error must not wait out RevertTimeout", d)
		}
		var attempts []int
		for _, r := range readAll(t, j, "c") {
			if r.Type == cutover.RecRevertFailed {
				attempts = append(attempts, r.Attempt)
			}
		}
		if diff := cmp.Diff([]int{1}, attempts); diff != "" {
			t.Errorf("revert_failed attempts (-want +got):\n%s", diff)
		}
	})
}

// A revert that fails is journaled and retried with exponential backoff.
func TestRevertRetriedWithBackoff(t *testing.T) {
	s := time.Second
	for _, tt := range []struct {
		name    string
		backoff time.Duration
		gaps    []time.Duration // between attempts: doubling, capped at 30s
	}{
		{"doubling", s, []time.Duration{s, 2 * s, 4 * s}},
		{"capped at 30s", 4 * s, []time.Duration{4 * s, 8 * s, 16 * s, 30 * s, 30 * s, 30 * s}},
	} {
		t.Run(tt.name, func(t *testing.T) { revertRetriedWithBackoff(t, tt.backoff, tt.gaps) })
	}
}

func revertRetriedWithBackoff(t *testing.T, backoff time.Duration, wantGaps []time.Duration) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(2, time.Minute)
		bad := &switchGate{name: "bad"}
		bad.fail.Store(true)
		p.Stages[1].Gates = []cutover.Gate{bad}
		var times []time.Duration
		start := time.Now()
		fails := len(wantGaps)
		p.Stages[0].Revert = func(context.Context) error {
			times = append(times, time.Since(start))
			if fails > 0 {
				fails--
				return transientErr{true}
			}
			c.do("revert", "s0", false)
			return nil
		}
		j := cutover.NewMemJournal()
		rec := &recorder{}
		_, err := cutover.MustNewRunner(j, cutover.RunnerOptions{Observer: rec, RetryBackoff: backoff}).Run(t.Context(), "c", p)
		if !errors.Is(err, cutover.ErrRolledBack) {
			t.Fatalf("err %v, want ErrRolledBack", err)
		}
		base := times[0]
		var gaps []time.Duration
		for _, x := range times[1:] {
			gaps = append(gaps, x-base)
			base = x
		}
		if diff := cmp.Diff(wantGaps, gaps); diff != "" {
			t.Errorf("backoff (-want +got):\n%s", diff)
		}
		var attempts, want []int
		for i := range wantGaps {
			want = append(want, i+1)
		}
		for _, r := range readAll(t, j, "c") {
			if r.Type == cutover.RecRevertFailed {
				attempts = append(attempts, r.Attempt)
			}
		}
		if diff := cmp.Diff(want, attempts); diff != "" {
			t.Errorf("journaled attempts (-want +got):\n%s", diff)
		}
		if rec.Count(cutover.EvRevertFailed) != len(wantGaps) || len(c.Applied()) != 0 {
			t.Errorf("events %v, cloud %v", rec.Types(), c.Applied())
		}
	})
}

// A revert that keeps failing gives up at RevertTimeout with
// ErrRollbackIncomplete and a resumable journal; a later Run finishes.
func TestRevertFailingForeverThenResumed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(3, time.Minute)
		bad := &switchGate{name: "bad"}
		bad.fail.Store(true)
		p.Stages[2].Gates = []cutover.Gate{bad}
		broken := true
		p.Stages[1].Revert = func(context.Context) error {
			if broken {
				return errors.New("api down")
			}
			c.do("revert", "s1", false)
			return nil
		}
		j := cutover.NewMemJournal()
		start := time.Now()
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{RevertTimeout: 5 * time.Minute}).Run(t.Context(), "c", p)
		if !errors.Is(err, cutover.ErrRollbackIncomplete) || errors.Is(err, cutover.ErrRolledBack) {
			t.Fatalf("err %v, want ErrRollbackIncomplete only", err)
		}
		var gf *cutover.GateFailedError
		if !errors.As(err, &gf) {
			t.Errorf("err %v does not carry the cause", err)
		}
		if took := time.Since(start) - 3*time.Minute; took > 6*time.Minute {
			t.Errorf("rollback took %s, want about RevertTimeout", took)
		}
		if st.Phase != cutover.PhaseFailed || st.Stages[1].Status != cutover.StageReverting || st.Stages[0].Status != cutover.StageBaked {
			t.Fatalf("state %s %v", st.Phase, st.Stages)
		}
		if diff := cmp.Diff([]string{"s0", "s1"}, c.Applied()); diff != "" {
			t.Errorf("cloud (-want +got):\n%s", diff)
		}
		broken = false
		st, err = cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
		if !errors.Is(err, cutover.ErrRolledBack) || st.Phase != cutover.PhaseRolledBack {
			t.Fatalf("resumed: %v %s, want rolled back", err, st.Phase)
		}
		if got := c.Applied(); len(got) != 0 {
			t.Errorf("cloud still has %v applied", got)
		}
		if !hasText(err.Error(), "bad") {
			t.Errorf("resumed error %q does not name the original cause", err)
		}
	})
}

func hasText(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// Cancelling the caller's context mid-bake rolls back on the runner's own
// context, and the journal says so.
func TestCancelMidBakeRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(3, time.Hour)
		ctx, cancel := context.WithCancelCause(t.Context())
		cause := errors.New("operator hit ctrl-c")
		// Reverts honour ctx: they fail if called with a cancelled one.
		for i := range p.Stages {
			name := p.Stages[i].Name
			p.Stages[i].Revert = func(ctx context.Context) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				c.do("revert", name, false)
				return nil
			}
		}
		go func() {
			time.Sleep(90 * time.Minute) // stage s1 is baking
			cancel(cause)
		}()
		j := cutover.NewMemJournal()
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(ctx, "c", p)
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.Is(err, cause) {
			t.Fatalf("err %v, want ErrRolledBack and the cause", err)
		}
		if st.Phase != cutover.PhaseRolledBack || foldAll(t, j, "c").Phase != cutover.PhaseRolledBack {
			t.Errorf("phase %s", st.Phase)
		}
		if diff := cmp.Diff([]string{"s1", "s0"}, c.Reverts()); diff != "" {
			t.Errorf("reverts (-want +got):\n%s", diff)
		}
		if err := c.matches(st); err != nil {
			t.Error(err)
		}
	})
}

// A failure after the PNR reverts only the stages after it and reports
// ErrPNRCrossed; a later Run reports the same without writing.
func TestFailureAfterPNR(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(5, time.Minute)
		p.Stages[2].Reversibility = cutover.Irreversible()
		p.Stages[2].Revert = nil
		bad := &switchGate{name: "bad"}
		bad.fail.Store(true)
		p.Stages[4].Gates = []cutover.Gate{bad}
		j := cutover.NewMemJournal()
		r := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice", WaitForApproval: true})
		go func() {
			time.Sleep(90 * time.Second)
			if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "bob", "go", "s2"); err != nil {
				t.Error(err)
			}
		}()
		st, err := r.Run(t.Context(), "c", p)
		if !errors.Is(err, cutover.ErrPNRCrossed) || errors.Is(err, cutover.ErrRolledBack) {
			t.Fatalf("err %v, want ErrPNRCrossed", err)
		}
		var gf *cutover.GateFailedError
		if !errors.As(err, &gf) || gf.Stage != "s4" {
			t.Errorf("err %v, want the gate failure as cause", err)
		}
		if diff := cmp.Diff([]string{"s4", "s3"}, c.Reverts()); diff != "" {
			t.Errorf("reverts (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"s0", "s1", "s2"}, c.Applied()); diff != "" {
			t.Errorf("cloud (-want +got):\n%s", diff)
		}
		if st.Phase != cutover.PhaseFailed {
			t.Errorf("phase %s, want failed", st.Phase)
		}
		n := len(readAll(t, j, "c"))
		if _, err := r.Run(t.Context(), "c", p); !errors.Is(err, cutover.ErrPNRCrossed) || len(readAll(t, j, "c")) != n {
			t.Errorf("rerun: %v, records %d → %d", err, n, len(readAll(t, j, "c")))
		}
	})
}

// Crash at every journal append of a 6-stage plan, then a new runner on the
// same journal: it converges every time, and the cloud matches the journal.
func TestCrashAtEveryAppendConverges(t *testing.T) {
	scenarios := []struct {
		name    string
		failAt  int // stage whose gate fails, -1 for none
		wantEnd cutover.Phase
	}{
		{"completes", -1, cutover.PhaseCompleted},
		{"gate fails at stage 4", 4, cutover.PhaseRolledBack},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			build := func(c *cloud) cutover.Plan {
				p := c.plan(6, time.Minute)
				for i := range p.Stages {
					name := p.Stages[i].Name
					p.Stages[i].Apply = func(ctx context.Context) error {
						c.do("apply", name, true)
						return cutover.Remember(ctx, "deployment", "d-"+name)
					}
				}
				if sc.failAt >= 0 {
					bad := &switchGate{name: "bad"}
					bad.fail.Store(true)
					p.Stages[sc.failAt].Gates = append(p.Stages[sc.failAt].Gates, bad)
				}
				return p
			}
			// Count the appends of an uninterrupted run.
			var total int64
			synctest.Test(t, func(t *testing.T) {
				cj := &crashJournal{Journal: cutover.NewMemJournal(), n: 1 << 40}
				st, _ := cutover.MustNewRunner(cj, cutover.RunnerOptions{}).Run(t.Context(), "c", build(newCloud()))
				if st.Phase != sc.wantEnd {
					t.Fatalf("uninterrupted run ends %s, want %s", st.Phase, sc.wantEnd)
				}
				total = cj.appends.Load()
			})
			if total < 20 {
				t.Fatalf("only %d appends", total)
			}
			converged := 0
			for n := int64(1); n <= total; n++ {
				synctest.Test(t, func(t *testing.T) {
					c := newCloud()
					p := build(c)
					mem := cutover.NewMemJournal()
					cj := &crashJournal{Journal: mem, n: n}
					if _, err := cutover.MustNewRunner(cj, cutover.RunnerOptions{}).Run(t.Context(), "c", p); !errors.Is(err, errCrash) {
						t.Fatalf("crash at append %d: err %v, want the crash", n, err)
					}
					before := foldAll(t, mem, "c")
					if err := c.matches(before); err != nil {
						t.Errorf("crash at append %d: after the crash: %v", n, err)
					}
					st, err := cutover.MustNewRunner(mem, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
					if n == 1 {
						// Nothing was journaled: the new runner starts afresh.
						before.Phase = cutover.PhaseNew
					}
					if st.Phase != sc.wantEnd {
						t.Errorf("crash at append %d: resumed run ends %s (%v), want %s", n, st.Phase, err, sc.wantEnd)
						return
					}
					if err := c.matches(st); err != nil {
						t.Errorf("crash at append %d: %v", n, err)
						return
					}
					want := []string{"s0", "s1", "s2", "s3", "s4", "s5"}
					if sc.wantEnd == cutover.PhaseRolledBack {
						want = nil
					}
					if diff := cmp.Diff(want, c.Applied()); diff != "" {
						t.Errorf("crash at append %d: cloud (-want +got):\n%s", n, diff)
						return
					}
					for i, s := range st.Stages {
						if s.Status == cutover.StageBaked && s.Data["deployment"] != "d-"+s.Name {
							t.Errorf("crash at append %d: stage %d data %v", n, i, s.Data)
						}
					}
					converged++
				})
			}
			if converged != int(total) {
				t.Errorf("converged at %d of %d crash points", converged, total)
			}
			t.Logf("%s: converged at %d of %d crash points", sc.name, converged, total)
		})
	}
}

// Past the PNR the way out is forward: an irreversible stage whose apply
// failed is applied again by a later Run, even when an abort was sent
// meanwhile (an abort cannot undo it, and leaving it half-applied is the
// worst place to stop).
func TestAbortDoesNotStrandUnfinishedIrreversibleStage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		retire := c.irreversible("retire")
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s0", time.Minute, pass("ok")), retire}}
		c.do("apply", "s0", true)
		j := cutover.NewMemJournal()
		// The first runner applied s0, was approved, failed to apply
		// retire until its bound ran out; an abort came meanwhile.
		appendRecords(t, j, "c",
			cutover.Record{Type: cutover.RecStart, Plan: "p", Stages: []string{"s0", "retire"}, Actor: "alice"},
			cutover.Record{Type: cutover.RecIntent, Stage: "s0", Index: 0, Action: "apply"},
			cutover.Record{Type: cutover.RecApplied, Stage: "s0", Index: 0},
			cutover.Record{Type: cutover.RecBaked, Stage: "s0", Index: 0},
			cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "bob", Reason: "go"},
			cutover.Record{Type: cutover.RecIntent, Stage: "retire", Index: 1, Action: "apply"},
			cutover.Record{Type: cutover.RecApplyFailed, Stage: "retire", Index: 1, Attempt: 1, Error: "throttled"},
			cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdAbort, Actor: "carol"},
			cutover.Record{Type: cutover.RecFailed, Stage: "retire", Index: 1, Error: "point of no return already crossed at stage \"retire\": apply keeps failing"},
		)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: time.Second}).Run(ctx, "c", p)
		if got := c.Applied(); !slices.Contains(got, "retire") {
			t.Fatalf("Run: %v; cloud has %v applied, want retire applied again (rolled forward)", err, got)
		}
		if s := st.Stages[1].Status; s != cutover.StageApplied && s != cutover.StageBaked {
			t.Errorf("retire is %s in the journal, want applied or baked", s)
		}
		if err := c.matches(foldAll(t, j, "c")); err != nil {
			t.Error(err)
		}
	})
}
