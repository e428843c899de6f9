package health_test

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
)

// sums is a MetricSource with a fixed sum per "target/metric", as if read
// from a dashboard.
type sums map[string]float64

func (s sums) Metric(_ context.Context, q providers.MetricQuery) (providers.MetricValue, error) {
	v, ok := s[q.Target+"/"+q.Metric]
	if !ok {
		return providers.MetricValue{}, nil // no data points
	}
	return providers.MetricValue{Value: v, Points: 60}, nil
}

// minutes is a clock that moves one minute on every reading.
type minutes struct{ now time.Time }

func (m *minutes) Now() time.Time                         { m.now = m.now.Add(time.Minute); return m.now }
func (m *minutes) After(d time.Duration) <-chan time.Time { return time.After(d) }

func ExampleNewThreshold() {
	metrics := sums{"green/errors": 42, "green/requests": 6000}
	g, err := health.NewThreshold(metrics, "green", providers.MetricErrors, health.AtMost(0.01),
		health.ThresholdOptions{Per: providers.MetricRequests, Window: 5 * time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := g.Evaluate(context.Background())
	fmt.Println(cutover.GateName(g, 0))
	fmt.Println(v)

	// No data is never a pass.
	idle, _ := health.NewThreshold(sums{}, "green", providers.MetricErrors, health.AtMost(0.01), health.ThresholdOptions{})
	v, _ = idle.Evaluate(context.Background())
	fmt.Println(v.Decision)

	// Bad input is an error that names the field.
	_, err = health.NewThreshold(metrics, "green", providers.MetricLatencyP99, health.Between(0.5, 0.2), health.ThresholdOptions{})
	fmt.Println(err)
	// Output:
	// green errors/requests ≤ 0.01
	// pass: green errors/requests 0.007 (0.70%) over 5m0s (6000 requests), within ≤ 0.01
	// pending
	// threshold: bounds: Min 0.5 > Max 0.2; want Min ≤ Max
}

func ExampleAll() {
	metrics := sums{"green/errors": 48, "green/requests": 6000, "green/latency_p99": 0.180}
	errorRate, _ := health.NewThreshold(metrics, "green", providers.MetricErrors, health.AtMost(0.01),
		health.ThresholdOptions{Name: "error rate", Per: providers.MetricRequests})
	latency, _ := health.NewThreshold(metrics, "green", providers.MetricLatencyP99, health.AtMost(0.250),
		health.ThresholdOptions{Name: "p99"})

	// Both must pass twice in a row; one failure is tolerated.
	g := health.FailureLimit(1, health.Consecutive(2, health.All(errorRate, latency)))
	fmt.Println(cutover.GateName(g, 0))
	for range 2 {
		v, _ := g.Evaluate(context.Background())
		fmt.Println(v.Decision, "|", v.Reason)
	}

	// A new gate under trial: judged and reported, never deciding.
	strict, _ := health.NewThreshold(metrics, "green", providers.MetricErrors, health.AtMost(0.01),
		health.ThresholdOptions{Name: "strict", Per: providers.MetricRequests, Window: time.Minute})
	metrics["green/errors"] = 120
	v, _ := health.DryRun(strict).Evaluate(context.Background())
	fmt.Println(v)
	// Output:
	// failure_limit(1, consecutive(2, all(error rate, p99)))
	// pending | 1 of 2 consecutive passes: all passed (2 gates)
	// pass | all passed (2 gates)
	// pass: dry run: would fail: green errors/requests 0.02 (2.00%) over 1m0s (6000 requests), want ≤ 0.01
}

func ExampleNewJudge() {
	// Counts since the bake started: green served 6,000 requests with 61
	// errors, blue 54,000 with 270.
	metrics := sums{
		"green/requests": 6000, "green/errors": 61,
		"blue/requests": 54000, "blue/errors": 270,
	}
	judge, err := health.NewJudge(metrics, "blue", "green", health.JudgeOptions{
		Metrics: []string{providers.MetricErrors},
		Clock:   &minutes{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := judge.Evaluate(context.Background()) // the bake starts
	fmt.Println(v)
	v, _ = judge.Evaluate(context.Background()) // a minute later
	fmt.Println(v.Decision, v.Final)
	fmt.Println(v.Reason)
	fmt.Printf("ratio %.2f\n", v.Figures["errors.ratio"])
	// Output:
	// pending: comparison started: counting requests from now on
	// fail true
	// green is worse than blue after 1m0s: errors green 1.02% (61/6000) vs 0.50% (270/54000), 2.03×: evidence of a regression beyond 1.00× is 1.12e+04 ≥ 1/α = 100; roll back and compare its logs with blue's
	// ratio 2.03
}

func ExampleSequential() {
	test, _ := health.NewSequential(health.SequentialOptions{Alpha: 0.01, Margin: 0.5})
	// A healthy canary: 100 requests/s at 0.5 % errors beside a baseline of
	// 900 requests/s at 0.5 %, counted every minute.
	canary, baseline := health.Counts{}, health.Counts{}
	for minute := 1; minute <= 10; minute++ {
		canary.Requests += 6000
		canary.Failures += 30
		baseline.Requests += 54000
		baseline.Failures += 270
		ev, _ := test.Observe(canary, baseline)
		fmt.Printf("minute %d: %v (evidence of non-inferiority %.0f, need %.0f)\n", minute, ev.Decision, exp(ev.LogPass), exp(ev.LogPassThreshold))
		if ev.Decision != cutover.Pending {
			break
		}
	}
	// Output:
	// minute 1: pending (evidence of non-inferiority 3, need 100)
	// minute 2: pending (evidence of non-inferiority 22, need 100)
	// minute 3: pass (evidence of non-inferiority 215, need 100)
}

func exp(x float64) float64 { return math.Exp(x) }
