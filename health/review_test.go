package health_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
)

// brokenSource is a metric source that always errors.
type brokenSource struct{}

func (brokenSource) Metric(context.Context, providers.MetricQuery) (providers.MetricValue, error) {
	return providers.MetricValue{}, errors.New("throttled")
}

// TestReviewNotKeepsFailClosed: a Fail that says "no evidence" (a source
// that keeps failing, no data under a fail policy, a deadline, a
// misconfigured decorator) must not be inverted into a Pass by Not.
func TestReviewNotKeepsFailClosed(t *testing.T) {
	clock := func() cutover.Clock { return &minutes{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }
	mustThreshold := func(src providers.MetricSource, opts health.ThresholdOptions) cutover.Gate {
		opts.Clock = clock()
		opts.Retry = health.Retry{Attempts: 1}
		g, err := health.NewThreshold(src, "green", providers.MetricErrors, health.AtMost(10), opts)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	for _, tc := range []struct {
		name  string
		inner cutover.Gate
		polls int
	}{
		{"source fails", mustThreshold(brokenSource{}, health.ThresholdOptions{}), 1},
		{"no data, fail policy", mustThreshold(sums{}, health.ThresholdOptions{NoData: health.NoDataFail}), 1},
		{"pending past its deadline", mustThreshold(sums{}, health.ThresholdOptions{Deadline: time.Minute}), 2},
		{"misconfigured", health.All(), 1},
		{"misconfigured decorator", health.Consecutive(0, health.All()), 1},
		{"all with one that could not judge", health.All(seq("ok", cutover.Pass), mustThreshold(brokenSource{}, health.ThresholdOptions{})), 1},
		{"any where one could not judge", health.Any(seq("bad", cutover.Fail), mustThreshold(brokenSource{}, health.ThresholdOptions{})), 1},
		{"twice negated", health.Not(mustThreshold(brokenSource{}, health.ThresholdOptions{})), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inner cutover.Verdict
			for range tc.polls {
				inner = evaluate(t, tc.inner)
			}
			if inner.Decision != cutover.Fail {
				t.Fatalf("inner gate: %v, want a Fail", inner)
			}
			g := health.Not(tc.inner)
			var v cutover.Verdict
			for range tc.polls {
				v = evaluate(t, g)
			}
			if v.Decision == cutover.Pass {
				t.Errorf("Not over a gate that could not judge: %v, want Fail", v)
			}
		})
	}
	// A Fail on evidence is still inverted.
	src := sums{"green/errors": 42}
	v := evaluate(t, health.Not(mustThreshold(src, health.ThresholdOptions{})))
	want(t, "evidence", v, cutover.Pass)
}
