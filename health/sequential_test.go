package health_test

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
)

// run simulates one canary second by second (exact binomial draws, 100
// canary and 900 baseline requests a second) until the test decides or the
// horizon ends. rate gives each arm's error rate at second t.
func run(t *testing.T, test *health.Sequential, seed uint64, horizon int, rate func(t int) (canary, baseline float64)) (cutover.Decision, int) {
	t.Helper()
	src := rand.NewPCG(seed, 0x9e3779b97f4a7c15)
	var c, b health.Counts
	for s := 1; s <= horizon; s++ {
		pc, pb := rate(s - 1)
		c.Requests += 100
		b.Requests += 900
		c.Failures += int64(distuv.Binomial{N: 100, P: pc, Src: src}.Rand())
		b.Failures += int64(distuv.Binomial{N: 900, P: pb, Src: src}.Rand())
		ev, err := test.Observe(c, b)
		if err != nil {
			t.Fatalf("Observe: %v", err)
		}
		if ev.Decision != cutover.Pending {
			return ev.Decision, s
		}
	}
	return cutover.Pending, horizon
}

// trials runs n seeded trials over the machine's cores and counts the
// decisions.
func trials(t *testing.T, n, horizon int, opts health.SequentialOptions, rate func(int) (float64, float64)) map[cutover.Decision]int {
	t.Helper()
	var mu sync.Mutex
	counts := map[cutover.Decision]int{}
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			test, err := health.NewSequential(opts)
			if err != nil {
				t.Errorf("NewSequential: %v", err)
				return
			}
			for i := w; i < n; i += workers {
				test.Reset()
				d, _ := run(t, test, uint64(i), horizon, rate)
				mu.Lock()
				counts[d]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return counts
}

// TestFalseAlarmRate checks the anytime guarantee: over many seeded healthy
// canaries, each looked at every second, the judge fails at most an α share.
func TestFalseAlarmRate(t *testing.T) {
	t.Parallel()
	n := 4000
	if testing.Short() {
		n = 1000
	}
	healthy := func(int) (float64, float64) { return 0.005, 0.005 }
	opts := health.SequentialOptions{Alpha: 0.01}
	got := trials(t, n, 1800, opts, healthy)
	t.Logf("%d healthy runs: decisions %v", n, got)
	if rate := float64(got[cutover.Fail]) / float64(n); rate > opts.Alpha {
		t.Errorf("false alarm rate %.4f over %d healthy runs, want ≤ α = %v (decisions %v)", rate, n, opts.Alpha, got)
	}
	if got[cutover.Pass] < n*9/10 {
		t.Errorf("only %d of %d healthy canaries passed within 30 minutes (decisions %v)", got[cutover.Pass], n, got)
	}
}

// TestSharedIncident: both arms at 3 % for five minutes must not abort.
func TestSharedIncident(t *testing.T) {
	t.Parallel()
	n := 1000
	incident := func(s int) (float64, float64) {
		if s >= 120 && s < 420 {
			return 0.03, 0.03
		}
		return 0.005, 0.005
	}
	got := trials(t, n, 1800, health.SequentialOptions{}, incident)
	if rate := float64(got[cutover.Fail]) / float64(n); rate > 0.01 {
		t.Errorf("aborted %.4f of canaries during a shared incident, want ≤ 0.01 (decisions %v)", rate, got)
	}
}

// TestDetects: regressions are failed, fast for large ones, and never passed.
func TestDetects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		ratio     float64
		horizon   int
		minFailed int // of 100
	}{
		{"2x within 5 minutes", 2, 300, 98},
		{"10x within 10 seconds", 10, 10, 95},
	} {
		got := trials(t, 100, tc.horizon, health.SequentialOptions{}, func(int) (float64, float64) { return 0.005 * tc.ratio, 0.005 })
		if got[cutover.Fail] < tc.minFailed || got[cutover.Pass] > 0 {
			t.Errorf("%s: decisions %v, want ≥ %d fails and no pass", tc.name, got, tc.minFailed)
		}
	}
}

func TestSequentialLatchesAndResets(t *testing.T) {
	t.Parallel()
	test, err := health.NewSequential(health.SequentialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bad := health.Counts{Failures: 100, Requests: 1000}
	base := health.Counts{Failures: 45, Requests: 9000}
	ev, err := test.Observe(bad, base)
	if err != nil || ev.Decision != cutover.Fail {
		t.Fatalf("Observe(10%% vs 0.5%%) = %v, %v; want fail", ev.Decision, err)
	}
	// More, healthier data does not undo a latched decision.
	ev, _ = test.Observe(health.Counts{Failures: 100, Requests: 100000}, health.Counts{Failures: 4500, Requests: 900000})
	if ev.Decision != cutover.Fail {
		t.Errorf("after a latched fail: %v, want fail", ev.Decision)
	}
	test.Reset()
	ev, _ = test.Observe(health.Counts{Failures: 5, Requests: 1000}, health.Counts{Failures: 45, Requests: 9000})
	if ev.Decision != cutover.Pending {
		t.Errorf("after Reset with little healthy data: %v, want pending", ev.Decision)
	}
}

func TestSequentialMinRequests(t *testing.T) {
	t.Parallel()
	test, _ := health.NewSequential(health.SequentialOptions{MinRequests: 5000})
	ev, _ := test.Observe(health.Counts{Failures: 1000, Requests: 4999}, health.Counts{Failures: 1, Requests: 9000})
	if ev.Decision != cutover.Pending {
		t.Errorf("below MinRequests: %v, want pending", ev.Decision)
	}
}

func TestSequentialBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts health.SequentialOptions
		want string
	}{
		{"alpha negative", health.SequentialOptions{Alpha: -0.1}, "Alpha"},
		{"alpha 0.5", health.SequentialOptions{Alpha: 0.5}, "(0, 0.5)"},
		{"alpha 1", health.SequentialOptions{Alpha: 1}, "Alpha"},
		{"tolerance negative", health.SequentialOptions{Tolerance: -0.1}, "Tolerance"},
		{"margin below tolerance", health.SequentialOptions{Tolerance: 0.5, Margin: 0.2}, "Margin"},
		{"margin equal to tolerance", health.SequentialOptions{Tolerance: 0.5, Margin: 0.5}, "Margin"},
		{"min requests negative", health.SequentialOptions{MinRequests: -1}, "MinRequests"},
		{"prior negative", health.SequentialOptions{PriorStrength: -1}, "PriorStrength"},
	} {
		_, err := health.NewSequential(tc.opts)
		refused(t, tc.name, err, tc.want)
	}
	test, _ := health.NewSequential(health.SequentialOptions{})
	for _, c := range []health.Counts{{Failures: -1, Requests: 10}, {Failures: 11, Requests: 10}, {Requests: -5}} {
		if _, err := test.Observe(c, health.Counts{Requests: 100}); err == nil {
			t.Errorf("Observe(%+v) accepted impossible counts", c)
		}
	}
}

// TestSequentialDecreasingCounts: cumulative counts that go down (a
// source that re-aggregated) are inconsistent; the test must not judge the
// lower figures as if they were new evidence.
func TestSequentialDecreasingCounts(t *testing.T) {
	for _, tc := range []struct {
		name           string
		canary, baseln health.Counts
	}{
		{"canary failures drop", health.Counts{Failures: 0, Requests: 10000}, health.Counts{Failures: 450, Requests: 90000}},
		{"canary requests drop", health.Counts{Failures: 60, Requests: 5000}, health.Counts{Failures: 450, Requests: 90000}},
		{"baseline failures drop", health.Counts{Failures: 60, Requests: 10000}, health.Counts{Failures: 100, Requests: 90000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := health.NewSequential(health.SequentialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := s.Observe(health.Counts{Failures: 60, Requests: 10000}, health.Counts{Failures: 450, Requests: 90000})
			if err != nil || ev.Decision != cutover.Pending {
				t.Fatalf("first counts: %v, %v; want Pending", ev.Decision, err)
			}
			ev, err = s.Observe(tc.canary, tc.baseln)
			if !errors.Is(err, health.ErrBadCounts) {
				t.Errorf("decreasing counts: %v, err %v; want ErrBadCounts", ev.Decision, err)
			}
			// After Reset the counts start afresh.
			s.Reset()
			if _, err := s.Observe(tc.canary, tc.baseln); err != nil {
				t.Errorf("after Reset: %v", err)
			}
		})
	}
}
