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

// waiting makes stage i of p a stage whose Apply waits, through
// cutover.Poll every step, for a condition that holds once done is set
// (or never, if done is nil): as a rolling batch waits for its new
// members or a managed deployment for its end. It reports its context's
// cause on cause, and counts on in whether it is running.
func waiting(c *cloud, p *cutover.Plan, i int, step time.Duration, done *atomic.Bool, in *atomic.Bool) (entered <-chan struct{}, cause <-chan error) {
	ent, out := make(chan struct{}), make(chan error, 1)
	s := &p.Stages[i]
	name := s.Name
	s.Apply = func(ctx context.Context) error {
		close(ent)
		in.Store(true)
		defer in.Store(false)
		err := cutover.Poll{What: "wait for " + name, Interval: cutover.Backoff{Initial: step}, Timeout: 2 * time.Hour}.Until(ctx,
			func(context.Context) (bool, string, error) {
				return done != nil && done.Load(), "not yet", nil
			})
		out <- context.Cause(ctx)
		if err != nil {
			return err
		}
		c.do("apply", name, true)
		return nil
	}
	return ent, out
}

// countingGate is a switchGate that counts its evaluations made while
// in is set.
type countingGate struct {
	switchGate
	in     *atomic.Bool
	during atomic.Int64
}

func (g *countingGate) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	if g.in.Load() {
		g.during.Add(1)
	}
	return g.switchGate.Evaluate(ctx)
}

// While a reversible stage's Apply waits (a rolling batch's warm-up, a
// managed deployment), green is judged by the gates of the stage before
// as the waits add up to a poll interval: a Fail cuts the Apply short
// with the gate's failure as its context's cause, is journaled and rolls
// back, within a poll of green going bad, instead of when the wait ends.
func TestGreenJudgedWhileApplyWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		var in atomic.Bool
		g := &countingGate{switchGate: switchGate{name: "errors"}, in: &in}
		p := c.plan(3, time.Minute)
		p.Stages[0].Gates = []cutover.Gate{g}
		entered, cause := waiting(c, &p, 1, 2*time.Second, nil, &in)
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll}, p)
		<-entered
		time.Sleep(5*poll + time.Second) // s1 waits; green is fine
		if n := g.during.Load(); n != 5 {
			t.Errorf("gates evaluated %d times during 5 poll intervals of waits, want 5", n)
		}
		bad := time.Now()
		g.fail.Store(true)
		o := <-done
		var gf *cutover.GateFailedError
		if !errors.As(o.err, &gf) || gf.Stage != "s0" {
			t.Fatalf("run: %v, want rolled back for s0's gate", o.err)
		}
		if got := <-cause; !errors.As(got, &gf) {
			t.Errorf("the Apply's context ended with %v, want the gate's failure", got)
		}
		at := rolledBackOnFail(t, j, c, o)
		t.Logf("green bad while an Apply waits: Fail journaled after %s (poll interval %s)", at.Sub(bad), poll)
		if at.Sub(bad) > poll {
			t.Errorf("Fail journaled %s after green went bad, want within a poll (%s)", at.Sub(bad), poll)
		}
		for _, r := range readAll(t, j, "c") {
			if r.Type == cutover.RecApplied && r.Stage == "s1" {
				t.Errorf("s1 journaled applied, want its Apply cut short")
			}
		}
	})
}

// An Apply whose waits finish although green failed during them (it
// does not look at its context) is rolled back all the same, itself too.
func TestGreenFailedDuringApplyThatFinishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := &switchGate{name: "errors"}
		p := c.plan(3, time.Minute)
		p.Stages[0].Gates = []cutover.Gate{g}
		p.Stages[1].Apply = func(ctx context.Context) error {
			g.fail.Store(true)
			// A poll interval of waits judges green; the Poll ends
			// with the gate's failure, which this Apply ignores.
			_ = cutover.Poll{Interval: cutover.Backoff{Initial: poll}, Attempts: 3}.Until(ctx,
				func(context.Context) (bool, string, error) { return false, "", nil })
			c.do("apply", "s1", true)
			return nil
		}
		j := cutover.NewMemJournal()
		o := <-startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll}, p)
		rolledBackOnFail(t, j, c, o)
		if c.applied["s1"] {
			t.Errorf("s1 still applied after the rollback: %v", c.Log())
		}
	})
}

// Waits inside an irreversible stage's Apply, and inside a revert, do
// not judge green: past the PNR a Fail has nothing to roll back to, and
// a rollback has no green to judge.
func TestGreenNotJudgedInIrreversibleApply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		var in atomic.Bool
		g := &countingGate{switchGate: switchGate{name: "errors"}, in: &in}
		p := irreversiblePlan(c)
		p.Stages[0].Gates = []cutover.Gate{g}
		var ready atomic.Bool
		entered, _ := waiting(c, &p, 1, 2*time.Second, &ready, &in)
		p.Stages[1].Revert = nil
		p.Stages[1].Reversibility = cutover.Irreversible()
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll}, p)
		time.Sleep(time.Second) // started, baking s0
		if err := cutover.Send(t.Context(), j, "c", cutover.CmdApprove, "ops", "go", ""); err != nil {
			t.Fatal(err)
		}
		<-entered
		time.Sleep(5 * poll)
		ready.Store(true)
		o := <-done
		if o.err != nil {
			t.Fatalf("run: %v", o.err)
		}
		if n := g.during.Load(); n != 0 {
			t.Errorf("gates evaluated %d times during an irreversible stage's Apply, want 0", n)
		}
	})
}

// A gate that hangs while it judges green inside a waiting Apply holds
// the Apply at most a poll interval at a time (its context is bounded),
// and an abort sent meanwhile is answered and rolls back within two polls,
// the Apply's context ending with ErrAborted.
func TestAbortWhileGateHangsInApplyWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := newHangingGate()
		p := c.plan(3, time.Minute)
		p.Stages[0].Gates = []cutover.Gate{g}
		var in atomic.Bool
		entered, cause := waiting(c, &p, 1, 2*time.Second, nil, &in)
		j := cutover.NewMemJournal()
		done := startRun(t.Context(), j, cutover.RunnerOptions{PollInterval: poll}, p)
		<-entered
		g.hang.Store(true)
		<-g.entered
		<-g.cause // the first hanging evaluation is bounded by a poll
		time.Sleep(3 * poll)
		if n := g.hung.Load(); n < 2 {
			t.Errorf("%d hanging evaluations in 3 polls after the first ended, want the Apply to go on waiting and judging", n)
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
	})
}
