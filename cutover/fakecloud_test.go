package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// canary returns a plan that moves the router's traffic to green through
// the given percentages, each stage baking bake with gate g (if not nil)
// and verifying the weights by reading them back.
func canary(r providers.TrafficRouter, bake time.Duration, g func(i int) cutover.Gate, steps ...int) cutover.Plan {
	w := func(green int) providers.Weights { return providers.Weights{"blue": 100 - green, "green": green} }
	p := cutover.Plan{Name: "canary"}
	from := 0
	for i, to := range steps {
		prev, next := from, to
		s := cutover.Stage{
			Name:   fmt.Sprintf("green-%d", to),
			Apply:  func(ctx context.Context) error { return r.SetWeights(ctx, w(next)) },
			Revert: func(ctx context.Context) error { return r.SetWeights(ctx, w(prev)) },
			Verify: func(ctx context.Context) error {
				got, err := r.Weights(ctx)
				if err != nil {
					return err
				}
				if !got.Equal(w(next)) {
					return fmt.Errorf("weights %s, want %s", got, w(next))
				}
				return nil
			},
			Bake: bake,
		}
		if g != nil {
			if gate := g(i); gate != nil {
				s.Gates = []cutover.Gate{gate}
			}
		}
		p.Stages = append(p.Stages, s)
		from = to
	}
	return p
}

// journalGreen is the share of green the journal says the router should
// have: that of the last applied and not reverted stage.
func journalGreen(st cutover.State, steps []int) int {
	green := 0
	for i, s := range st.Stages {
		if s.Status == cutover.StageApplied || s.Status == cutover.StageBaked {
			green = steps[i]
		}
	}
	return green
}

// On the fake cloud: a Fail at stage k of n reverts the applied stages in
// reverse and the router's weights end where they started.
func TestFakeCloudFailAtStageK(t *testing.T) {
	steps := []int{5, 10, 25, 50, 100}
	for k := range steps {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cloud := fake.MustNew(fake.Options{})
				r := cloud.Router("alb", "blue", "green")
				gate := func(i int) cutover.Gate {
					if i == k {
						return fixed("5xx", cutover.Verdict{Decision: cutover.Fail, Reason: "5xx 3% > 1%"})
					}
					return pass("5xx")
				}
				_, err := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{}).Run(t.Context(), "c", canary(r, 10*time.Minute, gate, steps...))
				if !errors.Is(err, cutover.ErrRolledBack) {
					t.Fatalf("err %v", err)
				}
				if got, want := r.Current(), (providers.Weights{"blue": 100, "green": 0}); !got.Equal(want) {
					t.Errorf("weights %s, want %s", got, want)
				}
				// The weights went up to stage k and back down in reverse.
				var greens []int
				for _, h := range r.History()[1:] {
					greens = append(greens, h.Weights["green"])
				}
				var want []int
				for i := 0; i <= k; i++ {
					want = append(want, steps[i])
				}
				for i := k - 1; i >= 0; i-- {
					want = append(want, steps[i])
				}
				want = append(want, 0)
				if diff := cmp.Diff(want, greens); diff != "" {
					t.Errorf("green's share over time (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// On the fake cloud: a crash at every journal append of a 6-stage plan,
// then a new runner on the same journal, converges at every crash point
// with the router matching the journal.
func TestFakeCloudCrashAtEveryAppend(t *testing.T) {
	steps := []int{5, 10, 25, 50, 75, 100}
	for _, failAt := range []int{-1, 3} {
		t.Run(fmt.Sprintf("failAt=%d", failAt), func(t *testing.T) {
			gate := func(i int) cutover.Gate {
				if i == failAt {
					return fixed("5xx", cutover.Verdict{Decision: cutover.Fail, Reason: "bad"})
				}
				return pass("5xx")
			}
			var total int64
			synctest.Test(t, func(t *testing.T) {
				cj := &crashJournal{Journal: cutover.NewMemJournal(), n: 1 << 40}
				r := fake.MustNew(fake.Options{}).Router("alb", "blue", "green")
				cutover.MustNewRunner(cj, cutover.RunnerOptions{}).Run(t.Context(), "c", canary(r, time.Minute, gate, steps...))
				total = cj.appends.Load()
			})
			converged := 0
			for n := int64(1); n <= total; n++ {
				synctest.Test(t, func(t *testing.T) {
					r := fake.MustNew(fake.Options{}).Router("alb", "blue", "green")
					p := canary(r, time.Minute, gate, steps...)
					mem := cutover.NewMemJournal()
					cutover.MustNewRunner(&crashJournal{Journal: mem, n: n}, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
					st, err := cutover.MustNewRunner(mem, cutover.RunnerOptions{}).Run(t.Context(), "c", p)
					wantPhase, wantGreen := cutover.PhaseCompleted, 100
					if failAt >= 0 {
						wantPhase, wantGreen = cutover.PhaseRolledBack, 0
					}
					if st.Phase != wantPhase {
						t.Errorf("crash at append %d: phase %s (%v), want %s", n, st.Phase, err, wantPhase)
						return
					}
					got := r.Current()["green"]
					if got != wantGreen || got != journalGreen(st, steps) {
						t.Errorf("crash at append %d: green %d, want %d, journal says %d", n, got, wantGreen, journalGreen(st, steps))
						return
					}
					converged++
				})
			}
			if converged != int(total) || total < 20 {
				t.Errorf("converged at %d of %d crash points", converged, total)
			}
		})
	}
}
