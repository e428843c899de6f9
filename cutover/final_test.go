package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
)

// A final Pass ends the bake early even when other gates pass without being
// final (an alarm that is OK now cannot conclude anything): every gate must
// pass, and at least one must have concluded.
func TestFinalPassWithNonFinalPassesEndsBake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		alarm := &resettable{name: "alarm", answer: func(int) (cutover.Verdict, error) {
			return cutover.Verdict{Decision: cutover.Pass, Reason: "alarm OK"}, nil
		}}
		judge := &resettable{name: "judge", answer: func(call int) (cutover.Verdict, error) {
			if call < 3 {
				return cutover.Verdict{Decision: cutover.Pending, Reason: "not enough evidence"}, nil
			}
			return cutover.Verdict{Decision: cutover.Pass, Final: true, Reason: "no worse than blue"}, nil
		}}
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s", time.Hour, alarm, judge)}}
		var baked time.Time
		obs := cutover.ObserverFunc(func(e cutover.Event) {
			if e.Type == cutover.EvStageBaked {
				baked = e.Time
			}
		})
		st, err := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{Observer: obs, PollInterval: poll}).Run(t.Context(), "c", p)
		if err != nil {
			t.Fatal(err)
		}
		if got := baked.Sub(st.Stages[0].AppliedAt); got != 2*poll {
			t.Errorf("bake took %s, want %s (ended by the judge's final pass)", got, 2*poll)
		}
	})
}

// A gate whose figures are not finite (a ratio over zero requests) is still
// journaled, by a journal that refuses NaN and Inf, with the figures made
// finite; and once: the same verdict every poll, NaN included, is no new
// evidence at the end of the bake.
func TestNonFiniteFiguresAreJournaled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := &resettable{name: "ratio", answer: func(int) (cutover.Verdict, error) {
			return cutover.Verdict{Decision: cutover.Pass, Reason: "no requests on blue",
				Figures: map[string]float64{"ratio": math.Inf(1), "low": math.Inf(-1), "undefined": math.NaN(), "requests": 0}}, nil
		}}
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s", time.Minute, g)}}
		j, err := cutover.NewFileJournal(t.TempDir(), cutover.FileJournalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p); err != nil {
			t.Fatal(err)
		}
		var figs map[string]float64
		n := 0
		for _, r := range readAll(t, j, "c") {
			if r.Type == cutover.RecVerdict {
				figs = r.Verdict.Figures
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d verdict records, want 1 (the gate said the same every poll)", n)
		}
		want := map[string]float64{"ratio": math.MaxFloat64, "low": -math.MaxFloat64, "requests": 0}
		if len(figs) != len(want) {
			t.Fatalf("journaled figures %v, want %v", figs, want)
		}
		for k, v := range want {
			if figs[k] != v {
				t.Errorf("figure %s = %v, want %v", k, figs[k], v)
			}
		}
	})
}

// An irreversible stage whose Apply fails cannot be rolled back: the runner
// applies it again within its bound and, when the bound runs out, leaves
// the cutover failed with ErrPNRCrossed for a later Run, which applies it
// again and completes. Nothing before it is reverted.
func TestIrreversibleApplyFailureRollsForward(t *testing.T) {
	tests := []struct {
		name      string
		failures  int // Apply fails this many times, then succeeds
		wantFirst cutover.Phase
	}{
		{"fails once: applied again in the same run", 1, cutover.PhaseCompleted},
		{"keeps failing: a later run finishes it", 1000, cutover.PhaseFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				var calls atomic.Int64
				var healthy atomic.Bool
				retire := cutover.Stage{
					Name: "retire blue", Reversibility: cutover.Irreversible(),
					Apply: func(context.Context) error {
						if calls.Add(1) <= int64(tt.failures) && !healthy.Load() {
							return errors.New("throttled")
						}
						c.do("apply", "retire blue", true)
						return nil
					},
				}
				p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("shift", time.Minute, pass("ok")), retire}}
				j := cutover.NewMemJournal()
				if err := cutover.Send(t.Context(), j, "c", cutover.CmdApprove, "alice", "green is healthy", ""); err == nil {
					t.Fatal("Send to a cutover that has not started succeeded")
				}
				opts := cutover.RunnerOptions{PollInterval: poll, RevertTimeout: 5 * time.Minute, WaitForApproval: true, Actor: "bob"}
				r := cutover.MustNewRunner(j, opts)
				go func() {
					time.Sleep(2 * time.Minute)
					if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "alice", "green is healthy", ""); err != nil {
						t.Error(err)
					}
				}()
				st, err := r.Run(t.Context(), "c", p)
				if st.Phase != tt.wantFirst {
					t.Fatalf("first run ended %s (%v), want %s", st.Phase, err, tt.wantFirst)
				}
				if slices.Contains(c.Log(), "revert shift") {
					t.Fatalf("stage before the PNR reverted after the PNR stage failed: %v", c.Log())
				}
				if tt.wantFirst == cutover.PhaseFailed {
					if !errors.Is(err, cutover.ErrPNRCrossed) {
						t.Fatalf("err %v, want ErrPNRCrossed", err)
					}
					healthy.Store(true) // the cloud is healthy again
					st, err = r.Run(t.Context(), "c", p)
					if err != nil || st.Phase != cutover.PhaseCompleted {
						t.Fatalf("later run ended %s: %v, want completed", st.Phase, err)
					}
				}
				if diff := cmp.Diff([]string{"retire blue", "shift"}, c.Applied()); diff != "" {
					t.Errorf("applied (-want +got):\n%s", diff)
				}
				recs := readAll(t, j, "c")
				intents := 0
				for _, r := range recs {
					if r.Type == cutover.RecIntent && r.Stage == "retire blue" {
						intents++
					}
				}
				if intents != 1 {
					t.Errorf("%d intents for the irreversible stage, want 1 (retries are journaled as apply_failed)", intents)
				}
			})
		})
	}
}

// A caller that cancels after the PNR has been crossed stops the run: there
// is nothing to roll back to, so nothing is reverted and a later Run
// finishes the plan.
func TestCancelAfterPNRStopsAndResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		retire := c.irreversible("retire blue")
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{
			c.stage("shift", time.Minute, pass("ok")), retire, c.stage("clean up", time.Hour, pass("ok"))}}
		j := cutover.NewMemJournal()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		obs := cutover.ObserverFunc(func(e cutover.Event) {
			if e.Type == cutover.EvStageApplied && e.Stage == "clean up" {
				cancel()
			}
		})
		r := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll, Observer: obs})
		if _, err := r.Run(ctx, "c", p); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("err %v, want ErrPNRNotApproved", err)
		}
		if err := cutover.Send(t.Context(), j, "c", cutover.CmdApprove, "alice", "ok", ""); err != nil {
			t.Fatal(err)
		}
		st, err := r.Run(ctx, "c", p)
		if !errors.Is(err, cutover.ErrPNRCrossed) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want ErrPNRCrossed and context.Canceled", err)
		}
		if st.Phase != cutover.PhaseRunning {
			t.Errorf("phase %s after a cancel past the PNR, want running (resumable)", st.Phase)
		}
		if got := c.Reverts(); len(got) != 0 {
			t.Errorf("reverted %v after a cancel past the PNR", got)
		}
		r2 := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll})
		if st, err := r2.Run(t.Context(), "c", p); err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("later run ended %s: %v, want completed", st.Phase, err)
		}
	})
}

// A failure after the PNR cannot be rolled back: the stages after the PNR
// are reverted and the cutover fails. A later Run alone changes nothing; a
// resume command (green fixed) sends it forward again, applying the
// reverted stages anew, to completion.
func TestResumeAfterFailurePastPNR(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		var healthy atomic.Bool
		check := cutover.Named("smoke", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			if healthy.Load() {
				return cutover.Verdict{Decision: cutover.Pass, Reason: "200 OK"}, nil
			}
			return cutover.Verdict{Decision: cutover.Fail, Reason: "503 from green"}, nil
		}))
		retire := c.irreversible("retire blue")
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{
			c.stage("shift", time.Minute, pass("ok")), retire, c.stage("clean up", time.Minute, check)}}
		j := cutover.NewMemJournal()
		r := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll, WaitForApproval: true, Actor: "bob"})
		go func() {
			time.Sleep(2 * time.Minute)
			if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "alice", "go", ""); err != nil {
				t.Error(err)
			}
		}()
		st, err := r.Run(t.Context(), "c", p)
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrPNRCrossed) || !errors.As(err, &gf) || gf.Gate != "smoke" {
			t.Fatalf("first run: %s %v, want ErrPNRCrossed from gate smoke", st.Phase, err)
		}
		if diff := cmp.Diff([]string{"retire blue", "shift"}, c.Applied()); diff != "" {
			t.Fatalf("after the failure, applied (-want +got):\n%s", diff)
		}

		// Without a resume, a later Run does nothing.
		healthy.Store(true)
		n := len(readAll(t, j, "c"))
		if st, err := r.Run(t.Context(), "c", p); !errors.Is(err, cutover.ErrPNRCrossed) || st.Phase != cutover.PhaseFailed {
			t.Fatalf("run without resume: %s %v, want failed with ErrPNRCrossed", st.Phase, err)
		}
		if got := len(readAll(t, j, "c")); got != n {
			t.Errorf("run without resume journaled %d records", got-n)
		}

		// With one, the cutover goes forward again and completes.
		if err := cutover.Send(t.Context(), j, "c", cutover.CmdResume, "alice", "green fixed", ""); err != nil {
			t.Fatal(err)
		}
		st, err = r.Run(t.Context(), "c", p)
		if err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("run after resume: %s %v, want completed", st.Phase, err)
		}
		if diff := cmp.Diff([]string{"clean up", "retire blue", "shift"}, c.Applied()); diff != "" {
			t.Errorf("after resume, applied (-want +got):\n%s", diff)
		}
		if err := c.matches(st); err != nil {
			t.Error(err)
		}
	})
}

// unreachableLease renews normally until down is set; then every renewal
// fails with a transient error (the lease store is unreachable), and it
// records when the last successful renewal was.
type unreachableLease struct {
	cutover.Lease
	down    atomic.Bool
	lastOK  atomic.Int64 // unix nanoseconds
	renewed atomic.Int64
}

func (l *unreachableLease) Renew(ctx context.Context, id, owner string, ttl time.Duration) error {
	if l.down.Load() {
		return errors.New("lease store unreachable")
	}
	if err := l.Lease.Renew(ctx, id, owner, ttl); err != nil {
		return err
	}
	l.lastOK.Store(time.Now().UnixNano())
	l.renewed.Add(1)
	return nil
}

// A runner that cannot renew its lease stops before the lease expires, so
// that it never acts on the cloud while another runner may hold the lease.
func TestLeaseUnrenewableStopsBeforeExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 30 * time.Second
		lease := &unreachableLease{Lease: cutover.NewMemLease(cutover.MemLeaseOptions{})}
		j := cutover.NewMemJournal()
		c := newCloud()
		done := startRun(t.Context(), j, cutover.RunnerOptions{Lease: lease, LeaseTTL: ttl}, c.plan(2, time.Hour))
		time.Sleep(20 * time.Minute)
		if lease.renewed.Load() == 0 {
			t.Fatal("the lease was never renewed")
		}
		lease.down.Store(true)
		r := <-done
		stopped := time.Now()
		if !errors.Is(r.err, cutover.ErrLeaseLost) {
			t.Fatalf("err %v, want ErrLeaseLost", r.err)
		}
		expiry := time.Unix(0, lease.lastOK.Load()).Add(ttl)
		if !stopped.Before(expiry) {
			t.Errorf("runner stopped at %v, %v after its lease expired", stopped, stopped.Sub(expiry))
		}
	})
}

// Send stamps a command no earlier than the journal's last record, so a
// journal written by a runner on an accelerated clock stays in time order.
func TestSendKeepsJournalTimesInOrder(t *testing.T) {
	j := cutover.NewMemJournal()
	ahead := time.Now().Add(3 * time.Hour)
	if err := j.Append(t.Context(), "c", cutover.Record{Seq: 1, Type: cutover.RecStart, Time: ahead, Plan: "p", Stages: []string{"s"}}); err != nil {
		t.Fatal(err)
	}
	if err := cutover.Send(t.Context(), j, "c", cutover.CmdApprove, "alice", "ok", ""); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, j, "c")
	if got := recs[len(recs)-1].Time; got.Before(ahead) {
		t.Errorf("command stamped %v, before the record ahead of it at %v", got, ahead)
	}
}

// transientErr is an error that says it is transient, as providers'
// errors do.
type transientErr struct{ transient bool }

func (e transientErr) Error() string   { return fmt.Sprintf("throttled (transient %v)", e.transient) }
func (e transientErr) Transient() bool { return e.transient }

// With ApplyAttempts, a stage whose Apply fails transiently is applied
// again instead of rolling a healthy cutover back; each failed attempt is
// journaled. A permanent error rolls back at once, whatever ApplyAttempts.
func TestApplyAttempts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		attempts int
		err      error
		want     cutover.Phase
		failed   int // apply_failed records
	}{
		{"default: two transient failures are ridden out", 0, transientErr{true}, cutover.PhaseCompleted, 2},
		{"three attempts ride out two failures", 3, transientErr{true}, cutover.PhaseCompleted, 2},
		{"two attempts are not enough", 2, transientErr{true}, cutover.PhaseRolledBack, 2},
		{"one attempt: the first failure rolls back", 1, transientErr{true}, cutover.PhaseRolledBack, 1},
		{"a permanent error rolls back at once", 0, transientErr{false}, cutover.PhaseRolledBack, 1},
		{"an unclassified error is permanent", 0, errors.New("access denied"), cutover.PhaseRolledBack, 1},
		{"a timeout is transient", 0, context.DeadlineExceeded, cutover.PhaseCompleted, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				var calls atomic.Int64
				flaky := c.stage("shift", time.Minute, pass("ok"))
				apply := flaky.Apply
				flaky.Apply = func(ctx context.Context) error {
					if calls.Add(1) <= 2 {
						return tc.err
					}
					return apply(ctx)
				}
				p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("prepare", time.Minute, pass("ok")), flaky}}
				j := cutover.NewMemJournal()
				st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: poll, ApplyAttempts: tc.attempts}).Run(t.Context(), "c", p)
				if st.Phase != tc.want {
					t.Fatalf("ended %s (%v), want %s", st.Phase, err, tc.want)
				}
				if tc.want == cutover.PhaseRolledBack && (err == nil || !strings.Contains(err.Error(), `stage "shift": apply`)) {
					t.Errorf("err %v, want one naming the stage and its action", err)
				}
				if err := c.matches(st); err != nil {
					t.Error(err)
				}
				failed := 0
				for _, r := range readAll(t, j, "c") {
					if r.Type == cutover.RecApplyFailed {
						failed++
					}
				}
				if failed != tc.failed {
					t.Errorf("%d apply_failed records, want %d", failed, tc.failed)
				}
			})
		})
	}
	if _, err := cutover.NewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{ApplyAttempts: -1}); err == nil || !strings.Contains(err.Error(), "ApplyAttempts") {
		t.Errorf("negative ApplyAttempts: err %v, want one naming ApplyAttempts", err)
	}
}

// A file journal written for another plan is refused with an error that
// says which file and line hold the plan it is for.
func TestPlanMismatchNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	j, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := newCloud()
	if _, err := cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(context.Background(), "c", c.plan(2, 0)); err != nil {
		t.Fatal(err)
	}
	other := c.plan(2, 0)
	other.Name = "another plan"
	_, err = cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(context.Background(), "c", other)
	if !errors.Is(err, cutover.ErrPlanMismatch) || !strings.Contains(err.Error(), j.Path("c")+":1") {
		t.Fatalf("err %v, want ErrPlanMismatch naming %s:1", err, j.Path("c"))
	}
}

// A rollback resumed by a new runner (the first died after the gate failed)
// still reports the failing gate as a *GateFailedError.
func TestResumedRollbackKeepsTypedCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		bad := cutover.Named("5xx", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			return cutover.Verdict{Decision: cutover.Fail, Reason: "5xx 4% > 1%"}, nil
		}))
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("shift", time.Minute, bad)}}
		mem := cutover.NewMemJournal()
		// Die at the first append after the Fail verdict (the revert intent).
		var failAt int64
		probe := cutover.NewMemJournal()
		_, _ = cutover.MustNewRunner(probe, cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p)
		for _, r := range readAll(t, probe, "c") {
			if r.Type == cutover.RecVerdict && r.Verdict.Decision == cutover.Fail {
				failAt = int64(r.Seq) + 1
			}
		}
		if failAt == 0 {
			t.Fatal("no Fail verdict journaled")
		}
		crash := &crashJournal{Journal: mem, n: failAt}
		if _, err := cutover.MustNewRunner(crash, cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p); !errors.Is(err, errCrash) && err == nil {
			t.Fatalf("crashed run: %v", err)
		}
		st, err := cutover.MustNewRunner(mem, cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p)
		var gf *cutover.GateFailedError
		if st.Phase != cutover.PhaseRolledBack || !errors.As(err, &gf) || gf.Gate != "5xx" || gf.Stage != "shift" {
			t.Fatalf("resumed: %s %v, want rolled back with a *GateFailedError for gate 5xx of stage shift", st.Phase, err)
		}
	})
}
