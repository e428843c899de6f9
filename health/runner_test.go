package health_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// TestJudgeDrivesTheRunner runs a one-stage canary on the fake cloud: the
// judge ends a healthy canary's 30-minute bake early and rolls a bad one
// back within minutes.
func TestJudgeDrivesTheRunner(t *testing.T) {
	for _, tc := range []struct {
		name     string
		green    float64
		wantErr  bool
		maxTaken time.Duration
	}{
		{"healthy canary is promoted early", 0.005, false, 10 * time.Minute},
		{"3x canary is rolled back", 0.015, true, 3 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := fake.MustNew(fake.Options{Seed: 11})
				r := c.Router("alb", "blue", "green")
				setErrorRate(t, c, "green", tc.green)
				judge, err := health.NewJudge(c, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors}})
				if err != nil {
					t.Fatal(err)
				}
				if err := c.SetAlarm("blue-5xx", providers.AlarmOK, ""); err != nil {
					t.Fatal(err)
				}
				alarms, err := health.NewAlarm(c, []string{"blue-5xx"}, health.AlarmOptions{})
				if err != nil {
					t.Fatal(err)
				}
				setWeights := func(w providers.Weights) func(context.Context) error {
					return func(ctx context.Context) error { return r.SetWeights(ctx, w) }
				}
				plan := cutover.Plan{Name: "canary", Stages: []cutover.Stage{{
					Name:   "green 10%",
					Apply:  setWeights(providers.Weights{"blue": 90, "green": 10}),
					Revert: setWeights(providers.Weights{"blue": 100, "green": 0}),
					Bake:   30 * time.Minute,
					// Only final passes end a bake early: the judge's is
					// final, an alarm's never is, so the alarm gate is
					// judged in the same stage under All only when a
					// full bake is wanted.
					Gates: []cutover.Gate{judge},
				}}}
				if tc.wantErr {
					plan.Stages[0].Gates = []cutover.Gate{health.All(judge, alarms)}
				}
				runner := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: 10 * time.Second})
				start := time.Now()
				_, err = runner.Run(t.Context(), "c1", plan)
				took := time.Since(start)
				if tc.wantErr {
					var gf *cutover.GateFailedError
					if !errors.Is(err, cutover.ErrRolledBack) || !errors.As(err, &gf) {
						t.Fatalf("Run: %v, want a rollback caused by a gate", err)
					}
					t.Logf("rolled back after %v: %v", took, gf)
				} else if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if took > tc.maxTaken {
					t.Errorf("took %v, want ≤ %v", took, tc.maxTaken)
				}
				w, _ := r.Weights(t.Context())
				wantGreen := 10
				if tc.wantErr {
					wantGreen = 0
				}
				if w["green"] != wantGreen {
					t.Errorf("green weight %d after the run, want %d", w["green"], wantGreen)
				}
			})
		})
	}
}
