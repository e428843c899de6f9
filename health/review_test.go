package health_test

import (
	"context"
	"errors"
	"strings"
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

// TestReviewSequentialDecreasingCounts: cumulative counts that go down (a
// source that re-aggregated) are inconsistent; the test must not judge the
// lower figures as if they were new evidence.
func TestReviewSequentialDecreasingCounts(t *testing.T) {
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

// TestReviewJudgeDecreasingCounts: a judge whose source restates its
// counts lower takes them as corrections: it judges the corrected totals
// and counts the restatement in its figures.
func TestReviewJudgeDecreasingCounts(t *testing.T) {
	src := sums{"green/requests": 10000, "green/errors": 60, "blue/requests": 90000, "blue/errors": 450}
	g, err := health.NewJudge(src, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors},
		Clock: &minutes{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	evaluate(t, g)
	want(t, "first counts", evaluate(t, g), cutover.Pending)
	src["green/errors"] = 55
	v := evaluate(t, g)
	want(t, "restated lower", v, cutover.Pending, "(55/10000)")
	if v.Figures["restated"] != 1 {
		t.Errorf("restated lower: figures %v, want restated=1", v.Figures)
	}
	src["green/requests"], src["green/errors"] = 9000, 200 // corrected again: a clear regression
	want(t, "restated to a regression", evaluate(t, g), cutover.Fail, "(200/9000)")
}

// TestReviewProbeMethod: a method net/http refuses is refused by the
// constructor, not at every evaluation.
func TestReviewProbeMethod(t *testing.T) {
	for _, m := range []string{"GET(", "GE\x00T", "GET\tX", "PO,ST"} {
		if _, err := health.NewProbe("http://127.0.0.1/health", health.ProbeOptions{Method: m}); err == nil || !strings.Contains(err.Error(), "Method") {
			t.Errorf("Method %q: err = %v, want one naming Method", m, err)
		}
	}
	if _, err := health.NewProbe("http://127.0.0.1/health", health.ProbeOptions{Method: "PROPFIND"}); err != nil {
		t.Errorf("Method PROPFIND: %v", err)
	}
}
