package fake

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// TestSeriesMatchesWalk checks the cached running totals against drawing
// every second afresh, over thousands of random windows with a cache small
// enough to be trimmed and extended backwards, and profile changes
// back-dated into cached seconds.
func TestSeriesMatchesWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	epoch := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	clk := cutover.NewManualClock(epoch)
	c := MustNew(Options{Clock: clk, Seed: 5, MetricCache: 3 * time.Minute})
	r := c.Router("alb", "blue", "green")
	for clk.Now().Before(epoch.Add(30 * time.Minute)) {
		g := rng.IntN(101)
		if err := r.SetWeights(context.Background(), providers.Weights{"blue": 100 - g, "green": g}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Duration(rng.IntN(90_000)+500) * time.Millisecond)
	}
	e0, now := epoch.Unix(), clk.Now().Unix()
	for i := range 3000 {
		if i%500 == 499 { // back-date a profile change
			at := epoch.Add(time.Duration(rng.Int64N(int64(30 * time.Minute))))
			if err := c.SetProfileAt("blue", at, Profile{ErrorRate: rng.Float64() / 10, LatencyMedian: time.Duration(rng.IntN(300)) * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
		}
		tg := c.lookupTarget([]string{"blue", "green"}[rng.IntN(2)])
		a := e0 + rng.Int64N(now-e0)
		b := min(now, a+rng.Int64N(600)+1)
		if rng.IntN(3) == 0 { // slide a window, as a polling gate does
			a = max(e0, b-60)
		}
		tg.mu.Lock()
		got := c.totals(tg, a, b)
		want := c.walk(tg, max(a, tg.origin()), b, cumEntry{}, nil)
		tg.mu.Unlock()
		if got != want {
			t.Fatalf("query %d %s [%d, %d): cached %+v, drawn %+v", i, tg.name, a-e0, b-e0, got, want)
		}
	}
}
