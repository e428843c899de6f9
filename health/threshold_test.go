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

func TestThresholdOnFakeCloud(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t)
		g, err := health.NewThreshold(c, "green", providers.MetricErrors, health.AtMost(0.01),
			health.ThresholdOptions{Per: providers.MetricRequests})
		if err != nil {
			t.Fatal(err)
		}
		sleep(time.Minute)
		v := evaluate(t, g)
		want(t, "healthy green", v, cutover.Pass, "green errors/requests", "within ≤ 0.01")
		if v.Figures["requests"] < 5000 {
			t.Errorf("figures %v: want about 6000 requests over the minute", v.Figures)
		}
		setErrorRate(t, c, "green", 0.05)
		sleep(time.Minute)
		want(t, "green at 5%", evaluate(t, g), cutover.Fail, "want ≤ 0.01")
	})
}

func TestThresholdNoData(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     health.ThresholdOptions
		after    time.Duration
		decision cutover.Decision
		reason   string
	}{
		{"pending by default", health.ThresholdOptions{}, time.Minute, cutover.Pending, "no data"},
		{"fail by policy", health.ThresholdOptions{NoData: health.NoDataFail}, time.Minute, cutover.Fail, "no data"},
		{"zero by policy", health.ThresholdOptions{NoData: health.NoDataZero}, time.Minute, cutover.Pass, "within"},
		{"pending before the deadline", health.ThresholdOptions{Deadline: 5 * time.Minute}, 4 * time.Minute, cutover.Pending, "no data"},
		{"fails closed at the deadline", health.ThresholdOptions{Deadline: 5 * time.Minute}, 5 * time.Minute, cutover.Fail, "deadline 5m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := fake.MustNew(fake.Options{})
				// "idle" is known to the cloud but receives no traffic.
				c.Router("alb", "blue", "idle")
				g, err := health.NewThreshold(c, "idle", providers.MetricErrors, health.AtMost(10), tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				evaluate(t, g) // starts the deadline
				sleep(tc.after)
				want(t, tc.name, evaluate(t, g), tc.decision, tc.reason)
			})
		})
	}
}

func TestThresholdSourceErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t)
		sleep(time.Minute)
		g, err := health.NewThreshold(c, "green", providers.MetricErrors, health.AtMost(1000), health.ThresholdOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// One failure is retried.
		if err := c.InjectFault(fake.Fault{Op: fake.OpMetric, Err: fake.ErrThrottled, Limit: 1}); err != nil {
			t.Fatal(err)
		}
		want(t, "after one throttle", evaluate(t, g), cutover.Pass)
		// A source that keeps failing transiently leaves the gate Pending
		// with the cause (the stage's deadline fails it closed), never passes.
		c.ClearFaults()
		if err := c.InjectFault(fake.Fault{Op: fake.OpMetric, Err: fake.ErrServer}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		v := evaluate(t, g)
		want(t, "source down", v, cutover.Pending, "after 3 attempts", fake.ErrServer.Error())
		if waited := time.Since(start); waited != 3*time.Second {
			t.Errorf("retries waited %v, want 1s+2s", waited)
		}
		// A permanent error fails the gate at once.
		c.ClearFaults()
		if err := c.InjectFault(fake.Fault{Op: fake.OpMetric, Err: errors.New("access denied")}); err != nil {
			t.Fatal(err)
		}
		want(t, "access denied", evaluate(t, g), cutover.Fail, "access denied")
		c.ClearFaults()
		// A cancelled context is an error, not a verdict.
		ctx, cancel := contextWithCancel(t)
		cancel()
		if _, err := g.Evaluate(ctx); err == nil {
			t.Error("Evaluate with a cancelled context returned no error")
		}
	})
}

func TestThresholdBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t)
		sleep(time.Minute)
		for _, tc := range []struct {
			bounds health.Bounds
			want   cutover.Decision
		}{
			{health.AtLeast(5000), cutover.Pass}, // about 6000 requests a minute
			{health.AtLeast(7000), cutover.Fail},
			{health.Between(5000, 7000), cutover.Pass},
			{health.AtMost(100), cutover.Fail},
		} {
			g, err := health.NewThreshold(c, "green", providers.MetricRequests, tc.bounds, health.ThresholdOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want(t, tc.bounds.String(), evaluate(t, g), tc.want)
		}
	})
}

func TestThresholdBadInput(t *testing.T) {
	c := fake.MustNew(fake.Options{})
	for _, tc := range []struct {
		name   string
		target string
		bounds health.Bounds
		opts   health.ThresholdOptions
		want   string
	}{
		{"min above max", "green", health.Between(2, 1), health.ThresholdOptions{}, "Min 2 > Max 1"},
		{"negative window", "green", health.AtMost(1), health.ThresholdOptions{Window: -time.Second}, "Window"},
		{"empty target", "", health.AtMost(1), health.ThresholdOptions{}, "target"},
		{"negative deadline", "green", health.AtMost(1), health.ThresholdOptions{Deadline: -1}, "Deadline"},
		{"bad policy", "green", health.AtMost(1), health.ThresholdOptions{NoData: 42}, "NoData"},
		{"negative attempts", "green", health.AtMost(1), health.ThresholdOptions{Retry: health.Retry{Attempts: -1}}, "Retry.Attempts"},
	} {
		_, err := health.NewThreshold(c, tc.target, providers.MetricErrors, tc.bounds, tc.opts)
		refused(t, tc.name, err, tc.want)
	}
	if _, err := health.NewThreshold(nil, "green", providers.MetricErrors, health.AtMost(1), health.ThresholdOptions{}); err == nil {
		t.Error("nil source accepted")
	}
}
