package health_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// poll evaluates g every 10s, as a runner would, until it is no longer
// Pending or limit has passed, and returns the last verdict and the time
// it took.
func poll(t *testing.T, g cutover.Gate, limit time.Duration) (cutover.Verdict, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		v := evaluate(t, g)
		if v.Decision != cutover.Pending || time.Since(start) >= limit {
			return v, time.Since(start)
		}
		sleep(10 * time.Second)
	}
}

var errorsOnly = health.JudgeOptions{Metrics: []string{providers.MetricErrors}}

func TestJudgeOnFakeCloud(t *testing.T) {
	for _, tc := range []struct {
		name     string
		green    float64 // error rate
		opts     health.JudgeOptions
		limit    time.Duration
		decision cutover.Decision
		reason   []string
	}{
		{"5x regression fails within a minute", 0.025, errorsOnly, time.Minute, cutover.Fail, []string{"green is worse than blue", "roll back"}},
		{"healthy passes early", 0.005, errorsOnly, 15 * time.Minute, cutover.Pass, []string{"green is no worse than blue", "within 1.50×"}},
		{"tolerated increase does not fail", 0.006, health.JudgeOptions{SequentialOptions: health.SequentialOptions{Tolerance: 0.5, Margin: 1}, Metrics: []string{providers.MetricErrors}}, 30 * time.Minute, cutover.Pass, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t)
				setErrorRate(t, c, "green", tc.green)
				g, err := health.NewJudge(c, "blue", "green", tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				v, took := poll(t, g, tc.limit)
				want(t, tc.name, v, tc.decision, tc.reason...)
				if !v.Final {
					t.Errorf("%s after %v: %+v, want a final verdict", tc.name, took, v)
				}
				t.Logf("%s after %v: %s", v.Decision, took, v.Reason)
				// A concluded judge keeps its verdict until Reset.
				sleep(time.Minute)
				if again := evaluate(t, g); again.Decision != v.Decision {
					t.Errorf("after concluding: %v, want %v", again, v.Decision)
				}
				g.(cutover.Resetter).Reset()
				if again := evaluate(t, g); again.Decision != cutover.Pending {
					t.Errorf("after Reset: %v, want pending", again)
				}
			})
		})
	}
}

func TestJudgeSlowRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t)
		// Green answers as often in error but much more slowly.
		p := fake.DefaultProfile
		p.LatencyMedian = 200 * time.Millisecond
		if err := c.SetProfile("green", p); err != nil {
			t.Fatal(err)
		}
		g, err := health.NewJudge(c, "blue", "green", health.JudgeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := poll(t, g, 5*time.Minute)
		want(t, "slow green", v, cutover.Fail, "slow green")
		if v.Figures["slow.ratio"] < 10 {
			t.Errorf("figures %v: want a slow ratio far above 1", v.Figures)
		}
	})
}

func TestJudgeSharedIncident(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t)
		start := c.Now()
		for _, tg := range []string{"blue", "green"} {
			bad := fake.DefaultProfile
			bad.ErrorRate = 0.03
			if err := c.SetProfileAt(tg, start.Add(time.Minute), bad); err != nil {
				t.Fatal(err)
			}
			if err := c.SetProfileAt(tg, start.Add(6*time.Minute), fake.DefaultProfile); err != nil {
				t.Fatal(err)
			}
		}
		g, err := health.NewJudge(c, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors}, SequentialOptions: health.SequentialOptions{Margin: 0.2}})
		if err != nil {
			t.Fatal(err)
		}
		v, took := poll(t, g, 30*time.Minute)
		if v.Decision == cutover.Fail {
			t.Errorf("judge failed the canary during a shared incident after %v: %s", took, v.Reason)
		}
		if v.Decision != cutover.Pass {
			t.Errorf("after the incident: %v after %v, want pass", v, took)
		}
	})
}

func TestJudgeNoDataAndSourceErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{})
		c.Router("alb", "blue", "green") // all traffic to blue: no green data
		g, err := health.NewJudge(c, "blue", "green", errorsOnly)
		if err != nil {
			t.Fatal(err)
		}
		evaluate(t, g)
		sleep(time.Minute)
		want(t, "no green traffic", evaluate(t, g), cutover.Pending, "no request data for green")

		strict, err := health.NewJudge(c, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors}, NoData: health.NoDataFail})
		if err != nil {
			t.Fatal(err)
		}
		evaluate(t, strict)
		sleep(time.Minute)
		want(t, "no green traffic, fail policy", evaluate(t, strict), cutover.Fail, "no request data")

		if err := c.InjectFault(fake.Fault{Op: fake.OpMetric, Err: fake.ErrServer}); err != nil {
			t.Fatal(err)
		}
		want(t, "source down", evaluate(t, g), cutover.Pending, "source failed after 3 attempts")
		c.ClearFaults()
		if err := c.InjectFault(fake.Fault{Op: fake.OpMetric, Err: errors.New("access denied")}); err != nil {
			t.Fatal(err)
		}
		want(t, "source refuses", evaluate(t, g), cutover.Fail, "access denied")
	})
}

func TestJudgeWarmUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t)
		setErrorRate(t, c, "green", 0.03)
		// Green is bad only while it warms up.
		if err := c.SetProfileAt("green", c.Now().Add(time.Minute), fake.DefaultProfile); err != nil {
			t.Fatal(err)
		}
		g, err := health.NewJudge(c, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors}, WarmUp: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "warming up", evaluate(t, g), cutover.Pending, "warming up")
		v, _ := poll(t, g, 20*time.Minute)
		want(t, "after warm-up", v, cutover.Pass)
	})
}

func TestJudgeBadInput(t *testing.T) {
	c := fake.MustNew(fake.Options{})
	for _, tc := range []struct {
		name             string
		baseline, canary string
		opts             health.JudgeOptions
		want             string
	}{
		{"alpha above 0.5", "blue", "green", health.JudgeOptions{SequentialOptions: health.SequentialOptions{Alpha: 0.6}}, "Alpha 0.6 outside (0, 0.5)"},
		{"negative tolerance", "blue", "green", health.JudgeOptions{SequentialOptions: health.SequentialOptions{Tolerance: -1}}, "Tolerance"},
		{"same targets", "blue", "blue", health.JudgeOptions{}, "two different targets"},
		{"empty canary", "blue", "", health.JudgeOptions{}, "two different targets"},
		{"requests as a failure metric", "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricRequests}}, "Metrics[0]"},
		{"repeated metric", "blue", "green", health.JudgeOptions{Metrics: []string{"errors", "errors"}}, "Metrics[1]"},
		{"negative warm-up", "blue", "green", health.JudgeOptions{WarmUp: -time.Second}, "WarmUp"},
		{"bad policy", "blue", "green", health.JudgeOptions{NoData: 9}, "NoData"},
	} {
		_, err := health.NewJudge(c, tc.baseline, tc.canary, tc.opts)
		refused(t, tc.name, err, tc.want)
	}
}

func TestJudgeInconsistentCounts(t *testing.T) {
	metrics := sums{"green/requests": 100, "green/errors": 120, "blue/requests": 900, "blue/errors": 4}
	g, err := health.NewJudge(metrics, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors},
		Clock: &minutes{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	evaluate(t, g)
	want(t, "more errors than requests", evaluate(t, g), cutover.Pending, "inconsistent errors counts")
}

// TestJudgeDecreasingCounts: a judge whose source restates its
// counts lower takes them as corrections: it judges the corrected totals
// and counts the restatement in its figures.
func TestJudgeDecreasingCounts(t *testing.T) {
	src := sums{"green/requests": 10000, "green/errors": 60, "blue/requests": 90000, "blue/errors": 450}
	g, err := health.NewJudge(src, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors},
		Clock: &minutes{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	evaluate(t, g)
	want(t, "first counts", evaluate(t, g), cutover.Pending)
	src["green/errors"] = 55
	v := evaluate(t, g)
	want(t, "restated lower", v, cutover.Pending, "(55/10000)")
	if v.Figures["restated"] != 1 {
		t.Errorf("restated lower: figures %v, want restated=1", v.Figures)
	}
	src["green/requests"], src["green/errors"] = 9000, 200 // corrected again: a clear regression
	want(t, "restated to a regression", evaluate(t, g), cutover.Fail, "(200/9000)")
}
