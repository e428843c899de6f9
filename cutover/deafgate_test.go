package cutover_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// deafGate passes until deaf is set; then an evaluation blocks until the
// test releases it, whatever its context says (a query without a timeout,
// a call that never looks at ctx), and passes. It counts the evaluations
// running at once.
type deafGate struct {
	deaf    atomic.Bool
	entered chan struct{} // receives when the first deaf evaluation starts
	release chan struct{}
	calls   atomic.Int32
	running atomic.Int32
	most    atomic.Int32 // the most evaluations running at once
}

func newDeafGate() *deafGate {
	return &deafGate{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (g *deafGate) Name() string { return "metrics" }

func (g *deafGate) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	g.calls.Add(1)
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
	if g.deaf.Load() {
		select {
		case g.entered <- struct{}{}:
		default:
		}
		<-g.release // ctx is not looked at
	}
	return cutover.Verdict{Decision: cutover.Pass, Reason: "error rate 0%"}, nil
}

// done releases the evaluations still blocked, so that the bubble's
// goroutines end, and checks that the gate was never evaluated twice at
// once.
func (g *deafGate) done(t *testing.T) {
	t.Helper()
	close(g.release)
	time.Sleep(time.Second)
	if m := g.most.Load(); m > 1 {
		t.Errorf("%d evaluations of the gate ran at once, want one at a time", m)
	}
}

// rolledBackWhileDeaf waits, while g blocks, until the journal's last
// record is a rolled_back (for at most bound and an hour), checks that it
// was written within bound of since, releases g, and returns the Run's
// outcome, which comes once the gate has returned.
func rolledBackWhileDeaf(t *testing.T, j cutover.Journal, g *deafGate, done <-chan outcome, since time.Time, bound time.Duration) outcome {
	t.Helper()
	return endedWhileDeaf(t, j, g, done, since, bound, cutover.RecRolledBack)
}

// endedWhileDeaf is rolledBackWhileDeaf for a last record of type want.
func endedWhileDeaf(t *testing.T, j cutover.Journal, g *deafGate, done <-chan outcome, since time.Time, bound time.Duration, want cutover.RecordType) outcome {
	t.Helper()
	for end := time.Now().Add(bound + time.Hour); ; time.Sleep(time.Second) {
		var last cutover.Record
		if recs := readAll(t, j, "c"); len(recs) > 0 {
			last = recs[len(recs)-1]
		}
		if last.Type == want {
			if took := last.Time.Sub(since); took > bound {
				t.Errorf("%s %s later, want within %s", want, took, bound)
			}
			break
		}
		if time.Now().After(end) {
			t.Fatalf("no %s while the gate blocks; last record %s", want, last.Type)
		}
	}
	if g.calls.Load() > 1 && g.deaf.Load() && g.running.Load() != 1 {
		t.Errorf("%d evaluations running, want the one that blocks", g.running.Load())
	}
	select {
	case o := <-done:
		t.Fatalf("Run returned while its gate still blocked: %v", o.err)
	default:
	}
	g.done(t)
	return <-done
}

// A gate that ignores its context does not hold a rollback: an abort sent
// while it blocks rolls back within two polls — the first cuts the round
// short, the next takes over from the drive's goroutine, still in the
// gate — in every phase that judges green. Run returns the outcome once
// the gate returns. Before, the abort was answered but the rollback waited
// for the gate for good.
func TestAbortDuringDeafGate(t *testing.T) {
	for _, phase := range []string{"bake", "pause", "approval wait"} {
		t.Run(phase, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newDeafGate()
				c, j, done, sent := abortWhileBlocked(t, phase, g, &g.deaf, g.entered)
				o := rolledBackWhileDeaf(t, j, g, done, sent, 2*poll)
				rolledBackOnAbort(t, j, c, o, sent, 2*poll)
			})
		})
	}
}

// With no one to abort, a gate that ignores its context is given up on
// once the bake's deadline (and its bound, a poll later) has passed: the
// bake fails closed, naming the gate that did not return, and rolls back.
func TestDeafGateFailsClosedAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := newDeafGate()
		g.deaf.Store(true)
		p := badGreenPlan(c, g)
		var after atomic.Int32 // evaluations of the gate after the deaf one
		p.Stages[0].Gates = append(p.Stages[0].Gates, cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			after.Add(1)
			return cutover.Verdict{Decision: cutover.Pass, Reason: "ok"}, nil
		}))
		p.Stages[0].Bake = 10 * time.Minute
		p.Stages[0].Deadline = 20 * time.Minute
		j := cutover.NewMemJournal()
		start := time.Now()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll}, p)
		o := rolledBackWhileDeaf(t, j, g, done, start, 20*time.Minute+3*poll)
		var gf *cutover.GateFailedError
		if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.As(o.err, &gf) || !gf.TimedOut || gf.Stage != "s0" || gf.Gate != "metrics" {
			t.Fatalf("run: %v, want rolled back when s0's deadline passed, naming the gate", o.err)
		}
		if !strings.Contains(gf.Verdict.Reason, "did not return") {
			t.Errorf("verdict %q, want it to say the gate did not return", gf.Verdict.Reason)
		}
		if got := c.Applied(); len(got) != 0 {
			t.Errorf("applied after the rollback: %v", got)
		}
		if n := g.calls.Load(); n != 1 {
			t.Errorf("the gate was evaluated %d times, want once", n)
		}
		if n := after.Load(); n != 0 {
			t.Errorf("the gate after the deaf one was evaluated %d times once it returned, after the rollback; want none", n)
		}
	})
}

// deafOutsideBake is a deafGate that goes deaf in its first round outside
// a bake: here the fresh evidence judged before an irreversible stage.
type deafOutsideBake struct{ *deafGate }

func (g deafOutsideBake) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	if _, inBake := cutover.BakeTimingFrom(ctx); !inBake {
		g.deaf.Store(true)
	}
	return g.deafGate.Evaluate(ctx)
}

// A gate that ignores its context while the runner judges fresh evidence
// before an irreversible stage fails closed when the grace has passed, as
// a gate that stays Pending does: the cutover rolls back, naming the gate,
// and the irreversible stage is never applied. Before, the cutover waited
// for the gate, unjudged, for as long as it blocked.
func TestDeafGateInFreshEvidenceFailsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := deafOutsideBake{newDeafGate()}
		p := badGreenPlan(c, g)
		p.Stages[0].Bake = time.Hour
		const grace = 5 * time.Minute
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll, Grace: grace}, p)
		time.Sleep(time.Second) // started, baking s0
		if err := cutover.Send(t.Context(), j, "c", cutover.CmdApprove, "ops", "go", ""); err != nil {
			t.Fatal(err)
		}
		<-g.entered // s0 baked, approved: fresh evidence for retire
		entered := time.Now()
		o := rolledBackWhileDeaf(t, j, g.deafGate, done, entered, grace+3*poll)
		var gf *cutover.GateFailedError
		if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.As(o.err, &gf) || !gf.TimedOut || gf.Stage != "s0" || gf.Gate != "metrics" {
			t.Fatalf("run: %v, want rolled back when the grace passed, naming the gate", o.err)
		}
		if c.applied["retire"] || c.applied["s0"] {
			t.Errorf("cloud after the rollback: %v", c.Applied())
		}
	})
}

// A reversibility window that would close unapproved while a gate ignores
// its context is not let close: the cutover rolls back before it closes,
// the windowed stage reverted with the rest, though the gate still blocks
// (it is cut a poll sooner than the window's own poll, since the runner
// gives a cut gate a poll to return).
func TestDeafGateDoesNotLetWindowClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := newDeafGate()
		p := windowPlan(c, time.Hour)
		p.Stages[2].Gates = []cutover.Gate{g}
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll}, p)
		time.Sleep(2 * time.Minute) // keep-blue applied, s2 baking
		g.deaf.Store(true)
		<-g.entered
		closes := foldAll(t, j, "c").Stages[1].AppliedAt.Add(30 * time.Minute)
		o := rolledBackWhileDeaf(t, j, g, done, closes.Add(-2*poll), 2*poll)
		if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.Is(o.err, cutover.ErrPNRNotApproved) {
			t.Fatalf("run: %v, want rolled back before the window closed", o.err)
		}
		recs := readAll(t, j, "c")
		if last := recs[len(recs)-1].Time; !last.Before(closes) {
			t.Errorf("rolled back at %s, after the window closed at %s", last, closes)
		}
		if got := c.Applied(); len(got) != 0 {
			t.Errorf("applied after the rollback: %v, want keep-blue reverted too", got)
		}
	})
}

// A caller that cancels the Run while a gate ignores its context gets the
// rollback a cancelled Run makes, within two polls, though the drive's
// goroutine is still in the gate.
func TestCancelDuringDeafGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := newDeafGate()
		g.deaf.Store(true)
		p := badGreenPlan(c, g)
		p.Stages[0].Bake = time.Hour
		ctx, cancel := context.WithCancel(t.Context())
		j := cutover.NewMemJournal()
		done := startRun(ctx, j, cutover.RunnerOptions{PollInterval: poll}, p)
		<-g.entered
		time.Sleep(3 * poll)
		cancelled := time.Now()
		cancel()
		o := rolledBackWhileDeaf(t, j, g, done, cancelled, 2*poll)
		if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.Is(o.err, context.Canceled) {
			t.Fatalf("run: %v, want rolled back for the cancellation", o.err)
		}
	})
}

// A Run suspended (cancelled with ErrSuspended, as the examples do on
// SIGTERM) while a gate ignores its context journals the suspension within
// two polls and releases its lease, though the gate still blocks; the
// next Run resumes and completes.
func TestSuspendDuringDeafGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := newDeafGate()
		g.deaf.Store(true)
		p := c.plan(2, time.Hour)
		p.Stages[0].Gates = []cutover.Gate{g}
		j := cutover.NewMemJournal()
		lease := cutover.NewMemLease(cutover.MemLeaseOptions{})
		opts := cutover.RunnerOptions{PollInterval: poll, Lease: lease}
		ctx, suspend := context.WithCancelCause(t.Context())
		done := startRun(ctx, j, opts, p)
		<-g.entered
		time.Sleep(3 * poll)
		sent := time.Now()
		suspend(cutover.ErrSuspended)
		var o outcome
		for k := 0; ; k++ {
			// The lease is released with the suspension, before the gate returns.
			if err := lease.Acquire(context.Background(), "c", "probe", time.Minute); err == nil {
				if err := lease.Release(context.Background(), "c", "probe"); err != nil {
					t.Fatal(err)
				}
				g.deaf.Store(false)
				o = endedWhileDeaf(t, j, g, done, sent, 2*poll, cutover.RecSuspended)
				break
			}
			if k > 10 {
				t.Fatal("the lease was not released while the gate blocked")
			}
			time.Sleep(poll)
		}
		if !errors.Is(o.err, cutover.ErrSuspended) || errors.Is(o.err, cutover.ErrRolledBack) {
			t.Fatalf("run: %v, want suspended", o.err)
		}
		if len(c.Reverts()) != 0 {
			t.Errorf("reverted on a suspension: %v", c.Reverts())
		}
		st, err := cutover.MustNewRunner(j, opts).Run(t.Context(), "c", p)
		if err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("resumed run: %v %s", err, st.Phase)
		}
	})
}

// In a pause, a gate that ignores its context holds nothing the pause
// needs: commands are still answered (an abort then rolls back, see
// TestAbortDuringDeafGate), the gate is not evaluated again while it
// blocks, and once it returns the watch goes on: a Fail then rolls back.
func TestDeafGateInPauseWatchedOnceItReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := &deafThenFail{deafGate: newDeafGate()}
		p := badGreenPlan(c, g)
		p.Stages[0].Pause = true
		const grace = 5 * time.Minute
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll, Grace: grace}, p)
		time.Sleep(time.Hour) // baked and paused
		g.deaf.Store(true)
		<-g.entered
		time.Sleep(grace + 3*poll)
		calls := g.calls.Load()
		seq, err := cutover.SendSeq(context.Background(), j, "c", cutover.CmdPause, "ops", "hold on", "")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * poll)
		if n := g.calls.Load(); n != calls {
			t.Errorf("%d more evaluations while the deaf one ran, want none", n-calls)
		}
		var acked bool
		for _, r := range readAll(t, j, "c") {
			acked = acked || r.Type == cutover.RecAck && r.Ref == seq
		}
		if !acked {
			t.Errorf("the pause sent while the gate blocked was not answered within two polls")
		}
		select {
		case o := <-done:
			t.Fatalf("run ended while paused: %v", o.err)
		default:
		}
		g.fail.Store(true)
		released := time.Now()
		close(g.release)
		o := <-done
		if at := rolledBackOnFail(t, j, c, o); at.Sub(released) > poll {
			t.Errorf("Fail journaled %s after the gate returned, want within a poll", at.Sub(released))
		}
		if m := g.most.Load(); m > 1 {
			t.Errorf("%d evaluations of the gate ran at once, want one at a time", m)
		}
	})
}

// deafThenFail is a deafGate that fails, once released, if fail is set.
type deafThenFail struct {
	*deafGate
	fail atomic.Bool
}

func (g *deafThenFail) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	v, err := g.deafGate.Evaluate(ctx)
	if g.fail.Load() {
		return cutover.Verdict{Decision: cutover.Fail, Reason: "error rate 9%"}, nil
	}
	return v, err
}

// A gate that ignores its context while a stage's Apply waits holds the
// Apply's wait at most a poll (the round's bound: the gate is left behind
// on the round's goroutine), is not evaluated again while it blocks, and
// an abort then rolls back within two polls; Run returns though the gate
// still blocks.
func TestAbortWhileDeafGateInApplyWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := newDeafGate()
		p := c.plan(3, time.Minute)
		p.Stages[0].Gates = []cutover.Gate{g}
		var in atomic.Bool
		entered, cause := waiting(c, &p, 1, 2*time.Second, nil, &in)
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll}, p)
		<-entered
		g.deaf.Store(true)
		<-g.entered
		calls := g.calls.Load()
		time.Sleep(3 * poll)
		if !in.Load() {
			t.Fatal("the Apply is no longer waiting")
		}
		if n := g.calls.Load() - calls; n != 0 {
			t.Errorf("the gate was evaluated %d more times while it blocked, want none", n)
		}
		sent := time.Now()
		if err := cutover.Send(context.Background(), j, "c", cutover.CmdAbort, "ops", "stuck", ""); err != nil {
			t.Fatal(err)
		}
		o := <-done
		rolledBackOnAbort(t, j, c, o, sent, 2*poll)
		if got := <-cause; !errors.Is(got, cutover.ErrAborted) {
			t.Errorf("the Apply's context ended with %v, want ErrAborted", got)
		}
		g.done(t)
	})
}

// A gate judged inside a stage's call, on a goroutine of the round, that
// panics panics the Run's goroutine, as a gate of a bake does: a program
// that recovers there still can, and the message names the gate.
func TestGatePanicInApplyWaitReachesRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(3, time.Minute)
		var boom atomic.Bool
		p.Stages[0].Gates = []cutover.Gate{cutover.Named("boom", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			if boom.Load() {
				panic("metrics client is nil")
			}
			return cutover.Verdict{Decision: cutover.Pass}, nil
		}))}
		var in atomic.Bool
		entered, _ := waiting(c, &p, 1, 2*time.Second, nil, &in)
		got := make(chan any, 1)
		go func() {
			defer func() { got <- recover() }()
			_, _ = cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: poll}).Run(t.Context(), "c", p)
		}()
		<-entered
		boom.Store(true)
		s, _ := (<-got).(string)
		if !strings.Contains(s, "boom") || !strings.Contains(s, "metrics client is nil") {
			t.Errorf("Run panicked with %q, want the gate's name and its panic", s)
		}
	})
}
