package prometheus_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

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

// trial runs one canary and returns the time from green taking traffic to
// the rollback, at scale 1.
func trial(b *testing.B, prom *promtest.Server, tr *promtest.Traffic, k float64, id string) time.Duration {
	src, err := prometheus.New(prom.URL, prometheus.Options{
		Queries:        promtest.Queries,
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
		Apply:  func(context.Context) error { applied = time.Now(); tr.SetShare(greenShare); return nil },
		Revert: func(context.Context) error { tr.SetShare(0); return nil },
		Bake:   time.Duration(float64(maxWait) / k),
		Gates:  []cutover.Gate{judge},
	}}}
	r := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{
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
	tr := promtest.NewTraffic(1, blueErrors, greenErrors)
	b.Cleanup(tr.Close)
	prom := promtest.Start(b, promtest.Options{ScrapeInterval: time.Duration(float64(scrape) / k)}, tr.URL)
	prom.WaitUp(b, 1)
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	go tr.Serve(ctx, requestsPerS*k)
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
