package cutover_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/safecutover/safecutover/cutover"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// resettable counts Evaluate and Reset calls and answers from a script.
type resettable struct {
	name   string
	resets atomic.Int32
	calls  atomic.Int32
	answer func(call int) (cutover.Verdict, error)
}

func (g *resettable) Name() string { return g.name }
func (g *resettable) Reset()       { g.resets.Add(1) }
func (g *resettable) Evaluate(context.Context) (cutover.Verdict, error) {
	return g.answer(int(g.calls.Add(1)))
}

func TestBakeTiming(t *testing.T) {
	pending := cutover.Verdict{Decision: cutover.Pending, Reason: "12 requests, need 100"}
	tests := []struct {
		name     string
		bake     time.Duration
		deadline time.Duration
		answer   func(call int) (cutover.Verdict, error)
		wantBake time.Duration // from applied to baked or to rollback
		wantErr  func(error) bool
	}{
		{"pass bakes in full", time.Hour, 0, func(int) (cutover.Verdict, error) {
			return cutover.Verdict{Decision: cutover.Pass}, nil
		}, time.Hour, nil},
		{"final pass ends the bake early", time.Hour, 0, func(call int) (cutover.Verdict, error) {
			if call < 3 {
				return pending, nil
			}
			return cutover.Verdict{Decision: cutover.Pass, Final: true, Reason: "sequential test concluded"}, nil
		}, 2 * poll, nil},
		{"pending past the deadline fails closed", time.Hour, 90 * time.Minute, func(int) (cutover.Verdict, error) {
			return pending, nil
		}, 90 * time.Minute, timedOut},
		{"default deadline is bake plus grace", 10 * time.Minute, 0, func(int) (cutover.Verdict, error) {
			return pending, nil
		}, 15 * time.Minute, timedOut},
		{"gate errors count as pending", time.Minute, 0, func(int) (cutover.Verdict, error) {
			return cutover.Verdict{}, errors.New("metrics API unreachable")
		}, 6 * time.Minute, func(err error) bool {
			return timedOut(err) && hasText(err.Error(), "metrics API unreachable")
		}},
		{"zero bake waits for a verdict", 0, 0, func(call int) (cutover.Verdict, error) {
			if call < 4 {
				return pending, nil
			}
			return cutover.Verdict{Decision: cutover.Pass}, nil
		}, 3 * poll, nil},
		{"fail after passing", time.Hour, 0, func(call int) (cutover.Verdict, error) {
			if call < 10 {
				return cutover.Verdict{Decision: cutover.Pass}, nil
			}
			return cutover.Verdict{Decision: cutover.Fail, Reason: "p99 800ms > 500ms"}, nil
		}, 9 * poll, func(err error) bool {
			var gf *cutover.GateFailedError
			return errors.As(err, &gf) && !gf.TimedOut && gf.Verdict.Reason == "p99 800ms > 500ms"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				g := &resettable{name: "g", answer: tt.answer}
				p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s", tt.bake, g)}}
				p.Stages[0].Deadline = tt.deadline
				var end time.Time
				rec := &recorder{}
				obs := cutover.ObserverFunc(func(e cutover.Event) {
					rec.Observe(e)
					if e.Type == cutover.EvStageBaked || e.Type == cutover.EvRollingBack {
						end = e.Time
					}
				})
				j := cutover.NewMemJournal()
				st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{Observer: obs, PollInterval: poll}).Run(t.Context(), "c", p)
				if tt.wantErr == nil && err != nil || tt.wantErr != nil && !tt.wantErr(err) {
					t.Fatalf("err %v", err)
				}
				if got := end.Sub(st.Stages[0].AppliedAt); got != tt.wantBake {
					t.Errorf("bake took %s, want %s", got, tt.wantBake)
				}
				if g.resets.Load() != 1 {
					t.Errorf("%d resets, want 1", g.resets.Load())
				}
				// Verdicts are journaled when they change, not every poll.
				n := 0
				for _, r := range readAll(t, j, "c") {
					if r.Type == cutover.RecVerdict {
						n++
					}
				}
				if n > 3 || n < 1 {
					t.Errorf("%d verdict records for %d evaluations", n, g.calls.Load())
				}
				if int(g.calls.Load()) != rec.Count(cutover.EvGateJudged) {
					t.Errorf("%d evaluations, %d gate_judged events", g.calls.Load(), rec.Count(cutover.EvGateJudged))
				}
			})
		})
	}
}

func timedOut(err error) bool {
	var gf *cutover.GateFailedError
	return errors.Is(err, cutover.ErrRolledBack) && errors.As(err, &gf) && gf.TimedOut
}

// A runner resumed mid-bake counts the bake from when the stage was
// applied, and gives the gates at least the grace from the resume.
func TestResumedBakeCountsFromApplied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(2, time.Hour)
		j := cutover.NewMemJournal()
		cj := &crashJournal{Journal: j, n: 1 << 40}
		// The first runner's journal dies 40 minutes into s0's bake; it can
		// no longer write, so it stops at its next append.
		zombie := startRun(t.Context(), cj, cutover.RunnerOptions{}, p)
		time.Sleep(40 * time.Minute)
		cj.dead.Store(true)
		time.Sleep(5 * time.Minute)
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
		if o := <-zombie; !errors.Is(o.err, errCrash) {
			t.Errorf("first runner: %v", o.err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Stages[0].BakedAt.Sub(st.Stages[0].AppliedAt); got != time.Hour {
			t.Errorf("resumed bake ended %s after apply, want 1h", got)
		}
	})
}

// Events carry the tracker's view and reach the logger.
func TestEventsAndLogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zap.DebugLevel)
		c := newCloud()
		p := irreversiblePlan(c)
		j := cutover.NewMemJournal()
		rec := &recorder{}
		done := startRun(t.Context(), j, cutover.RunnerOptions{Actor: "alice", Observer: rec, Logger: zap.New(core), WaitForApproval: true, PollInterval: poll}, p)
		time.Sleep(5 * time.Minute)
		if err := cutover.Send(context.Background(), j, "c", cutover.CmdApprove, "bob", "ok", "retire"); err != nil {
			t.Fatal(err)
		}
		if o := <-done; o.err != nil {
			t.Fatal(o.err)
		}
		want := []cutover.EventType{cutover.EvStarted,
			cutover.EvStageStarted, cutover.EvStageApplied, cutover.EvGateJudged, cutover.EvStageBaked,
			// green is judged while the runner waits, and again, fresh,
			// before the irreversible stage
			cutover.EvWaitingApproval, cutover.EvGateJudged, cutover.EvApproved, cutover.EvGateJudged,
			cutover.EvStageStarted, cutover.EvPNRCrossed, cutover.EvStageApplied, cutover.EvGateJudged, cutover.EvStageBaked,
			cutover.EvStageStarted, cutover.EvStageApplied, cutover.EvGateJudged, cutover.EvStageBaked,
			cutover.EvCompleted}
		var got []cutover.EventType
		for _, e := range rec.Types() {
			if len(got) == 0 || e != cutover.EvGateJudged || got[len(got)-1] != cutover.EvGateJudged {
				got = append(got, e)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events, repeated gate_judged folded (-want +got):\n%s", diff)
		}
		for _, e := range rec.ev {
			if e.Cutover != "c" || e.PNR.Index != 1 || e.PNR.Stage != "retire" {
				t.Fatalf("event %s: %+v", e.Type, e)
			}
			if e.Type == cutover.EvCompleted && (!e.PNR.Crossed || e.PNR.ApprovedBy != "bob") {
				t.Errorf("completed: tracker %+v", e.PNR)
			}
			if e.Type == cutover.EvWaitingApproval && (e.PNR.Crossed || !e.PNR.CanRollBack || e.Stage != "retire") {
				t.Errorf("waiting: %+v", e)
			}
		}
		if logs.FilterField(zap.String("event", "completed")).Len() != 1 || logs.FilterMessage("command").Len() != 1 {
			t.Errorf("logs: %v", logs.All())
		}
	})
}

// Remember'd data survives into a resumed runner's Revert.
func TestRememberRecall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{{
			Name: "deploy",
			Apply: func(ctx context.Context) error {
				if _, ok := cutover.Recall(ctx, "deployment"); ok {
					return errors.New("data before Remember")
				}
				return cutover.Remember(ctx, "deployment", "d-42")
			},
			Revert: func(ctx context.Context) error {
				if v, ok := cutover.Recall(ctx, "deployment"); !ok || v != "d-42" {
					return errors.New("deployment forgotten")
				}
				return nil
			},
			Bake: time.Hour,
		}}}
		j := cutover.NewMemJournal()
		cj := &crashJournal{Journal: j, n: 1 << 40}
		go func() {
			time.Sleep(10 * time.Minute)
			cj.dead.Store(true)
		}()
		cutover.MustNewRunner(cj, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
		if err := cutover.Send(context.Background(), j, "c", cutover.CmdAbort, "ops", "stop", ""); err != nil {
			t.Fatal(err)
		}
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
		if !errors.Is(err, cutover.ErrAborted) || st.Phase != cutover.PhaseRolledBack {
			t.Fatalf("%v %s", err, st.Phase)
		}
		if st.Stages[0].Data["deployment"] != "d-42" {
			t.Errorf("data %v", st.Stages[0].Data)
		}
		if err := cutover.Remember(context.Background(), "k", "v"); err == nil {
			t.Error("Remember outside a stage succeeded")
		}
		if _, ok := cutover.Recall(context.Background(), "k"); ok {
			t.Error("Recall outside a stage found something")
		}
	})
}

// behindClock is the wall clock a year behind: an injected clock whose
// times are not wall times (a replay, a test clock with a fixed start).
type behindClock struct{}

func (behindClock) Now() time.Time { return time.Now().AddDate(-1, 0, 0) }

func (behindClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Gates are judged with a context bounded by the stage's deadline. The
// deadline is on the injected clock, so the bound must not read it as a
// wall-clock instant: with a clock behind the wall, every gate got a context
// that had already expired and the stage failed closed.
func TestGateContextOnInjectedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := cutover.Named("ctx-aware", cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
			if err := ctx.Err(); err != nil {
				return cutover.Verdict{}, err
			}
			return cutover.Verdict{Decision: cutover.Pass, Reason: "fine"}, nil
		}))
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s0", time.Minute, g)}}
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		opts := cutover.RunnerOptions{Clock: behindClock{}, PollInterval: 10 * time.Second}
		st, err := cutover.MustNewRunner(cutover.NewMemJournal(), opts).Run(ctx, "c", p)
		if err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("Run: %v (phase %s); want completed", err, st.Phase)
		}
	})
}
