package health_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// feedCloud is newCloud with minute data points published lag late.
func feedCloud(t *testing.T, lag time.Duration) *fake.Cloud {
	t.Helper()
	return newCloudWith(t, fake.Options{Seed: 7, MetricResolution: time.Minute, MetricLag: lag})
}

// pollUntil evaluates g every 10s for d, stopping at a Fail or a final
// Pass, and returns the last verdict and when it came.
func pollUntil(t *testing.T, g cutover.Gate, d time.Duration) (cutover.Verdict, time.Duration) {
	t.Helper()
	start := time.Now()
	var v cutover.Verdict
	for time.Since(start) <= d {
		v = evaluate(t, g)
		if v.Decision == cutover.Fail || v.Final {
			break
		}
		sleep(10 * time.Second)
	}
	return v, time.Since(start)
}

// The data-path cases of a MetricFeed: each arm's data arrive late, or
// one arm's later than the other's, or stop.
func TestJudgeFeed(t *testing.T) {
	errorsOnly := health.JudgeOptions{Metrics: []string{providers.MetricErrors}}
	for _, tc := range []struct {
		name      string
		lag       time.Duration
		greenRate float64
		setup     func(t *testing.T, c *fake.Cloud, start time.Time)
		want      cutover.Decision
		final     bool
		within    time.Duration
		fragments []string
	}{
		{name: "a 2x canary on minute data published 60s late fails", lag: time.Minute, greenRate: 0.01,
			want: cutover.Fail, final: true, within: 10 * time.Minute},
		{name: "the canary's data 60s later than the baseline's: a 2x canary still fails", lag: time.Minute, greenRate: 0.01,
			setup: func(t *testing.T, c *fake.Cloud, _ time.Time) {
				if err := c.DelayMetrics("green", time.Minute); err != nil {
					t.Fatal(err)
				}
			},
			want: cutover.Fail, final: true, within: 12 * time.Minute},
		{name: "the baseline's data 45s late during a shared incident: a healthy canary is not failed", lag: time.Minute, greenRate: 0.005,
			setup: func(t *testing.T, c *fake.Cloud, start time.Time) {
				if err := c.DelayMetrics("blue", 45*time.Second); err != nil {
					t.Fatal(err)
				}
				for _, tg := range []string{"blue", "green"} {
					p := fake.DefaultProfile
					p.ErrorRate = 0.05
					if err := c.SetProfileAt(tg, start.Add(time.Minute), p); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: cutover.Pass, final: true, within: 15 * time.Minute},
		{name: "the canary's data stall: pending, naming it", lag: time.Minute, greenRate: 0.005,
			setup: func(t *testing.T, c *fake.Cloud, start time.Time) {
				if err := c.StallMetrics("green", start.Add(2*time.Minute)); err != nil {
					t.Fatal(err)
				}
			},
			want: cutover.Pending, within: 20 * time.Minute, fragments: []string{"no data for green since 00:02:00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := feedCloud(t, tc.lag)
				setErrorRate(t, c, "green", tc.greenRate)
				if tc.setup != nil {
					tc.setup(t, c, time.Now())
				}
				g, err := health.NewJudge(c, "blue", "green", errorsOnly)
				if err != nil {
					t.Fatal(err)
				}
				v, took := pollUntil(t, g, tc.within)
				want(t, tc.name, v, tc.want, tc.fragments...)
				if v.Final != tc.final {
					t.Errorf("final %v, want %v: %v", v.Final, tc.final, v)
				}
				t.Logf("after %v: %v", took, v)
			})
		})
	}
}

// A stalled arm is never an inconclusive pass: at the stage's deadline it
// stays Pending, so the runner fails it closed; with complete data the
// same inconclusive comparison passes there.
func TestJudgeInconclusiveAtDeadline(t *testing.T) {
	for _, stall := range []bool{false, true} {
		t.Run(map[bool]string{false: "complete data pass", true: "stalled arm stays pending"}[stall], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := feedCloud(t, 0)
				setErrorRate(t, c, "blue", 0)
				setErrorRate(t, c, "green", 0)
				start := time.Now()
				if stall {
					if err := c.StallMetrics("green", start.Add(2*time.Minute)); err != nil {
						t.Fatal(err)
					}
				}
				g, err := health.NewJudge(c, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors}})
				if err != nil {
					t.Fatal(err)
				}
				timing := cutover.BakeTiming{Applied: start, BakeEnd: start.Add(5 * time.Minute), Deadline: start.Add(10 * time.Minute)}
				ctx := cutover.WithBakeTiming(t.Context(), timing)
				var v cutover.Verdict
				for time.Now().Before(timing.Deadline) {
					if v, err = g.Evaluate(ctx); err != nil {
						t.Fatal(err)
					}
					if v.Decision != cutover.Pending {
						t.Fatalf("before the deadline: %v, want pending", v)
					}
					sleep(10 * time.Second)
				}
				if v, err = g.Evaluate(ctx); err != nil {
					t.Fatal(err)
				}
				switch {
				case stall:
					want(t, "at the deadline", v, cutover.Pending, "no data for green")
				default:
					want(t, "at the deadline", v, cutover.Pass, "fixed horizon")
					if v.Final {
						t.Errorf("inconclusive pass is final: %v", v)
					}
				}
			})
		})
	}
}

// An unsupported metric is refused at construction by a feed, and fails
// a plain source's judge closed at once, without retries.
func TestJudgeUnsupportedMetric(t *testing.T) {
	c := fake.MustNew(fake.Options{})
	if _, err := health.NewJudge(c, "blue", "green", health.JudgeOptions{Metrics: []string{"saturation"}}); err == nil || !strings.Contains(err.Error(), "Metrics[0]") {
		t.Errorf("feed, unknown metric: err %v, want one naming Metrics[0]", err)
	}
	src := &unsupported{}
	g, err := health.NewJudge(src, "blue", "green", health.JudgeOptions{Clock: &minutes{now: time.Unix(0, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	evaluate(t, g)
	v := evaluate(t, g)
	want(t, "plain source", v, cutover.Fail, "cannot compare")
	if !v.Final || v.Figures[health.FigureFailClosed] != 1 || src.slow != 1 {
		t.Errorf("verdict %+v after %d slow calls; want a final fail-closed Fail after one call", v, src.slow)
	}
}

// unsupported answers requests and errors but not slow requests.
type unsupported struct{ slow int }

func (u *unsupported) Metric(_ context.Context, q providers.MetricQuery) (providers.MetricValue, error) {
	if q.Metric == providers.MetricSlow {
		u.slow++
		return providers.MetricValue{}, fmt.Errorf("slow: %w", providers.ErrUnsupportedMetric)
	}
	return providers.MetricValue{Value: 100, Points: 1}, nil
}

// In a runner: an inconclusive step (no failures on either arm) is
// extended to its deadline and then passes; a step whose canary's data
// stall fails closed there.
func TestJudgeInconclusiveInRunner(t *testing.T) {
	for _, stall := range []bool{false, true} {
		t.Run(map[bool]string{false: "inconclusive passes at the deadline", true: "stalled canary fails closed"}[stall], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := feedCloud(t, 0)
				setErrorRate(t, c, "blue", 0)
				setErrorRate(t, c, "green", 0)
				if stall {
					if err := c.StallMetrics("green", time.Now().Add(time.Minute)); err != nil {
						t.Fatal(err)
					}
				}
				g, err := health.NewJudge(c, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors}})
				if err != nil {
					t.Fatal(err)
				}
				var baked time.Time
				obs := cutover.ObserverFunc(func(e cutover.Event) {
					if e.Type == cutover.EvStageBaked || e.Type == cutover.EvRollingBack {
						baked = e.Time
					}
				})
				stage := cutover.Stage{Name: "s", Apply: func(context.Context) error { return nil }, Revert: func(context.Context) error { return nil },
					Bake: 5 * time.Minute, Deadline: 8 * time.Minute, Gates: []cutover.Gate{g}}
				st, err := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{Observer: obs}).Run(t.Context(), "c", cutover.Plan{Name: "p", Stages: []cutover.Stage{stage}})
				var gf *cutover.GateFailedError
				switch {
				case !stall && err != nil:
					t.Fatalf("run: %v, want success", err)
				case stall && !(errors.As(err, &gf) && gf.TimedOut && strings.Contains(gf.Verdict.Reason, "no data for green")):
					t.Fatalf("run: %v, want a timed-out gate naming green's stalled data", err)
				}
				if got := baked.Sub(st.Stages[0].AppliedAt); got != 8*time.Minute {
					t.Errorf("stage ended after %v, want the deadline (8m)", got)
				}
			})
		})
	}
}
