package awsprovider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/safecutover/safecutover/providers"
)

// DefaultALBPublishLag is how long after a minute ends an
// ALBMetricSource takes its data as complete, unless
// ALBMetricsOptions.PublishLag says otherwise.
const DefaultALBPublishLag = time.Minute

// settledLookback is how far back Settled looks for a target's latest
// published minute, at least: it reads the batch the source's other
// queries read, over the longest window asked so far.
const settledLookback = 3 * time.Hour

var _ providers.MetricFeed = (*ALBMetricSource)(nil)

// settledMemo keeps each target's latest settled time, so that Settled
// never goes back and a target whose data stopped more than the lookback
// ago keeps its last answer.
type settledMemo struct {
	mu sync.Mutex
	at map[string]time.Time
}

// FeedInfo returns one-minute resolution, the publication lag
// (ALBMetricsOptions.PublishLag) and the metrics the source answers:
// requests, errors, average and p99 latency, and slow requests when
// ALBMetricsOptions.SlowExpression is set.
func (s *ALBMetricSource) FeedInfo() providers.FeedInfo {
	f := providers.FeedInfo{
		Resolution: albPeriod * time.Second,
		Lag:        s.publishLag(),
		Metrics:    []string{providers.MetricRequests, providers.MetricErrors, providers.MetricLatencyAvg, providers.MetricLatencyP99},
	}
	if s.slowExpr != "" {
		f.Metrics = append(f.Metrics, providers.MetricSlow)
	}
	return f
}

func (s *ALBMetricSource) publishLag() time.Duration {
	if s.lag > 0 {
		return s.lag
	}
	return DefaultALBPublishLag
}

// Settled returns the end of target's complete data: the end of the
// latest minute with a RequestCount data point in the last three hours,
// but no later than now less the publication lag (rounded down to the
// minute), because CloudWatch may still add to a minute it has begun to
// publish. It is
// answered from the same batched GetMetricData read as Metric, so a poll
// that asks Settled and then the metrics of both arms makes one call. A
// target whose data stopped keeps its last answer; one that never had
// data in the lookback returns the zero time.
func (s *ALBMetricSource) Settled(ctx context.Context, target string) (time.Time, error) {
	tg, ok := s.dims[target]
	if !ok {
		return time.Time{}, fmt.Errorf("alb settled %q: unknown target (known: %s)", target, strings.Join(sortedKeys(s.dims), ", "))
	}
	now := s.clock.Now().UTC()
	limit := now.Add(-s.publishLag()).Truncate(time.Minute)
	// The read ends now, as the poll's other queries do, so that they
	// are cut from it.
	what := fmt.Sprintf("alb settled %q (%s)", target, tg)
	res, err := s.batched(ctx, what, now.Add(-settledLookback), now)
	if err != nil {
		return time.Time{}, err
	}
	requests := res[fmt.Sprintf("r%d", s.index(target))]
	var latest time.Time
	for _, t := range requests.times {
		if end := t.Add(albPeriod * time.Second); end.After(latest) {
			latest = end
		}
	}
	if latest.After(limit) {
		latest = limit
	}
	s.settled.mu.Lock()
	defer s.settled.mu.Unlock()
	if s.settled.at == nil {
		s.settled.at = map[string]time.Time{}
	}
	if prev := s.settled.at[target]; prev.After(latest) {
		latest = prev
	}
	s.settled.at[target] = latest
	return latest, nil
}
