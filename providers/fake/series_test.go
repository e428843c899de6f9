package fake_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// TestCacheMatchesFreshCloud asks a cloud with a small metric cache many
// random windows, in random order, and checks every answer against a
// fresh copy of the cloud that has cached nothing — before and after a
// profile change back-dated into already cached seconds.
func TestCacheMatchesFreshCloud(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	clk := cutover.NewManualClock(epoch)
	c := fake.MustNew(fake.Options{Clock: clk, Seed: 5, MetricCache: 3 * time.Minute})
	r := c.Router("alb", "blue", "green")
	ctx := context.Background()
	for clk.Now().Before(epoch.Add(20 * time.Minute)) {
		g := rng.IntN(101)
		if err := r.SetWeights(ctx, providers.Weights{"blue": 100 - g, "green": g}); err != nil {
			t.Fatal(err)
		}
		if rng.IntN(4) == 0 {
			p := fake.Profile{ErrorRate: rng.Float64() / 5, LatencyMedian: time.Duration(1+rng.IntN(500)) * time.Millisecond, LatencySigma: rng.Float64()}
			if err := c.SetProfile("green", p); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(time.Duration(rng.IntN(90_000)+500) * time.Millisecond)
	}
	dir := t.TempDir()
	compare := func(phase string) {
		t.Helper()
		path := filepath.Join(dir, phase+".json")
		if err := c.Save(path); err != nil {
			t.Fatal(err)
		}
		for i := range 150 {
			a := epoch.Add(time.Duration(rng.Int64N(int64(22 * time.Minute))))
			b := a.Add(time.Duration(rng.Int64N(int64(8*time.Minute))) + time.Millisecond)
			q := providers.MetricQuery{Target: []string{"blue", "green"}[rng.IntN(2)], Metric: allMetrics[rng.IntN(len(allMetrics))], Start: a, End: b}
			got, err := c.Metric(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := fake.Load(path, fake.Options{Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			want, err := fresh.Metric(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s query %d %s %s [%s, %s): cached %+v, fresh %+v", phase, i, q.Target, q.Metric,
					a.Format(time.TimeOnly+".000"), b.Format(time.TimeOnly+".000"), got, want)
			}
		}
	}
	compare("before")
	bad := fake.Profile{ErrorRate: 0.5, LatencyMedian: time.Second, LatencySigma: 0.3}
	if err := c.SetProfileAt("green", epoch.Add(7*time.Minute+300*time.Millisecond), bad); err != nil {
		t.Fatal(err)
	}
	compare("after")
}
