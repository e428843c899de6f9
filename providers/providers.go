package providers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Weights maps target names (a target group ARN, a record's SetIdentifier,
// "blue", "green") to the percentage of traffic each receives. Valid weights
// are each in 0–100 and sum to exactly 100.
type Weights map[string]int

// Validate reports weights outside 0–100, an empty map, empty target names,
// or a sum other than 100.
func (w Weights) Validate() error {
	if len(w) == 0 {
		return fmt.Errorf("weights: no targets")
	}
	sum := 0
	for _, t := range w.Targets() {
		v := w[t]
		if t == "" {
			return fmt.Errorf("weights: empty target name")
		}
		if v < 0 || v > 100 {
			return fmt.Errorf("weights: target %q: weight %d outside 0–100", t, v)
		}
		sum += v
	}
	if sum != 100 {
		return fmt.Errorf("weights: sum is %d, want 100 (%s)", sum, w)
	}
	return nil
}

// Targets returns the target names in sorted order.
func (w Weights) Targets() []string {
	ts := make([]string, 0, len(w))
	for t := range w {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// Equal reports whether w and o give every target the same weight (a target
// missing from one counts as 0).
func (w Weights) Equal(o Weights) bool {
	for t, v := range w {
		if o[t] != v {
			return false
		}
	}
	for t, v := range o {
		if w[t] != v {
			return false
		}
	}
	return true
}

// String renders the weights as "blue=90 green=10", sorted by target.
func (w Weights) String() string {
	var b strings.Builder
	for i, t := range w.Targets() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", t, w[t])
	}
	return b.String()
}

// TrafficRouter splits traffic between two or more targets by weight (an
// ALB forward action, Route 53 weighted records).
//
// Implementations are safe for concurrent use. SetWeights is idempotent and
// returns once the provider accepted the change; reading back with Weights is
// how a caller verifies it took effect. Both honour ctx.
type TrafficRouter interface {
	// SetWeights replaces the weights of the router's targets. Targets the
	// router does not know are an error; weights must pass Validate.
	SetWeights(ctx context.Context, w Weights) error
	// Weights returns the weights in force now.
	Weights(ctx context.Context) (Weights, error)
}

// Switcher moves all traffic from one target to another at once and back (an
// Elastic Beanstalk CNAME swap, an ALB listener's default action).
//
// Implementations are safe for concurrent use. Switch is idempotent:
// switching to the active target does nothing. Both methods honour ctx;
// Switch returns when the switch is complete or its bound ran out.
type Switcher interface {
	// Switch sends all traffic to target.
	Switch(ctx context.Context, target string) error
	// Active returns the target receiving traffic now.
	Active(ctx context.Context) (string, error)
}

// Capacity is the size of a fleet.
type Capacity struct {
	Desired int // what was asked for
	Running int // instances or tasks running
	Healthy int // of those, passing health checks
}

// Fleet is the capacity of one target (an ECS service, an Auto Scaling
// group, a Beanstalk environment).
//
// Implementations are safe for concurrent use. SetDesired is idempotent
// and returns once the provider accepted the change; callers poll Capacity
// until Healthy reaches Desired. Both honour ctx.
type Fleet interface {
	// SetDesired sets the desired count (≥ 0).
	SetDesired(ctx context.Context, n int) error
	// Capacity returns the desired, running and healthy counts now.
	Capacity(ctx context.Context) (Capacity, error)
}

// The well-known metric names every MetricSource understands. Count metrics
// are sums over the query's window; latency metrics are in seconds.
const (
	MetricRequests   = "requests"    // requests served
	MetricErrors     = "errors"      // requests answered with a 5xx
	MetricSlow       = "slow"        // requests slower than the source's latency objective
	MetricLatencyAvg = "latency_avg" // mean response time, seconds
	MetricLatencyP99 = "latency_p99" // 99th percentile response time, seconds
)

// MetricQuery asks for one metric of one target over [Start, End).
type MetricQuery struct {
	Target string
	Metric string
	Start  time.Time
	End    time.Time
}

// MetricValue is the answer to a MetricQuery. Points is the number of data
// points behind Value; zero means no data, and then Value means nothing: no
// data is never zero errors.
type MetricValue struct {
	Value  float64
	Points int
}

// MetricSource answers metric queries (CloudWatch, the fake cloud's
// simulated traffic). Safe for concurrent use; honours ctx.
//
// The contract every source keeps, and the conformance suite
// (providertest.TestMetricSource) checks:
//
//   - A query covers [Start, End): data points at or after Start and
//     before End. Count metrics (MetricRequests, MetricErrors, MetricSlow)
//     are the sum over that window; latency metrics the mean or the 99th
//     percentile over it, in seconds.
//   - Points is the number of data points behind Value. Points 0 means no
//     data — nothing was published for the window yet, or the target took
//     no traffic — and then Value means nothing: no data is never zero
//     errors. Gates treat it as Pending, never as a Pass.
//   - A metric or target the source does not know is an error (wrapping a
//     sentinel such as awsprovider.ErrUnsupportedMetric), not no data.
//   - What the gates ask for: health.NewJudge compares MetricErrors and
//     MetricSlow against MetricRequests unless JudgeOptions.Metrics says
//     otherwise, so a source without MetricSlow needs
//     JudgeOptions{Metrics: []string{providers.MetricErrors}} — otherwise
//     every judged stage stays Pending and fails closed at its deadline.
//     Threshold gates ask for the metrics they are given.
type MetricSource interface {
	Metric(ctx context.Context, q MetricQuery) (MetricValue, error)
}

// AlarmState is the state of an alarm.
type AlarmState string

// The alarm states, as CloudWatch names them.
const (
	AlarmOK               AlarmState = "OK"
	AlarmAlarm            AlarmState = "ALARM"
	AlarmInsufficientData AlarmState = "INSUFFICIENT_DATA"
)

// Alarm is one alarm and its state.
type Alarm struct {
	Name    string
	State   AlarmState
	Reason  string
	Updated time.Time
}

// AlarmSource reports the state of alarms by name. A name it does not know
// is an error, never a silent OK. Safe for concurrent use; honours ctx.
type AlarmSource interface {
	Alarms(ctx context.Context, names []string) ([]Alarm, error)
}

// The target health states, as ELB names them.
const (
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthInitial   = "initial"
	HealthDraining  = "draining"
	HealthUnused    = "unused"
)

// TargetHealth is the health of one member (instance, task, IP) of a target.
type TargetHealth struct {
	ID     string
	State  string
	Reason string
}

// TargetHealthSource reports the health of a target's members (ELB target
// health of a target group). Safe for concurrent use; honours ctx.
type TargetHealthSource interface {
	TargetHealth(ctx context.Context, target string) ([]TargetHealth, error)
}

// ErrUnsupportedMetric is wrapped by the errors of a MetricSource asked for
// a metric it cannot answer (ALB publishes no count of slow requests). It is
// a setup error: asking again will not help, so gates do not retry it.
var ErrUnsupportedMetric = errors.New("unsupported metric")

// FeedInfo says how a MetricFeed's data arrive.
type FeedInfo struct {
	// Resolution is the width of one data point: 1s for the fake cloud's
	// per-second traffic, 1m for ALB metrics in CloudWatch. > 0.
	Resolution time.Duration
	// Lag is how long after a data point ends it is typically published
	// (0 for the fake cloud, a minute or more for CloudWatch). ≥ 0.
	Lag time.Duration
	// Metrics are the metrics the feed answers, of the well-known names
	// above; any other is an error wrapping ErrUnsupportedMetric.
	Metrics []string
}

// Supports reports whether the feed answers metric.
func (f FeedInfo) Supports(metric string) bool { return slices.Contains(f.Metrics, metric) }

// MetricFeed is a MetricSource that says how its data arrive, so that a
// comparison of two targets can judge both over the same complete window
// (the sequential judge in package health does).
//
// Contract: FeedInfo is constant for the feed's lifetime and cheap.
// Settled returns the time up to which target's data are complete: every
// data point that ends at or before it has been published, so a query
// whose End is at most Settled sees all the data it will ever see, up to
// a restatement (a source may later correct published counts; callers
// treat the new counts as corrections). Settled is a multiple of
// Resolution (since the Unix epoch), never after now, and never earlier
// than a time it returned before for the same target; when a target's data
// stop arriving it stops advancing, and a target that never had data
// returns the zero time with a nil error. Both methods are safe for
// concurrent use; Settled honours ctx and may call the provider.
type MetricFeed interface {
	MetricSource
	// FeedInfo returns the feed's resolution, lag and metrics.
	FeedInfo() FeedInfo
	// Settled returns the end of target's complete data.
	Settled(ctx context.Context, target string) (time.Time, error)
}

// WriteVerifier is implemented by a TrafficRouter whose SetWeights returns
// only after checking the weights in the provider's own answer to the
// write (an ALB ModifyListener answers with the listener as stored).
// Strategies then skip their own read-back, which would cost a call and
// tell nothing more. VerifiesWrites reports whether this router does.
type WriteVerifier interface {
	VerifiesWrites() bool
}

// Propagator is implemented by a TrafficRouter whose weight changes reach
// clients only after a delay (a DNS record's TTL): Propagation returns how
// long after a change clients may still follow the old weights.
// Strategies take it as their propagation when the user sets none.
type Propagator interface {
	Propagation(ctx context.Context) (time.Duration, error)
}

// RequestCounter counts the requests each target served in [start, end):
// what clients actually did, as opposed to the weights a router was told.
// A target without data has Points 0 (no data is never zero requests).
// One call answers every target, so that the shares come from one
// consistent read. Safe for concurrent use; honours ctx.
type RequestCounter interface {
	RequestCounts(ctx context.Context, targets []string, start, end time.Time) (map[string]MetricValue, error)
}
