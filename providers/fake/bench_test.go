package fake_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// benchCloud returns a cloud with a canary router whose weights changed
// every minute for the past two hours.
func benchCloud(b *testing.B) (*fake.Cloud, *cutover.ManualClock) {
	clk := cutover.NewManualClock(epoch)
	c := fake.MustNew(fake.Options{Clock: clk})
	r := c.Router("alb", "blue", "green")
	for i := range 120 {
		g := i % 100
		if err := r.SetWeights(context.Background(), providers.Weights{"blue": 100 - g, "green": g}); err != nil {
			b.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	return c, clk
}

// BenchmarkMetric30m is what a gate polling every second over the last 30
// minutes costs: the window slides one second per query.
func BenchmarkMetric30m(b *testing.B) {
	for _, m := range []string{providers.MetricErrors, providers.MetricLatencyP99} {
		b.Run(m, func(b *testing.B) {
			c, clk := benchCloud(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				now := clk.Advance(time.Second)
				if _, err := c.Metric(ctx, providers.MetricQuery{Target: "green", Metric: m, Start: now.Add(-30 * time.Minute), End: now}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMetric30mCold is the first query over a 30-minute window: every
// second of it is drawn.
func BenchmarkMetric30mCold(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		c, clk := benchCloud(b)
		now := clk.Now()
		b.StartTimer()
		if _, err := c.Metric(ctx, providers.MetricQuery{Target: "green", Metric: providers.MetricErrors, Start: now.Add(-30 * time.Minute), End: now}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetWeights(b *testing.B) {
	c := fake.MustNew(fake.Options{})
	r := c.Router("alb", "blue", "green")
	ctx := context.Background()
	ws := []providers.Weights{{"blue": 90, "green": 10}, {"blue": 50, "green": 50}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := r.SetWeights(ctx, ws[i%2]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkParallelCutovers runs gates of many cutovers at once, each on
// its own router, sharing one cloud.
func BenchmarkParallelCutovers(b *testing.B) {
	clk := cutover.NewManualClock(epoch)
	c := fake.MustNew(fake.Options{Clock: clk, MaxCalls: -1})
	var mu sync.Mutex
	n := 0
	clk.Advance(time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		n++
		name := fmt.Sprint("svc", n)
		mu.Unlock()
		r := c.Router(name, name+"-blue", name+"-green")
		ctx := context.Background()
		i := 0
		for pb.Next() {
			i++
			if i%10 == 0 {
				_ = r.SetWeights(ctx, providers.Weights{name + "-blue": 100 - i%100, name + "-green": i % 100})
			}
			now := clk.Advance(time.Millisecond)
			if _, err := c.Metric(ctx, providers.MetricQuery{Target: name + "-green", Metric: providers.MetricErrors, Start: now.Add(-time.Minute), End: now}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestConcurrentCutovers drives many canaries on one cloud at once and
// checks each got the figures it would have got alone.
func TestConcurrentCutovers(t *testing.T) {
	const n = 200
	out := func(t *testing.T, only []int) map[int]providers.MetricValue {
		out := map[int]providers.MetricValue{}
		var mu sync.Mutex
		synctest.Test(t, func(t *testing.T) {
			c := fake.MustNew(fake.Options{Seed: 11})
			start := time.Now()
			one := func(i int) {
				name := fmt.Sprint("svc", i)
				blue, green := name+"-blue", name+"-green"
				r := c.Router(name, blue, green)
				_ = c.SetProfile(green, fake.Profile{ErrorRate: float64(i%7) / 100, LatencyMedian: 50 * time.Millisecond, LatencySigma: 0.5})
				for _, g := range []int{1, 5, 25, 50, 100} {
					if err := r.SetWeights(t.Context(), providers.Weights{blue: 100 - g, green: g}); err != nil {
						t.Error(err)
						return
					}
					time.Sleep(time.Minute)
					q := providers.MetricQuery{Target: green, Metric: providers.MetricErrors, Start: start, End: time.Now()}
					v, err := c.Metric(t.Context(), q)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					out[i] = v
					mu.Unlock()
				}
			}
			var wg sync.WaitGroup
			for _, i := range only {
				wg.Go(func() { one(i) })
			}
			wg.Wait()
		})
		return out
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	together := out(t, all)
	for _, i := range []int{0, 3, n / 2, n - 1} {
		alone := out(t, []int{i})
		if alone[i] != together[i] || alone[i].Points != 300 {
			t.Errorf("cutover %d: %+v alone, %+v among %d", i, alone[i], together[i], n)
		}
	}
}

// BenchmarkTenThousandCanaries measures the cloud's share of the load test:
// 10,000 canaries of five steps on one cloud, each step a simulated minute
// with two metric queries per canary every 10 s. It reports the heap in use
// afterwards (cloud alive, after GC) as heap-MB.
func BenchmarkTenThousandCanaries(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	for b.Loop() {
		clk := cutover.NewManualClock(epoch)
		c := fake.MustNew(fake.Options{Clock: clk})
		routers := make([]*fake.Router, n)
		for i := range n {
			name := fmt.Sprint("svc", i)
			routers[i] = c.Router(name, name+"-blue", name+"-green")
		}
		for _, g := range []int{1, 5, 25, 50, 100} {
			for i, r := range routers {
				name := fmt.Sprint("svc", i)
				if err := r.SetWeights(ctx, providers.Weights{name + "-blue": 100 - g, name + "-green": g}); err != nil {
					b.Fatal(err)
				}
			}
			for range 6 {
				now := clk.Advance(10 * time.Second)
				for i := range routers {
					for _, m := range []string{providers.MetricRequests, providers.MetricErrors} {
						q := providers.MetricQuery{Target: fmt.Sprint("svc", i, "-green"), Metric: m, Start: epoch, End: now}
						if _, err := c.Metric(ctx, q); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/1e6, "heap-MB")
		runtime.KeepAlive(c)
	}
}
