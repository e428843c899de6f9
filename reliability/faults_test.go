package reliability_test

// Provider faults: seeded runs of the four scenarios with a share of the
// fake cloud's calls failing (throttling, 5xx, timeouts, lost responses)
// or slow, half of them with a bad green that the gates judge from the
// fake cloud's simulated traffic. Some bad-green runs also get a rollback
// that keeps failing. Each run is a testing/synctest bubble.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/reliability"
)

// faultBound is how long, on the cutover's clock, a whole life cycle of
// the longest scenario may take: per Run, every stage's apply (fleet
// ready-timeout 10m, read-backs, slow calls) and deadline (bake + grace),
// then a rollback (RevertTimeout) and its journal appends; two Runs with
// the approval between them.
const faultBound = 12 * time.Hour

// faultRevertTimeout bounds each rollback of the fault runs.
const faultRevertTimeout = 15 * time.Minute

// faultRun is one seeded run with faults, and what came of it.
type faultRun struct {
	seed  uint64
	rate  float64
	sc    scenario
	bad   bool
	stuck bool // a rollback that keeps failing

	phase              cutover.Phase // after the faulty runner
	final              cutover.Phase // after a later runner without faults, if needed
	err                error
	elapsed            time.Duration
	hung               bool
	failedGate         bool // the journal holds a Fail verdict
	greenTraffic       int  // green's share at the end
	rollbackIncomplete bool
	calls, hits        int
}

// injectFaults makes a share rate of the cloud's calls fail or slow down:
// 40 % of them throttled, 25 % server errors, 15 % timeouts after a wait,
// 10 % lost responses (the call took effect, the answer says it failed),
// 10 % slow calls that then succeed.
func injectFaults(c *fake.Cloud, rate float64) error {
	for _, f := range []fake.Fault{
		{Share: 0.40 * rate, Err: fake.ErrThrottled},
		{Share: 0.25 * rate, Err: fake.ErrServer},
		{Share: 0.15 * rate, Err: fake.ErrTimeout, Delay: 10 * time.Second},
		{Share: 0.10 * rate, Err: fake.ErrTimeout, AfterEffect: true},
		{Share: 0.10 * rate, Delay: 20 * time.Second},
	} {
		if err := c.InjectFault(f); err != nil {
			return err
		}
	}
	return nil
}

// metricGates are the gates of the fault runs: green's targets all healthy
// before the switch, green's 5xx rate at most 2 % after it, judged from the
// fake cloud's traffic.
func metricGates(w *world) (pre, post []cutover.Gate, err error) {
	th, err := health.NewTargetHealth(w.cloud, "green", health.TargetHealthOptions{})
	if err != nil {
		return nil, nil, err
	}
	rate, err := health.NewThreshold(w.cloud, "green", providers.MetricErrors, health.AtMost(0.02),
		health.ThresholdOptions{Per: providers.MetricRequests, Window: 2 * time.Minute})
	if err != nil {
		return nil, nil, err
	}
	return []cutover.Gate{th}, []cutover.Gate{rate}, nil
}

// runWithFaults runs r in a bubble and fills in its outcome.
func runWithFaults(t *testing.T, r *faultRun) error {
	var bad error
	synctest.Test(t, func(t *testing.T) {
		cloud := fake.MustNew(fake.Options{Seed: int64(r.seed) + 1, WarmUp: bubbleTiming.warmUp, MaxCalls: -1})
		w := newWorld(cloud, newMemLedger())
		if r.bad {
			if err := cloud.SetProfile("green", fake.Profile{ErrorRate: 0.2, LatencyMedian: 80 * time.Millisecond, LatencySigma: 0.5}); err != nil {
				bad = err
				return
			}
		}
		if err := injectFaults(cloud, r.rate); err != nil {
			bad = err
			return
		}
		p, err := buildPlan(planConfig{sc: r.sc, bad: r.bad, timing: bubbleTiming, gates: metricGates}, w)
		if err != nil {
			bad = err
			return
		}
		mem := cutover.NewMemJournal()
		opts := runnerOptions(bubbleTiming, nil)
		opts.RevertTimeout = faultRevertTimeout
		if r.stuck {
			// Once the rollback starts, every call fails.
			opts.Observer = cutover.ObserverFunc(func(e cutover.Event) {
				if e.Type == cutover.EvRollingBack {
					r.calls, r.hits = cloud.CallCount(""), cloud.FaultHits()
					cloud.InjectFault(fake.Fault{Err: fake.ErrServer})
				}
			})
		}
		ctx, cancel := context.WithTimeout(t.Context(), faultBound+time.Minute)
		defer cancel()
		start := time.Now()
		st, err := drive(ctx, mem, opts, p, nil, nil)
		r.elapsed = time.Since(start)
		r.hung = ctx.Err() != nil || r.elapsed > faultBound
		r.phase, r.final, r.err = st.Phase, st.Phase, err
		r.rollbackIncomplete = errors.Is(err, cutover.ErrRollbackIncomplete)
		if !r.stuck {
			r.calls, r.hits = cloud.CallCount(""), cloud.FaultHits()
		}

		// A later runner, the faults gone, finishes what is left.
		if r.final != cutover.PhaseCompleted && r.final != cutover.PhaseRolledBack {
			cloud.ClearFaults()
			opts.Observer = nil
			st, _ = drive(t.Context(), mem, opts, p, nil, nil)
			r.final = st.Phase
		}
		recs, err := mem.Read(t.Context(), cutoverID, 0)
		if err != nil {
			bad = err
			return
		}
		for _, rec := range recs {
			if rec.Type == cutover.RecVerdict && rec.Verdict.Decision == cutover.Fail {
				r.failedGate = true
			}
		}
		r.greenTraffic = greenShare(cloud, r.sc)
		if _, err := checkJournal(recs, p); err != nil {
			bad = err
		}
	})
	return bad
}

// TestProviderFaults runs seeded cutovers at 1 %, 10 % and 30 % of provider
// calls failing: no run ends with traffic on a green whose gate failed (or
// that was bad), none outlives its bound, and a rollback that keeps failing
// ends as ErrRollbackIncomplete with a journal a later runner finishes.
func TestProviderFaults(t *testing.T) {
	n := pick(24, 1000)
	for ri, rate := range reliability.FaultRates {
		t.Run(fmt.Sprintf("%g%%", rate*100), func(t *testing.T) {
			t.Parallel()
			var (
				fails                                      failures
				s                                          reliability.Summary
				completed, rolledBack, incomplete, unended int
				finishedAfter, badRuns, stuckRuns          int
				calls, hits                                int
				maxElapsed                                 time.Duration
				unendedWhy                                 []string
			)
			for seed := uint64(1); seed <= uint64(n); seed++ {
				rng := rand.New(rand.NewPCG(seed, uint64(ri)))
				r := &faultRun{seed: seed, rate: rate, sc: scenarios[rng.IntN(len(scenarios))], bad: rng.IntN(2) == 0}
				r.stuck = r.bad && rng.IntN(8) == 0
				if err := runWithFaults(t, r); err != nil {
					fails.add("seed %d (%s, bad %v): %v", seed, r.sc, r.bad, err)
				}
				s.FaultRuns++
				calls += r.calls
				hits += r.hits
				maxElapsed = max(maxElapsed, r.elapsed)
				if r.bad {
					badRuns++
				} else {
					s.GoodGreens[ri]++
					if r.final == cutover.PhaseRolledBack {
						s.GoodGreensRolledBack[ri]++
						if s.GoodGreensRolledBack[ri] <= 5 {
							t.Logf("seed %d (%s): a good green rolled back: %v", seed, r.sc, r.err)
						}
					}
				}
				if r.hung {
					s.Stuck++
					fails.add("seed %d (%s): the run took %v, beyond its bound %v", seed, r.sc, r.elapsed, faultBound)
				}
				if (r.bad || r.failedGate) && r.greenTraffic > 0 {
					s.TrafficOnFailedGreen++
					fails.add("seed %d (%s, bad green %v, gate failed %v): ended %s with %d%% of traffic on green", seed, r.sc, r.bad, r.failedGate, r.final, r.greenTraffic)
				}
				if r.stuck {
					stuckRuns++
					if !r.rollbackIncomplete {
						fails.add("seed %d (%s): a rollback that kept failing ended %s (%v), want ErrRollbackIncomplete", seed, r.sc, r.phase, r.err)
					}
				}
				if r.rollbackIncomplete {
					incomplete++
					if r.final == cutover.PhaseRolledBack {
						finishedAfter++
					} else {
						fails.add("seed %d (%s): after ErrRollbackIncomplete a runner without faults ended %s, want rolled back", seed, r.sc, r.final)
					}
				}
				switch r.final {
				case cutover.PhaseCompleted:
					completed++
				case cutover.PhaseRolledBack:
					rolledBack++
				default:
					unended++
					if len(unendedWhy) < 3 {
						unendedWhy = append(unendedWhy, fmt.Sprintf("seed %d (%s, bad green %v): %s after a runner without faults; the faulty run: %v", seed, r.sc, r.bad, r.final, r.err))
					}
				}
			}
			collected.add(s)
			pct := fmt.Sprintf("%g", rate*100)
			collected.figure("faults_"+pct+"_runs", float64(s.FaultRuns))
			collected.figure("faults_"+pct+"_completed", float64(completed))
			collected.figure("faults_"+pct+"_rolled_back", float64(rolledBack))
			collected.figure("faults_"+pct+"_rollback_incomplete_then_finished", float64(finishedAfter))
			collected.figure("faults_"+pct+"_neither_completed_nor_rolled_back", float64(unended))
			collected.figure("faults_"+pct+"_failed_call_share", float64(hits)/float64(max(calls, 1)))
			collected.figure("faults_"+pct+"_max_run_hours", maxElapsed.Hours())
			collected.figure("faults_"+pct+"_good_green_rollback", s.GoodGreenRollback(ri))
			t.Logf("%g%% faults: %d runs (%d bad green, %d with a rollback that keeps failing): %d completed, %d rolled back, %d neither; "+
				"good greens rolled back %d of %d; %d ErrRollbackIncomplete, %d finished by a later runner; %d of %d calls hit by a fault (%.1f%%); longest run %v; stuck %d, traffic on failed green %d",
				rate*100, s.FaultRuns, badRuns, stuckRuns, completed, rolledBack, unended, s.GoodGreensRolledBack[ri], s.GoodGreens[ri], incomplete, finishedAfter,
				hits, calls, 100*float64(hits)/float64(max(calls, 1)), maxElapsed, s.Stuck, s.TrafficOnFailedGreen)
			for _, why := range unendedWhy {
				t.Logf("neither completed nor rolled back (TestPNRStageApplyFailureIsResumable): %s", why)
			}
			fails.report(t, fmt.Sprintf("provider faults at %g%%", rate*100))
		})
	}
}
