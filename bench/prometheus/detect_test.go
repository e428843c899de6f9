package prometheus_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	client "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/internal/promtest"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/prometheus"
)

var scale = flag.Float64("scale", 1, "run every interval this many times shorter and the traffic this many times denser; ≥ 1")

// The scenario, at scale 1.
const (
	scrape       = 15 * time.Second
	requestsPerS = 1000 // both arms together
	greenShare   = 10   // percent
	blueErrors   = 0.01
	greenErrors  = 0.02 // a 2× regression
	maxWait      = 5 * time.Minute
)

// traffic serves requests to blue and green by the current share and
// counts them as an instrumented service would.
type traffic struct {
	share atomic.Int32 // green's percentage
	req   *client.CounterVec
	rng   *rand.Rand
}

func (tr *traffic) tick(n int) {
	g := int(tr.share.Load())
	var counts [2][2]float64 // [blue, green][ok, error]
	for range n {
		arm, p := 0, blueErrors
		if tr.rng.IntN(100) < g {
			arm, p = 1, greenErrors
		}
		bad := 0
		if tr.rng.Float64() < p {
			bad = 1
		}
		counts[arm][bad]++
	}
	for arm, v := range []string{"blue", "green"} {
		tr.req.WithLabelValues(v, "200").Add(counts[arm][0])
		tr.req.WithLabelValues(v, "500").Add(counts[arm][1])
	}
}

// trial runs one canary and returns the time from green taking traffic to
// the rollback, at scale 1.
func trial(b *testing.B, prom *promtest.Server, tr *traffic, k float64, id string) time.Duration {
	src, err := prometheus.New(prom.URL, prometheus.Options{
		Queries: map[string]string{
			providers.MetricRequests: `sum(increase(http_requests_total{version="{{.Target}}"}[{{.Window}}]))`,
			providers.MetricErrors:   `sum(increase(http_requests_total{version="{{.Target}}",code="500"}[{{.Window}}]))`,
		},
		ScrapeInterval: prom.ScrapeInterval,
	})
	if err != nil {
		b.Fatal(err)
	}
	judge, err := health.NewJudge(src, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors}})
	if err != nil {
		b.Fatal(err)
	}
	var applied time.Time
	var rolledBack atomic.Int64
	plan := cutover.Plan{Name: "detect", Stages: []cutover.Stage{{
		Name:   "green 10%",
		Apply:  func(context.Context) error { applied = time.Now(); tr.share.Store(greenShare); return nil },
		Revert: func(context.Context) error { tr.share.Store(0); return nil },
		Bake:   time.Duration(float64(maxWait) / k),
		Gates:  []cutover.Gate{judge},
	}}}
	r := cutover.NewRunner(cutover.NewMemJournal(), cutover.Options{
		Actor:        "bench",
		PollInterval: time.Duration(float64(scrape) / k / 3),
		Observer: cutover.ObserverFunc(func(e cutover.Event) {
			if e.Type == cutover.EvRolledBack {
				rolledBack.Store(time.Now().UnixNano())
			}
		}),
	})
	_, err = r.Run(b.Context(), id, plan)
	if rolledBack.Load() == 0 {
		b.Fatalf("trial %s: not rolled back within %v: %v", id, maxWait, err)
	}
	return time.Duration(float64(time.Unix(0, rolledBack.Load()).Sub(applied)) * k)
}

// BenchmarkDetection reports the median time, at a 15 s scrape, from a
// green with twice blue's error rate taking 10 % of the traffic to its
// rollback (s-to-rollback), and the worst (max-s).
func BenchmarkDetection(b *testing.B) {
	k := *scale
	if k < 1 {
		b.Fatalf("-scale %v: want ≥ 1 (1: real time)", k)
	}
	reg := client.NewRegistry()
	req := client.NewCounterVec(client.CounterOpts{Name: "http_requests_total", Help: "Requests served."}, []string{"version", "code"})
	reg.MustRegister(req)
	for _, v := range []string{"blue", "green"} {
		for _, c := range []string{"200", "500"} {
			req.WithLabelValues(v, c).Add(0)
		}
	}
	target := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	b.Cleanup(target.Close)
	prom := promtest.Start(b, promtest.Options{ScrapeInterval: time.Duration(float64(scrape) / k)}, target.URL)
	prom.WaitUp(b, 1)
	tr := &traffic{req: req, rng: rand.New(rand.NewPCG(1, 2))}
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	const tickEvery = 10 * time.Millisecond
	perTick := int(requestsPerS * k * tickEvery.Seconds())
	go func() {
		t := time.NewTicker(tickEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				tr.tick(perTick)
			}
		}
	}()
	var times []time.Duration
	for i := 0; b.Loop(); i++ {
		times = append(times, trial(b, prom, tr, k, fmt.Sprintf("t%d", i)))
	}
	slices.Sort(times)
	med := times[len(times)/2]
	if len(times)%2 == 0 {
		med = (times[len(times)/2-1] + med) / 2
	}
	b.ReportMetric(med.Seconds(), "s-to-rollback")
	b.ReportMetric(times[len(times)-1].Seconds(), "max-s")
	b.Logf("scale %v, %d trials, at a %v scrape: %v", k, len(times), scrape, times)
}
