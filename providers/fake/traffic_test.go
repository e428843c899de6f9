package fake_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

var allMetrics = []string{providers.MetricRequests, providers.MetricErrors, providers.MetricSlow, providers.MetricLatencyAvg, providers.MetricLatencyP99}

func metric(t *testing.T, c *fake.Cloud, target, m string, start, end time.Time) providers.MetricValue {
	t.Helper()
	v, err := c.Metric(context.Background(), providers.MetricQuery{Target: target, Metric: m, Start: start, End: end})
	if err != nil {
		t.Fatalf("Metric(%s %s [%s, %s)): %v", target, m, start, end, err)
	}
	return v
}

// canaryRun drives a small canary on a cloud with the given seed inside a
// synctest bubble and returns every metric per minute and target.
func canaryRun(t *testing.T, seed int64, wholeFirst bool) map[string]providers.MetricValue {
	t.Helper()
	out := map[string]providers.MetricValue{}
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{Seed: seed})
		r := c.Router("alb", "blue", "green")
		start := c.Now()
		for _, g := range []int{0, 5, 25, 50, 100} {
			if err := r.SetWeights(t.Context(), providers.Weights{"blue": 100 - g, "green": g}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Minute)
		}
		query := func(k string, tg, m string, a, b time.Time) { out[k] = metric(t, c, tg, m, a, b) }
		for _, tg := range []string{"blue", "green"} {
			for _, m := range allMetrics {
				if wholeFirst {
					query(tg+" "+m+" all", tg, m, start, c.Now())
				}
				for i := range 5 {
					a := start.Add(time.Duration(i) * time.Minute)
					query(tg+" "+m+" "+a.Format("15:04"), tg, m, a, a.Add(time.Minute))
				}
				if !wholeFirst {
					query(tg+" "+m+" all", tg, m, start, c.Now())
				}
			}
		}
	})
	return out
}

func TestDeterministicForSeed(t *testing.T) {
	a := canaryRun(t, 42, false)
	b := canaryRun(t, 42, true) // other query order, same figures
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("same seed, different figures (-first +second):\n%s", d)
	}
	c := canaryRun(t, 43, false)
	if cmp.Equal(a, c) {
		t.Error("seeds 42 and 43 gave identical figures")
	}
	if a["green requests all"].Value != 60*(50+250+500+1000) {
		t.Errorf("green requests = %v, want %v", a["green requests all"].Value, 60*(50+250+500+1000))
	}
}

func TestWeightHistoryShapesMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{})
		r := c.Router("alb", "blue", "green")
		start := c.Now()
		steps := []providers.Weights{{"blue": 100}, {"blue": 90, "green": 10}, {"blue": 50, "green": 50}, {"green": 100}}
		for _, w := range steps {
			if err := r.SetWeights(t.Context(), w); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Minute)
		}
		if err := r.SetRate(200); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		tests := []struct {
			name   string
			target string
			minute int
			want   providers.MetricValue
		}{
			{"green before canary: no data", "green", 0, providers.MetricValue{}},
			{"blue before canary", "blue", 0, providers.MetricValue{Value: 60000, Points: 60}},
			{"green at 10%", "green", 1, providers.MetricValue{Value: 6000, Points: 60}},
			{"blue at 90%", "blue", 1, providers.MetricValue{Value: 54000, Points: 60}},
			{"green at 50%", "green", 2, providers.MetricValue{Value: 30000, Points: 60}},
			{"blue after cutover: no data", "blue", 3, providers.MetricValue{}},
			{"green at 100%", "green", 3, providers.MetricValue{Value: 60000, Points: 60}},
			{"green at 200 req/s", "green", 4, providers.MetricValue{Value: 12000, Points: 60}},
		}
		for _, tc := range tests {
			a := start.Add(time.Duration(tc.minute) * time.Minute)
			if got := metric(t, c, tc.target, providers.MetricRequests, a, a.Add(time.Minute)); got != tc.want {
				t.Errorf("%s: requests = %+v, want %+v", tc.name, got, tc.want)
			}
		}
		if got, want := len(r.History()), len(steps)+1; got != want { // the first step equals creation; plus the rate change
			t.Errorf("History has %d entries, want %d: %+v", got, want, r.History())
		}
	})
}

func TestProfileChangeMidRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{Seed: 9})
		r := c.Router("alb", "blue", "green")
		good := fake.Profile{ErrorRate: 0.01, LatencyMedian: 50 * time.Millisecond, LatencySigma: 0.4}
		bad := fake.Profile{ErrorRate: 0.2, LatencyMedian: 400 * time.Millisecond, LatencySigma: 0.4}
		start := c.Now()
		if err := c.SetProfile("green", good); err != nil {
			t.Fatal(err)
		}
		// Scheduled: green goes bad two minutes in.
		if err := c.SetProfileAt("green", start.Add(2*time.Minute), bad); err != nil {
			t.Fatal(err)
		}
		if err := r.SetWeights(t.Context(), providers.Weights{"blue": 50, "green": 50}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if got := c.Profile("green"); got != good {
			t.Errorf("Profile(green) after 1m = %+v, want %+v", got, good)
		}
		time.Sleep(3 * time.Minute)
		if got := c.Profile("green"); got != bad {
			t.Errorf("Profile(green) after 4m = %+v, want %+v", got, bad)
		}
		tests := []struct {
			name      string
			from, to  time.Duration
			p         fake.Profile
			objective time.Duration
		}{
			{"before", 0, 2 * time.Minute, good, fake.DefaultLatencyObjective},
			{"after", 2 * time.Minute, 4 * time.Minute, bad, fake.DefaultLatencyObjective},
		}
		for _, tc := range tests {
			a, b := start.Add(tc.from), start.Add(tc.to)
			n := metric(t, c, "green", providers.MetricRequests, a, b).Value
			errs := metric(t, c, "green", providers.MetricErrors, a, b).Value
			avg := metric(t, c, "green", providers.MetricLatencyAvg, a, b).Value
			p99 := metric(t, c, "green", providers.MetricLatencyP99, a, b).Value
			slow := metric(t, c, "green", providers.MetricSlow, a, b).Value
			med := tc.p.LatencyMedian.Seconds()
			s := tc.p.LatencySigma
			within(t, tc.name+" error rate", errs/n, tc.p.ErrorRate, 5*math.Sqrt(tc.p.ErrorRate*(1-tc.p.ErrorRate)/n))
			within(t, tc.name+" mean latency", avg, med*math.Exp(s*s/2), 0.01*med)
			within(t, tc.name+" p99 latency", p99, med*math.Exp(2.3263*s), 0.001*med)
			pSlow := 0.5 * math.Erfc((math.Log(tc.objective.Seconds())-math.Log(med))/(s*math.Sqrt2))
			within(t, tc.name+" slow share", slow/n, pSlow, 5*math.Sqrt(pSlow*(1-pSlow)/n)+1e-9)
		}
		// p99 over both halves lies between the two.
		mixed := metric(t, c, "green", providers.MetricLatencyP99, start, start.Add(4*time.Minute)).Value
		if mixed <= 0.05 || mixed > 0.4*math.Exp(2.3263*0.4) {
			t.Errorf("p99 over the mixed window = %v, want between the profiles'", mixed)
		}
	})
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.5g, want %.5g ± %.2g", what, got, want, tol)
	}
}

func TestNoData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{})
		before := c.Now()
		time.Sleep(time.Minute)
		c.Router("alb", "blue", "green")
		created := c.Now()
		time.Sleep(time.Minute)
		now := c.Now()
		tests := []struct {
			name       string
			target     string
			start, end time.Time
			points     int
		}{
			{"before the router existed", "blue", before, created, 0},
			{"target at weight 0", "green", created, now, 0},
			{"the future", "blue", now, now.Add(time.Hour), 0},
			{"clipped at now", "blue", created, now.Add(time.Hour), 60},
			{"the current second is not over", "blue", now.Add(-time.Second / 2), now.Add(time.Second), 0},
		}
		for _, tc := range tests {
			for _, m := range allMetrics {
				got := metric(t, c, tc.target, m, tc.start, tc.end)
				if got.Points != tc.points || (tc.points == 0 && got.Value != 0) {
					t.Errorf("%s: %s = %+v, want %d points", tc.name, m, got, tc.points)
				}
			}
		}
	})
}

func TestMetricBadQueries(t *testing.T) {
	c := fake.MustNew(fake.Options{})
	c.Router("alb", "blue", "green")
	now := c.Now()
	tests := []struct {
		name string
		q    providers.MetricQuery
		want error
	}{
		{"unknown metric", providers.MetricQuery{Target: "blue", Metric: "p50", Start: now.Add(-time.Minute), End: now}, fake.ErrInvalid},
		{"empty target", providers.MetricQuery{Metric: providers.MetricErrors, Start: now.Add(-time.Minute), End: now}, fake.ErrInvalid},
		{"zero start", providers.MetricQuery{Target: "blue", Metric: providers.MetricErrors, End: now}, fake.ErrInvalid},
		{"end before start", providers.MetricQuery{Target: "blue", Metric: providers.MetricErrors, Start: now, End: now.Add(-time.Minute)}, fake.ErrInvalid},
		{"empty window", providers.MetricQuery{Target: "blue", Metric: providers.MetricErrors, Start: now, End: now}, fake.ErrInvalid},
		{"unknown target", providers.MetricQuery{Target: "purple", Metric: providers.MetricErrors, Start: now.Add(-time.Minute), End: now}, fake.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Metric(context.Background(), tc.q)
			if !errors.Is(err, tc.want) {
				t.Errorf("Metric(%+v) error = %v, want %v", tc.q, err, tc.want)
			}
			var fe *fake.Error
			if !errors.As(err, &fe) || fe.Op != fake.OpMetric {
				t.Errorf("error %v is not a *fake.Error for %s", err, fake.OpMetric)
			}
		})
	}
}

func TestBadSetup(t *testing.T) {
	c := fake.MustNew(fake.Options{})
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"router without targets", func() error { return c.Router("r1").SetWeights(ctx, providers.Weights{"a": 100}) }},
		{"router without name", func() error { _, err := c.Router("", "a").Weights(ctx); return err }},
		{"router with a duplicate target", func() error { _, err := c.Router("r2", "a", "a").Weights(ctx); return err }},
		{"switcher with an empty target", func() error { _, err := c.Switcher("s", "a", "").Active(ctx); return err }},
		{"negative fleet", func() error { _, err := c.Fleet("f", -1).Capacity(ctx); return err }},
		{"fleet too large", func() error { return c.Fleet("g", 0).SetDesired(ctx, fake.MaxFleetSize+1) }},
		{"error rate above 1", func() error { return c.SetProfile("blue", fake.Profile{ErrorRate: 1.5}) }},
		{"negative median", func() error { return c.SetProfile("blue", fake.Profile{LatencyMedian: -1}) }},
		{"sigma NaN", func() error { return c.SetProfile("blue", fake.Profile{LatencySigma: math.NaN()}) }},
		{"negative rate", func() error { return c.Router("r3", "a").SetRate(-1) }},
		{"alarm with unknown metric", func() error { return c.DefineAlarm("a", fake.AlarmSpec{Target: "blue", Metric: "cpu"}) }},
		{"alarm with a bad state", func() error { return c.SetAlarm("a", "RED", "") }},
		{"fault with share above 1", func() error { return c.InjectFault(fake.Fault{Share: 2, Err: fake.ErrServer}) }},
		{"fault that does nothing", func() error { return c.InjectFault(fake.Fault{Op: fake.OpMetric}) }},
		{"negative warm-up", func() error { return c.Fleet("h", 1).SetWarmUp(-time.Second) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, fake.ErrInvalid) {
				t.Errorf("error = %v, want one wrapping ErrInvalid", err)
			}
		})
	}
}

func TestFleetWarmUpAndHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{WarmUp: 30 * time.Second})
		f := c.Fleet("green", 1)
		ctx := t.Context()
		capacity := func(want providers.Capacity) {
			t.Helper()
			got, err := f.Capacity(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("Capacity = %+v, want %+v", got, want)
			}
		}
		capacity(providers.Capacity{Desired: 1, Running: 1, Healthy: 1}) // initial members are up
		if err := f.SetDesired(ctx, 3); err != nil {
			t.Fatal(err)
		}
		capacity(providers.Capacity{Desired: 3, Running: 3, Healthy: 1})
		time.Sleep(29 * time.Second)
		capacity(providers.Capacity{Desired: 3, Running: 3, Healthy: 1})
		time.Sleep(time.Second)
		capacity(providers.Capacity{Desired: 3, Running: 3, Healthy: 3})
		if err := f.SetUnhealthy(1); err != nil {
			t.Fatal(err)
		}
		capacity(providers.Capacity{Desired: 3, Running: 3, Healthy: 2})
		got, err := c.TargetHealth(ctx, "green")
		if err != nil {
			t.Fatal(err)
		}
		want := []providers.TargetHealth{
			{ID: "green-1", State: providers.HealthUnhealthy, Reason: "Target.FailedHealthChecks"},
			{ID: "green-2", State: providers.HealthHealthy},
			{ID: "green-3", State: providers.HealthHealthy},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("TargetHealth (-want +got):\n%s", d)
		}
		if err := f.SetDesired(ctx, 2); err != nil { // the newest goes first
			t.Fatal(err)
		}
		if got := f.Current(); got != (providers.Capacity{Desired: 2, Running: 2, Healthy: 1}) {
			t.Errorf("Current after scale-in = %+v", got)
		}
		if _, err := c.TargetHealth(ctx, "blue"); !errors.Is(err, fake.ErrNotFound) {
			t.Errorf("TargetHealth(blue) error = %v, want ErrNotFound", err)
		}
	})
}

func TestDerivedAlarms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{})
		r := c.Router("alb", "blue", "green")
		for _, tg := range []string{"blue", "green"} {
			if err := c.DefineAlarm(tg+"-5xx", fake.AlarmSpec{Target: tg, Metric: providers.MetricErrors, Per: providers.MetricRequests, Threshold: 0.05}); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.SetAlarm("manual", providers.AlarmAlarm, "paged"); err != nil {
			t.Fatal(err)
		}
		if err := c.SetProfile("green", fake.Profile{ErrorRate: 0.2, LatencyMedian: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		states := func() map[string]providers.AlarmState {
			t.Helper()
			as, err := c.Alarms(t.Context(), []string{"blue-5xx", "green-5xx", "manual"})
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]providers.AlarmState{}
			for _, a := range as {
				m[a.Name] = a.State
			}
			return m
		}
		time.Sleep(time.Minute)
		want := map[string]providers.AlarmState{"blue-5xx": providers.AlarmOK, "green-5xx": providers.AlarmInsufficientData, "manual": providers.AlarmAlarm}
		if d := cmp.Diff(want, states()); d != "" {
			t.Errorf("before the canary (-want +got):\n%s", d)
		}
		if err := r.SetWeights(t.Context(), providers.Weights{"blue": 90, "green": 10}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		want["green-5xx"] = providers.AlarmAlarm
		if d := cmp.Diff(want, states()); d != "" {
			t.Errorf("with the canary (-want +got):\n%s", d)
		}
		if _, err := c.Alarms(t.Context(), []string{"blue-5xx", "nope"}); !errors.Is(err, fake.ErrNotFound) {
			t.Errorf("unknown alarm: error = %v, want ErrNotFound", err)
		}
	})
}

func TestLongWindows(t *testing.T) {
	clk := cutover.NewManualClock(epoch)
	c := fake.MustNew(fake.Options{Clock: clk})
	c.Router("alb", "blue", "green")
	clk.Advance(8 * 24 * time.Hour)
	now := clk.Now()
	// The cache sits at the end; a window far back is drawn, not cached.
	if v := metric(t, c, "blue", providers.MetricRequests, now.Add(-time.Minute), now); v.Value != 60000 {
		t.Errorf("last minute: %+v", v)
	}
	if v := metric(t, c, "blue", providers.MetricRequests, epoch, epoch.Add(time.Minute)); v.Value != 60000 {
		t.Errorf("first minute, 8 days back: %+v", v)
	}
	if v := metric(t, c, "blue", providers.MetricRequests, epoch.Add(-time.Hour), epoch.Add(fake.MaxWindow)); v.Points != int(fake.MaxWindow/time.Second) {
		t.Errorf("MaxWindow (clipped to the router's start): %d points", v.Points)
	}
	_, err := c.Metric(context.Background(), providers.MetricQuery{Target: "blue", Metric: providers.MetricErrors, Start: epoch, End: now})
	if !errors.Is(err, fake.ErrInvalid) {
		t.Errorf("8-day window: error %v, want ErrInvalid", err)
	}
}

func TestScaledClock(t *testing.T) {
	clock, err := cutover.NewScaledClock(epoch, 600) // ten simulated minutes per real second
	if err != nil {
		t.Fatal(err)
	}
	c := fake.MustNew(fake.Options{Clock: clock})
	c.Router("alb", "blue", "green")
	start := clock.Now()
	select {
	case <-clock.After(time.Minute): // 100 ms of real time
	case <-time.After(10 * time.Second):
		t.Fatal("a scaled minute took more than 10 s")
	}
	v := metric(t, c, "blue", providers.MetricRequests, start, clock.Now())
	if v.Points < 59 || v.Points > 600 || v.Value != float64(1000*v.Points) {
		t.Errorf("after a scaled minute: %+v, want about 60 points of 1000 requests", v)
	}
}
