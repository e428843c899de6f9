package fake_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// A canary on the fake cloud: green is bad from the moment it takes
// traffic, and its metrics say so.
func Example() {
	ctx := context.Background()
	clock := cutover.NewManualClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	cloud := fake.MustNew(fake.Options{Seed: 1, Clock: clock})
	alb := cloud.Router("alb", "blue", "green") // blue=100 green=0, 1000 req/s
	_ = cloud.SetProfile("green", fake.Profile{ErrorRate: 0.05, LatencyMedian: 80 * time.Millisecond, LatencySigma: 0.5})

	start := clock.Now()
	_ = alb.SetWeights(ctx, providers.Weights{"blue": 90, "green": 10})
	clock.Advance(time.Minute)

	for _, target := range []string{"blue", "green"} {
		q := providers.MetricQuery{Target: target, Start: start, End: clock.Now()}
		q.Metric = providers.MetricRequests
		req, _ := cloud.Metric(ctx, q)
		q.Metric = providers.MetricErrors
		errs, _ := cloud.Metric(ctx, q)
		q.Metric = providers.MetricLatencyP99
		p99, _ := cloud.Metric(ctx, q)
		fmt.Printf("%s: %.0f requests, %.0f errors (%.1f%%), p99 %.0f ms\n",
			target, req.Value, errs.Value, 100*errs.Value/req.Value, 1000*p99.Value)
	}
	// Output:
	// blue: 54000 requests, 241 errors (0.4%), p99 160 ms
	// green: 6000 requests, 297 errors (5.0%), p99 256 ms
}

// Fault injection: the second SetWeights is throttled, and the call record
// shows it.
func ExampleCloud_InjectFault() {
	ctx := context.Background()
	cloud := fake.MustNew(fake.Options{})
	alb := cloud.Router("alb", "blue", "green")
	_ = cloud.InjectFault(fake.Fault{Op: fake.OpSetWeights, Nth: 2, Err: fake.ErrThrottled})

	for _, g := range []int{10, 50, 50} {
		err := alb.SetWeights(ctx, providers.Weights{"blue": 100 - g, "green": g})
		fmt.Println(g, errors.Is(err, fake.ErrThrottled))
	}
	fmt.Println(cloud.CallCount(fake.OpSetWeights), "calls,", cloud.ErrorCount(""), "failed; now", alb.Current())
	// Output:
	// 10 false
	// 50 true
	// 50 false
	// 3 calls, 1 failed; now blue=50 green=50
}
