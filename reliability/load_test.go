package reliability_test

// Load: ten thousand concurrent cutovers in one process on the fake cloud
// (a canary of five steps each, with bakes on a clock 100 times faster than
// the wall clock, so that they all run at once); and sixteen concurrent
// cutovers on the DynamoDB journal against dynalite. Reported: throughput,
// peak memory, and the wall-clock latency of a stage transition — from the
// moment a stage has baked to the moment the next one is applied and
// verified (journal appends, the weight change, its read-back, events).

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/fake"
)

// loadResult is what a load run measured.
type loadResult struct {
	cutovers, completed int
	wall                time.Duration
	transitions         []time.Duration // sorted
	peakHeap            uint64          // bytes of live and unswept heap objects, peak
	peakTotal           uint64          // bytes the runtime had mapped, peak
	appends             int64
	// cpu is the processor time the process used meanwhile (user and
	// system): on a machine shared with other work, cutovers per CPU
	// second say more of the cost than cutovers per wall-clock second.
	cpu time.Duration
}

// cpuTime returns the processor time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r loadResult) quantile(q float64) time.Duration {
	if len(r.transitions) == 0 {
		return 0
	}
	return r.transitions[min(len(r.transitions)-1, int(q*float64(len(r.transitions))))]
}

// countingJournal counts appends.
type countingJournal struct {
	cutover.Journal
	n atomic.Int64
}

func (j *countingJournal) Append(ctx context.Context, id string, rec cutover.Record) error {
	j.n.Add(1)
	return j.Journal.Append(ctx, id, rec)
}

// memPeak samples the runtime's memory every 10ms until stop is closed.
func memPeak(stop <-chan struct{}) (heap, total func() uint64) {
	var h, tot atomic.Uint64
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	sample := func() {
		metrics.Read(s)
		if v := s[0].Value.Uint64(); v > h.Load() {
			h.Store(v)
		}
		if v := s[1].Value.Uint64(); v > tot.Load() {
			tot.Store(v)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			sample()
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { <-done; return h.Load() }, func() uint64 { <-done; return tot.Load() }
}

// runLoad drives n canaries at once over a fake cloud with journal j.
func runLoad(t *testing.T, n int, j cutover.Journal, bake, poll time.Duration, factor float64) loadResult {
	t.Helper()
	runtime.GC()
	clock, err := cutover.NewScaledClock(time.Time{}, factor)
	if err != nil {
		t.Fatal(err)
	}
	cloud := fake.MustNew(fake.Options{Clock: clock, MaxCalls: -1})
	cj := &countingJournal{Journal: j}
	stop := make(chan struct{})
	heap, total := memPeak(stop)
	lat := make([][]time.Duration, n)
	var completed atomic.Int64
	var fails failures
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("load-%05d", i)
			router, p, err := loadPlan(cloud, clock, id, bake, poll)
			if err != nil {
				fails.add("%s: %v", id, err)
				return
			}
			var mark time.Time
			ls := make([]time.Duration, 0, len(p.Stages))
			obs := cutover.ObserverFunc(func(e cutover.Event) {
				switch e.Type {
				case cutover.EvStarted, cutover.EvStageBaked:
					mark = time.Now()
				case cutover.EvStageApplied:
					ls = append(ls, time.Since(mark))
				}
			})
			opts := cutover.RunnerOptions{Actor: initiator, Clock: clock, PollInterval: poll, Observer: obs}
			st, err := cutover.MustNewRunner(cj, opts).Run(context.Background(), id, p)
			if err != nil || st.Phase != cutover.PhaseCompleted {
				fails.add("%s: %s: %v", id, st.Phase, err)
				return
			}
			if got := router.Current()["green"]; got != 100 {
				fails.add("%s: completed with green at %d%%", id, got)
				return
			}
			lat[i] = ls
			completed.Add(1)
		})
	}
	wg.Wait()
	wall, cpu := time.Since(start), cpuTime()-cpu0
	close(stop)
	fails.report(t, "load")
	r := loadResult{cutovers: n, completed: int(completed.Load()), wall: wall, peakHeap: heap(), peakTotal: total(), appends: cj.n.Load(), cpu: cpu}
	for _, ls := range lat {
		r.transitions = append(r.transitions, ls...)
	}
	slices.Sort(r.transitions)
	return r
}

// loadPlan returns the load test's plan for cutover id: a 5-step canary
// over a new router of cloud. It is a function of its own so that the
// frame it needs is not on the cutover's goroutine's stack while the
// cutover runs (the collector scans those stacks; see docs/reliability.md).
func loadPlan(cloud *fake.Cloud, clock cutover.Clock, id string, bake, poll time.Duration) (*fake.Router, cutover.Plan, error) {
	router := cloud.Router("alb-"+id, "blue", "green")
	c, err := canary.New(router, canary.Options{Steps: canary.Weights(5, 25, 50, 75, 100), Bake: bake,
		Gates: []cutover.Gate{greenGate{share: func(scenario) int { return 0 }}}, VerifyInterval: poll, Clock: clock})
	if err != nil {
		return nil, cutover.Plan{}, err
	}
	p, err := cutover.Sequence("load", c)
	return router, p, err
}

// maxGoroutinesRace is how many cutovers run at once under the race
// detector, whose limit is 8128 live goroutines.
const maxGoroutinesRace = 2000

// TestLoad runs 10,000 concurrent cutovers (500 in the short form) in one
// process on the fake cloud and the memory journal.
func TestLoad(t *testing.T) {
	n := pick(500, 10000)
	if raceEnabled {
		n = min(n, maxGoroutinesRace)
	}
	r := runLoad(t, n, cutover.NewMemJournal(), 30*time.Second, 10*time.Second, 100)
	if r.completed != n {
		t.Errorf("%d of %d cutovers completed", r.completed, n)
	}
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	t.Logf("%d concurrent cutovers of 5 stages (bake 30s each on a clock 100× the wall clock): all %d completed in %v; "+
		"%.0f cutovers/s, %.0f stage transitions/s, %.0f journal appends/s; %.2f s of CPU (%.0f cutovers per CPU second); "+
		"peak heap %.1f MB (runtime total %.1f MB); stage transition p50 %v, p99 %v, max %v",
		n, r.completed, r.wall.Round(time.Millisecond), float64(r.completed)/r.wall.Seconds(), float64(len(r.transitions))/r.wall.Seconds(),
		float64(r.appends)/r.wall.Seconds(), r.cpu.Seconds(), float64(r.completed)/r.cpu.Seconds(),
		mb(r.peakHeap), mb(r.peakTotal), r.quantile(0.5), r.quantile(0.99), r.quantile(1))
	if full() && !raceEnabled {
		collected.figure("load_cutovers", float64(n))
		collected.figure("load_completed", float64(r.completed))
		collected.figure("load_wall_s", r.wall.Seconds())
		collected.figure("load_cutovers_per_s", float64(r.completed)/r.wall.Seconds())
		collected.figure("load_cpu_s", r.cpu.Seconds())
		collected.figure("load_cutovers_per_cpu_s", float64(r.completed)/r.cpu.Seconds())
		collected.figure("load_transitions_per_s", float64(len(r.transitions))/r.wall.Seconds())
		collected.figure("load_peak_heap_mb", mb(r.peakHeap))
		collected.figure("load_peak_runtime_mb", mb(r.peakTotal))
		collected.figure("load_transition_p50_ms", float64(r.quantile(0.5))/1e6)
		collected.figure("load_transition_p99_ms", float64(r.quantile(0.99))/1e6)
	}
}

// TestLoadDynamoDB runs 16 concurrent cutovers on the DynamoDB journal.
func TestLoadDynamoDB(t *testing.T) {
	client := requireDynamo(t)
	table := newDynamoTable(t, client)
	j, err := awsprovider.NewDynamoDBJournal(client, table, awsprovider.DynamoDBJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	r := runLoad(t, n, j, 30*time.Second, 10*time.Second, 100)
	if r.completed != n {
		t.Errorf("%d of %d cutovers completed", r.completed, n)
	}
	t.Logf("%d concurrent cutovers on the DynamoDB journal (dynalite): all %d completed in %v; %.0f journal appends/s; "+
		"stage transition p50 %v, p99 %v, max %v",
		n, r.completed, r.wall.Round(time.Millisecond), float64(r.appends)/r.wall.Seconds(), r.quantile(0.5), r.quantile(0.99), r.quantile(1))
	if full() && !raceEnabled {
		collected.figure("dynamodb_cutovers", n)
		collected.figure("dynamodb_wall_s", r.wall.Seconds())
		collected.figure("dynamodb_appends_per_s", float64(r.appends)/r.wall.Seconds())
		collected.figure("dynamodb_transition_p50_ms", float64(r.quantile(0.5))/1e6)
		collected.figure("dynamodb_transition_p99_ms", float64(r.quantile(0.99))/1e6)
	}
}
