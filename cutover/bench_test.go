package cutover_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// BenchmarkTransition measures the runner's overhead per stage transition
// (journal intent, applied, verdict and baked records, a journal poll, a gate
// evaluation and the events to an observer) on the memory journal, with
// stages that do nothing and a gate that passes at once.
func BenchmarkTransition(b *testing.B) {
	const stages = 20
	nopFn := func(context.Context) error { return nil }
	g := cutover.Named("ok", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
		return cutover.Verdict{Decision: cutover.Pass, Final: true, Reason: "fine"}, nil
	}))
	p := cutover.Plan{Name: "bench"}
	for i := range stages {
		p.Stages = append(p.Stages, cutover.Stage{Name: fmt.Sprintf("s%d", i), Apply: nopFn, Revert: nopFn, Gates: []cutover.Gate{g}})
	}
	var events atomic.Int64
	r := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{Observer: cutover.ObserverFunc(func(cutover.Event) { events.Add(1) })})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := r.Run(ctx, fmt.Sprintf("c%d", i), p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*stages), "ns/transition")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
		r.Run(ctx, fmt.Sprintf("allocs-%d", events.Add(1)), p)
	}))/stages, "allocs/transition")
}

// TestManyConcurrentCutovers drives 10,000 cutovers of 5 canary stages at
// on one runner and one fake cloud (a router per cutover), each stage
// baking 10 minutes with a gate polled every 10 seconds, in a synctest
// bubble. They start spread over the first 10 minutes, as real ones would
// not start in the same nanosecond, and so all overlap. It reports the wall time and the peak heap. It runs 1,000 by
// default (200 with -short); SAFECUTOVER_MANY=10000 runs the target.
func TestManyConcurrentCutovers(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	if s := os.Getenv("SAFECUTOVER_MANY"); s != "" {
		fmt.Sscan(s, &n)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	// Sample the heap from outside the bubble, on the wall clock.
	// Sample the heap from outside the bubble, on the wall clock: peak is
	// the largest HeapAlloc seen (garbage included), peakLive the largest
	// right after a collection (reachable memory only).
	var peak, peakLive atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			if i%25 == 24 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peakLive.Store(max(peakLive.Load(), ms.HeapAlloc))
			} else {
				runtime.ReadMemStats(&ms)
			}
			peak.Store(max(peak.Load(), ms.HeapAlloc))
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})

	start := time.Now()
	var completed atomic.Int64
	synctest.Test(t, func(t *testing.T) {
		cloud := fake.MustNew(fake.Options{MaxCalls: -1})
		j := cutover.NewMemJournal()
		r := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: 10 * time.Second})
		gate := cutover.Named("5xx", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			return cutover.Verdict{Decision: cutover.Pass, Reason: "0.1% ≤ 1%"}, nil
		}))
		var runs sync.WaitGroup
		for i := range n {
			runs.Go(func() {
				time.Sleep(time.Duration(i%600) * time.Second)
				router := cloud.Router(fmt.Sprintf("alb-%d", i), "blue", "green")
				p := canary(router, 10*time.Minute, func(int) cutover.Gate { return gate }, 5, 25, 50, 75, 100)
				st, err := r.Run(t.Context(), fmt.Sprintf("c-%d", i), p)
				if err != nil || st.Phase != cutover.PhaseCompleted {
					t.Errorf("cutover %d: %s %v", i, st.Phase, err)
					return
				}
				if router.Current()["green"] != 100 {
					t.Errorf("cutover %d: weights %s", i, router.Current())
				}
				completed.Add(1)
			})
		}
		runs.Wait()
	})
	wall := time.Since(start)
	close(stop)
	wg.Wait()
	if got := completed.Load(); got != int64(n) {
		t.Fatalf("%d of %d cutovers completed", got, n)
	}
	liveMB := float64(peakLive.Load()) / (1 << 20)
	t.Logf("%d concurrent cutovers of 5 stages (50 min of fake time each): wall %s, peak heap %.1f MB, peak live heap %.1f MB (%.1f MB before)",
		n, wall.Round(time.Millisecond), float64(peak.Load())/(1<<20), liveMB, float64(base.HeapAlloc)/(1<<20))
	if n >= 10000 && liveMB > 100 {
		t.Errorf("peak live heap %.1f MB, want < 100 MB", liveMB)
	}
}

var _ providers.TrafficRouter = (*fake.Router)(nil)
