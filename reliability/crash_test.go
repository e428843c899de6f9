package reliability_test

// Crash anywhere, in-process: for each scenario, with a good and a bad
// green, the runner is killed at every journal append (before the record is
// written, and once it is durable) and at every cloud call (before it takes
// effect, and, for calls that change the cloud, once it has) — which is the
// middle of Apply, Verify and Revert — and a new runner takes over. Each run
// is a testing/synctest bubble, so hour-long bakes take no time.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/reliability"
)

// crashCase is a scenario with a good or a bad green.
type crashCase struct {
	sc  scenario
	bad bool
}

func (c crashCase) String() string {
	if c.bad {
		return string(c.sc) + "/bad-green"
	}
	return string(c.sc) + "/good-green"
}

func crashCases() []crashCase {
	var out []crashCase
	for _, sc := range scenarios {
		out = append(out, crashCase{sc, false}, crashCase{sc, true})
	}
	return out
}

// want is the phase a run of c ends in.
func (c crashCase) want() cutover.Phase {
	if c.bad {
		return cutover.PhaseRolledBack
	}
	return cutover.PhaseCompleted
}

// crashPoint is where the runner is killed.
type crashPoint struct {
	kind  string // "append" or "call"
	n     int64  // which one, from 1
	after bool   // once it took effect
	// soft: only the runner's context is cancelled (in the middle of a
	// call); the runner lives on, rolls back, and holds the lease while it
	// does. With suspend as well, it is cancelled with the cause
	// cutover.ErrSuspended: the runner journals the suspension, rolls
	// nothing back, and the next runner carries on.
	soft, suspend bool
}

func (p crashPoint) String() string {
	s := fmt.Sprintf("%s %d", p.kind, p.n)
	switch {
	case p.suspend:
		s += " (suspended)"
	case p.soft:
		s += " (context cancelled)"
	case p.after:
		s += " (after)"
	default:
		s += " (before)"
	}
	return s
}

// arm sets k to fire at p.
func (p crashPoint) arm(k *killSwitch) {
	k.after, k.soft = p.after, p.soft
	if p.kind == "append" {
		k.appendAt = p.n
	} else {
		k.callAt = p.n
	}
}

// crashPointsOf lists the crash points of a run that made appends journal
// appends and the cloud calls kinds: every append before and after, every
// call before, every call that changes the cloud after, and, with soft,
// a context cancelled, and one suspended, at every call of the first Run
// that changes the cloud.
func crashPointsOf(appends int64, kinds []callKind, soft bool) []crashPoint {
	var out []crashPoint
	for n := int64(1); n <= appends; n++ {
		out = append(out, crashPoint{kind: "append", n: n}, crashPoint{kind: "append", n: n, after: true})
	}
	for i, k := range kinds {
		n := int64(i + 1)
		out = append(out, crashPoint{kind: "call", n: n})
		if k.mut {
			out = append(out, crashPoint{kind: "call", n: n, after: true})
		}
	}
	if soft {
		for i, k := range kinds {
			if k.mut && k.run == 1 {
				out = append(out, crashPoint{kind: "call", n: int64(i + 1), soft: true},
					crashPoint{kind: "call", n: int64(i + 1), soft: true, suspend: true})
			}
		}
	}
	return out
}

// sample returns every step-th point (all when step ≤ 1), always keeping
// the first and the last.
func sample[T any](xs []T, step int) []T {
	if step <= 1 || len(xs) <= 2 {
		return xs
	}
	var out []T
	for i := 0; i < len(xs); i += step {
		out = append(out, xs[i])
	}
	if (len(xs)-1)%step != 0 {
		out = append(out, xs[len(xs)-1])
	}
	return out
}

// bubbleWorld is a fresh cloud, ledger and journal in a synctest bubble.
func bubbleWorld() (*fake.Cloud, *memLedger, *world, *cutover.MemJournal) {
	cloud := fake.MustNew(fake.Options{Seed: 1, WarmUp: bubbleTiming.warmUp, MaxCalls: -1})
	led := newMemLedger()
	return cloud, led, newWorld(cloud, led), cutover.NewMemJournal()
}

// referenceRun runs c once without a crash and returns how many journal
// appends and which cloud calls it made. It fails t if the run does not end
// as it should.
func referenceRun(t *testing.T, c crashCase) (appends int64, kinds []callKind) {
	synctest.Test(t, func(t *testing.T) {
		cloud, led, w, mem := bubbleWorld()
		k := newKillSwitch()
		cfg := planConfig{sc: c.sc, bad: c.bad, timing: bubbleTiming}
		p, err := buildPlan(cfg, w.wrap(k))
		if err != nil {
			t.Fatal(err)
		}
		_, err = drive(t.Context(), kJournal{k, mem}, runnerOptions(bubbleTiming, nil), p, k, func() error {
			return checkCloud(cloud, c.sc, expWaiting)
		})
		if c.bad != errors.Is(err, cutover.ErrRolledBack) || !c.bad && err != nil {
			t.Fatalf("%s: reference run: %v", c, err)
		}
		recs, err := mem.Read(t.Context(), cutoverID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(c.sc, cloud, led, recs, p, c.want()); err != nil {
			t.Fatalf("%s: reference run: %v", c, err)
		}
		appends = k.appends.Load()
		kinds = k.kinds
	})
	return appends, kinds
}

// crashInBubble kills a runner of c at p and lets a new runner finish —
// after killing that one too at again, if set. It returns whether the
// first kill happened and what is wrong with the end.
func crashInBubble(t *testing.T, c crashCase, p crashPoint, again *crashPoint) (crashed bool, bad error) {
	synctest.Test(t, func(t *testing.T) {
		cloud, led, w, mem := bubbleWorld()
		k := newKillSwitch()
		p.arm(k)
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		k.onKill = func() {
			if p.suspend {
				cancel(cutover.ErrSuspended)
			} else {
				cancel(context.Canceled)
			}
		}
		cfg := planConfig{sc: c.sc, bad: c.bad, timing: bubbleTiming}
		kp, err := buildPlan(cfg, w.wrap(k))
		if err != nil {
			bad = err
			return
		}
		opts := runnerOptions(bubbleTiming, nil)
		var lease *cutover.MemLease
		if p.soft {
			lease = cutover.NewMemLease(cutover.MemLeaseOptions{})
			opts.Lease, opts.LeaseTTL, opts.Owner = lease, time.Minute, "first"
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			drive(ctx, kJournal{k, mem}, opts, kp, k, nil)
		}()
		// The killed runner is left behind, as a dead process would be.
		select {
		case <-k.died:
		case <-done:
		}
		crashed = k.fired()

		np, err := buildPlan(cfg, w)
		if err != nil {
			bad = err
			return
		}
		nopts := runnerOptions(bubbleTiming, nil)
		if p.soft {
			nopts.Lease, nopts.LeaseTTL, nopts.Owner = lease, time.Minute, "second"
		}
		// done2 closes when the second killed runner, if any, has
		// returned: like the first, it may still be inside a stage's
		// Apply or Revert when it is killed (a journal append inside the
		// stage failed), and the bubble must not end before it does.
		var done2 chan struct{}
		if again != nil && !p.soft {
			// The runner that resumes is killed too, and left behind.
			k2 := newKillSwitch()
			again.arm(k2)
			ctx2, cancel2 := context.WithCancel(t.Context())
			defer cancel2()
			k2.onKill = cancel2
			kp2, err := buildPlan(cfg, w.wrap(k2))
			if err != nil {
				bad = err
				return
			}
			done2 = make(chan struct{})
			go func() {
				defer close(done2)
				drive(ctx2, kJournal{k2, mem}, nopts, kp2, k2, nil)
			}()
			select {
			case <-k2.died:
			case <-done2:
			}
		}
		var rerr error
		for try := 0; try < 600; try++ {
			_, rerr = drive(t.Context(), mem, nopts, np, nil, func() error { return checkCloud(cloud, c.sc, expWaiting) })
			if !errors.Is(rerr, cutover.ErrLeaseHeld) {
				break
			}
			time.Sleep(10 * time.Second) // the first runner still rolls back
		}
		<-done
		if done2 != nil {
			<-done2
		}
		recs, err := mem.Read(t.Context(), cutoverID, 0)
		if err != nil {
			bad = err
			return
		}
		want := c.want()
		if p.soft && !p.suspend {
			want = cutover.PhaseRolledBack
		}
		if err := verify(c.sc, cloud, led, recs, np, want); err != nil {
			bad = fmt.Errorf("%w (last Run: %v)", err, rerr)
		}
	})
	return crashed, bad
}

// TestCrashInProcess kills the runner at every crash point of every
// scenario (every third in the short form) and checks that a new runner
// converges.
func TestCrashInProcess(t *testing.T) {
	step := pick(3, 1)
	for _, c := range crashCases() {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			appends, kinds := referenceRun(t, c)
			points := sample(crashPointsOf(appends, kinds, true), step)
			var fails failures
			var s reliability.Summary
			run := func(p crashPoint, again *crashPoint) {
				crashed, err := crashInBubble(t, c, p, again)
				what := p.String()
				if again != nil {
					what += ", then the next runner at " + again.String()
				}
				if !crashed {
					fails.add("%s: %s: the runner was never killed there (the run made fewer appends or calls than the reference)", c, what)
					return
				}
				s.CrashPoints++
				if err != nil {
					fails.add("%s: killed at %s: %v", c, what, err)
					return
				}
				s.Converged++
			}
			for _, p := range points {
				run(p, nil)
			}
			// In the full form, every hard kill again with the resuming
			// runner killed too, at one of its first appends.
			if full() {
				rng := rand.New(rand.NewPCG(uint64(len(c.String())), 5))
				for _, p := range points {
					if p.soft {
						continue
					}
					again := crashPoint{kind: "append", n: 1 + rng.Int64N(12), after: rng.IntN(2) == 0}
					run(p, &again)
				}
			}
			collected.add(s)
			collected.count("crash_in_process_points", float64(s.CrashPoints))
			collected.count("crash_in_process_converged", float64(s.Converged))
			t.Logf("%s: %d appends, %d cloud calls; %d crash points, %d converged", c, appends, len(kinds), s.CrashPoints, s.Converged)
			fails.report(t, "crash in-process "+c.String())
		})
	}
}
