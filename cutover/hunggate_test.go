package cutover_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// hangingGate passes until hang is set; then each evaluation blocks until
// its context is done and returns the context's error. entered receives
// once when the first hanging evaluation starts.
type hangingGate struct {
	hang    atomic.Bool
	entered chan struct{}
	cause   chan error // the cause the first hanging evaluation ended with
	hung    atomic.Int32
}

func newHangingGate() *hangingGate {
	return &hangingGate{entered: make(chan struct{}, 1), cause: make(chan error, 1)}
}

func (g *hangingGate) Name() string { return "metrics" }

func (g *hangingGate) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	if !g.hang.Load() {
		return cutover.Verdict{Decision: cutover.Pass, Reason: "error rate 0%"}, nil
	}
	if g.hung.Add(1) == 1 {
		g.entered <- struct{}{}
		defer func() { g.cause <- context.Cause(ctx) }()
	}
	<-ctx.Done()
	return cutover.Verdict{}, ctx.Err()
}

// An abort sent while a gate hangs is taken in and rolls the cutover back
// within a poll interval, in every phase that judges green: a bake, a pause
// after it, and the wait for an approval before an irreversible stage. The
// hanging evaluation's context ends with ErrAborted.
func TestAbortDuringHungGate(t *testing.T) {
	for _, phase := range []string{"bake", "pause", "approval wait"} {
		t.Run(phase, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newHangingGate()
				c, j, done, sent := abortWhileBlocked(t, phase, g, &g.hang, g.entered)
				o := <-done
				rolledBackOnAbort(t, j, c, o, sent, poll)
				if got := <-g.cause; !errors.Is(got, cutover.ErrAborted) {
					t.Errorf("the gate's context ended with %v, want ErrAborted", got)
				}
			})
		})
	}
}

// A gate that hangs during a pause does not hold the cutover after a
// resume for longer than the grace: the hanging round ends as Pending
// (no failure) and the cutover goes on.
func TestResumeDuringHungGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := newHangingGate()
		p := c.plan(2, time.Hour)
		p.Stages[0].Gates = []cutover.Gate{g}
		p.Stages[0].Pause = true
		const grace = 5 * time.Minute
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll, Grace: grace}, p)
		time.Sleep(2 * time.Hour) // baked and paused
		g.hang.Store(true)
		<-g.entered
		sent := time.Now()
		if _, err := cutover.SendSeq(context.Background(), j, "c", cutover.CmdResume, "ops", "go on", ""); err != nil {
			t.Fatal(err)
		}
		o := <-done
		if o.err != nil || o.st.Phase != cutover.PhaseCompleted {
			t.Fatalf("run: %v (%s), want completed", o.err, o.st.Phase)
		}
		if took := o.st.Stages[1].AppliedAt.Sub(sent); took > grace+poll {
			t.Errorf("s1 applied %s after the resume, want within the grace and a poll (%s)", took, grace+poll)
		}
		if got := <-g.cause; !errors.Is(got, context.DeadlineExceeded) {
			t.Errorf("the hanging round's context ended with %v, want its deadline", got)
		}
	})
}

// Between two attempts of a stage's Apply that keeps failing with a
// transient error (the default tries for about 13 minutes), the runner is
// neither deaf nor blind: an abort, or green going bad, rolls back within
// a poll interval instead of after the last attempt.
func TestWatchedBetweenApplyAttempts(t *testing.T) {
	for _, by := range []string{"abort", "green fails"} {
		t.Run(by, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				g := &switchGate{name: "errors"}
				p := c.plan(3, time.Minute)
				p.Stages[0].Gates = []cutover.Gate{g}
				var attempts atomic.Int32
				p.Stages[1].Apply = func(context.Context) error {
					attempts.Add(1)
					return transientErr{transient: true}
				}
				j := cutover.NewMemJournal()
				done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll}, p)
				for attempts.Load() < 6 { // the waits between attempts have grown past a poll
					time.Sleep(time.Second)
				}
				at := time.Now()
				if by == "abort" {
					if _, err := cutover.SendSeq(context.Background(), j, "c", cutover.CmdAbort, "ops", "stop retrying", ""); err != nil {
						t.Fatal(err)
					}
				} else {
					g.fail.Store(true)
				}
				o := <-done
				if !errors.Is(o.err, cutover.ErrRolledBack) {
					t.Fatalf("run: %v, want rolled back", o.err)
				}
				var gf *cutover.GateFailedError
				if by == "abort" && !errors.Is(o.err, cutover.ErrAborted) || by != "abort" && !errors.As(o.err, &gf) {
					t.Fatalf("run: %v, want rolled back for the %s", o.err, by)
				}
				recs := readAll(t, j, "c")
				last := recs[len(recs)-1]
				t.Logf("%s between apply attempts: rolled back %s later, after %d attempts (poll interval %s)", by, last.Time.Sub(at), attempts.Load(), poll)
				if last.Type != cutover.RecRolledBack || last.Time.Sub(at) > poll {
					t.Errorf("last record %s %s after the %s, want rolled_back within a poll (%s)", last.Type, last.Time.Sub(at), by, poll)
				}
				if got := c.Applied(); len(got) != 0 {
					t.Errorf("applied after the rollback: %v", got)
				}
			})
		})
	}
}

// abortWhileBlocked runs a bad-green plan whose gate g blocks once block
// is set — from the start in a bake, or once s0 has baked in a pause or
// the wait for an approval — and, when g has blocked (entered) for three
// polls, sends an abort. It returns the cloud, the journal, the Run's
// outcome and when the abort was sent.
func abortWhileBlocked(t *testing.T, phase string, g cutover.Gate, block *atomic.Bool, entered <-chan struct{}) (*cloud, cutover.Journal, <-chan outcome, time.Time) {
	t.Helper()
	c := newCloud()
	p := badGreenPlan(c, g)
	p.Stages[0].Bake = time.Hour
	opts := cutover.RunnerOptions{PollInterval: poll, WaitForApproval: true}
	switch phase {
	case "bake":
		block.Store(true)
	case "pause":
		p.Stages[0].Pause = true
	}
	j := cutover.NewMemJournal()
	done := startRun(t.Context(), j, opts, p)
	if phase != "bake" {
		time.Sleep(2 * time.Hour) // baked; paused or waiting for the approval
		if st := foldAll(t, j, "c"); st.Stages[0].Status != cutover.StageBaked {
			t.Fatalf("s0 is %s, want baked and waiting", st.Stages[0].Status)
		}
		block.Store(true)
	}
	<-entered
	time.Sleep(3 * poll) // blocked for a while
	sent := time.Now()
	if _, err := cutover.SendSeq(context.Background(), j, "c", cutover.CmdAbort, "ops", "gate hangs", ""); err != nil {
		t.Fatal(err)
	}
	return c, j, done, sent
}
