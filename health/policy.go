package health

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// NoData says what a gate does when its source has no data: a metric with
// no data points, an alarm in INSUFFICIENT_DATA, a target with no members.
type NoData int

const (
	// NoDataDefault is the zero value: NoDataPending for metric, judge and
	// target-health gates, NoDataFail for alarm gates.
	NoDataDefault NoData = iota
	// NoDataPending waits for data; the gate fails closed at its deadline
	// (Options.Deadline) or at the stage's.
	NoDataPending
	// NoDataFail fails at once.
	NoDataFail
	// NoDataZero treats a missing count as zero (a CloudWatch count metric
	// such as HTTPCode_Target_5XX_Count has no data points when nothing
	// happened). For alarm gates it ignores INSUFFICIENT_DATA.
	NoDataZero
)

// String returns "default", "pending", "fail" or "zero".
func (n NoData) String() string {
	switch n {
	case NoDataDefault:
		return "default"
	case NoDataPending:
		return "pending"
	case NoDataFail:
		return "fail"
	case NoDataZero:
		return "zero"
	}
	return "NoData(" + strconv.Itoa(int(n)) + ")"
}

func (n NoData) valid() bool { return n >= NoDataDefault && n <= NoDataZero }

// Retry bounds how a gate retries a source that returns an error within one
// evaluation. The zero value is valid: 3 attempts, 1s apart, doubling up to
// 30s. An error wrapping providers.ErrUnsupportedMetric is never retried.
type Retry struct {
	// Attempts is the number of calls before the gate gives up and fails
	// with the cause. ≥ 0; the zero value means 3.
	Attempts int
	// Backoff is the wait before the second attempt; it doubles after each
	// failed attempt, up to MaxBackoff. ≥ 0; the zero value means 1s.
	Backoff time.Duration
	// MaxBackoff caps the wait between two attempts. ≥ Backoff; the zero
	// value means 30s, or Backoff if that is longer.
	MaxBackoff time.Duration
}

// The defaults of Retry.
const (
	DefaultAttempts   = 3
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = 30 * time.Second
)

func (r Retry) normalize(gate string) (Retry, error) {
	if r.Attempts < 0 {
		return r, fmt.Errorf("%s: Retry.Attempts: %d: want ≥ 0 (0: %d)", gate, r.Attempts, DefaultAttempts)
	}
	if r.Backoff < 0 {
		return r, fmt.Errorf("%s: Retry.Backoff: %v: want ≥ 0 (0: %v)", gate, r.Backoff, DefaultBackoff)
	}
	if r.MaxBackoff < 0 || r.MaxBackoff != 0 && r.MaxBackoff < r.Backoff {
		return r, fmt.Errorf("%s: Retry.MaxBackoff: %v: want ≥ Backoff %v (0: %v or Backoff)", gate, r.MaxBackoff, r.Backoff, DefaultMaxBackoff)
	}
	if r.Attempts == 0 {
		r.Attempts = DefaultAttempts
	}
	if r.Backoff == 0 {
		r.Backoff = DefaultBackoff
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = max(DefaultMaxBackoff, r.Backoff)
	}
	return r, nil
}

// do calls fn up to r.Attempts times, waiting on clock between attempts
// (cutover.Poll). It returns the last error, or ctx's cause when ctx ends
// first.
func (r Retry) do(ctx context.Context, clock cutover.Clock, fn func(context.Context) error) (attempts int, err error) {
	p := cutover.Poll{
		Interval: cutover.Backoff{Initial: r.Backoff, Max: r.MaxBackoff},
		Attempts: r.Attempts,
		// A metric the source cannot answer is a setup error: asking
		// again will not help.
		Retry: func(err error) bool { return !errors.Is(err, providers.ErrUnsupportedMetric) },
		Clock: clock,
	}
	err = p.Until(ctx, func(ctx context.Context) (bool, string, error) {
		attempts++
		err := fn(ctx)
		return err == nil, "", err
	})
	if ctx.Err() != nil {
		return attempts, context.Cause(ctx)
	}
	if te := (*cutover.WaitTimeoutError)(nil); errors.As(err, &te) && te.Last != nil {
		return attempts, te.Last // the source's error is the reason
	}
	return attempts, err
}

// FigureFailClosed is the figure, set to 1, of a Fail that reports missing
// evidence rather than evidence of a bad change: a source that kept
// failing, no data under NoDataFail, a deadline or timeout that expired, an
// alarm the source does not report, a misconfigured decorator. Not keeps
// such a Fail a Fail instead of turning it into a Pass. Gates of your own
// may set it too.
const FigureFailClosed = "fail_closed"

// failClosed marks v as a Fail for want of evidence.
func failClosed(v cutover.Verdict) cutover.Verdict {
	v.Decision = cutover.Fail
	v.Figures = withFigure(v.Figures, FigureFailClosed, 1)
	return v
}

// isFailClosed reports whether v is a Fail for want of evidence.
func isFailClosed(v cutover.Verdict) bool {
	return v.Decision == cutover.Fail && v.Figures[FigureFailClosed] == 1
}

// sourceFailed is the verdict of a gate whose source kept failing: never a
// pass. A transient error (providers.IsTransient: throttling, a 5xx, a
// timeout) is Pending with the error as its reason, so a source outage of
// a few polls does not fail a good green: the runner polls again, and a
// gate still Pending at the stage's deadline fails closed there. A
// permanent error (access denied, an unknown metric) is a Fail at once.
func sourceFailed(what string, attempts int, err error) cutover.Verdict {
	if providers.IsTransient(err) {
		return cutover.Verdict{
			Decision: cutover.Pending,
			Reason:   fmt.Sprintf("%s: source failed after %d attempts: %v; judged again at the next poll", what, attempts, err),
			Figures:  map[string]float64{"attempts": float64(attempts)},
		}
	}
	return cutover.Verdict{
		Decision: cutover.Fail,
		Reason:   fmt.Sprintf("%s: source failed after %d attempts: %v; check the source's health and permissions", what, attempts, err),
		Figures:  map[string]float64{"attempts": float64(attempts), FigureFailClosed: 1},
	}
}

// deadline turns a verdict that stays Pending too long into a Fail. The
// zero deadline never expires.
type deadline struct {
	d     time.Duration
	clock cutover.Clock
	since time.Time
}

func (dl *deadline) reset() { dl.since = time.Time{} }

// check returns v, or a Fail when v is Pending and the deadline has passed
// since the first check after reset.
func (dl *deadline) check(v cutover.Verdict) cutover.Verdict {
	now := dl.clock.Now()
	if dl.since.IsZero() {
		dl.since = now
	}
	if v.Decision != cutover.Pending || dl.d <= 0 {
		return v
	}
	if waited := now.Sub(dl.since); waited >= dl.d {
		v = failClosed(v)
		v.Reason = fmt.Sprintf("still pending after %v (deadline %v): %s", waited.Round(time.Millisecond), dl.d, v.Reason)
	}
	return v
}

func checkDuration(gate, field string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%s: %s %v must be ≥ 0", gate, field, d)
	}
	return nil
}

// sourceOptions checks and completes what the options of every gate that
// reads a source share — Deadline, Retry and Clock — and returns the
// gate's deadline; what names the gate in errors.
func sourceOptions(what string, d time.Duration, retry *Retry, clock *cutover.Clock) (deadline, error) {
	if err := checkDuration(what, "Deadline", d); err != nil {
		return deadline{}, err
	}
	r, err := retry.normalize(what)
	if err != nil {
		return deadline{}, err
	}
	*retry, *clock = r, clockOr(*clock)
	return deadline{d: d, clock: *clock}, nil
}

func clockOr(c cutover.Clock) cutover.Clock {
	if c == nil {
		return cutover.RealClock{}
	}
	return c
}

// fetch reads a gate's source with r's retries. When ctx has ended it
// returns ctx's cause; when the source still fails after the retries, the
// verdict sourceFailed gives the gate named name (Pending for a transient
// error, Fail for a permanent one). One home for how every gate reads.
func fetch[T any](ctx context.Context, r Retry, clock cutover.Clock, name string, read func(context.Context) (T, error)) (T, *cutover.Verdict, error) {
	var v T
	n, err := r.do(ctx, clock, func(ctx context.Context) error {
		var err error
		v, err = read(ctx)
		return err
	})
	if ctx.Err() != nil {
		return v, nil, context.Cause(ctx)
	}
	if err != nil {
		bad := sourceFailed(name, n, err)
		return v, &bad, nil
	}
	return v, nil, nil
}

// verdictOr returns *v, or the zero verdict when v is nil.
func verdictOr(v *cutover.Verdict) cutover.Verdict {
	if v == nil {
		return cutover.Verdict{}
	}
	return *v
}

// fetchMetric reads one metric with retries.
func fetchMetric(ctx context.Context, src providers.MetricSource, q providers.MetricQuery, r Retry, clock cutover.Clock) (providers.MetricValue, int, error) {
	var v providers.MetricValue
	n, err := r.do(ctx, clock, func(ctx context.Context) error {
		var err error
		v, err = src.Metric(ctx, q)
		if err == nil && (math.IsNaN(v.Value) || math.IsInf(v.Value, 0) || v.Points < 0) {
			err = fmt.Errorf("metric %s of %s: invalid value %v (%d points)", q.Metric, q.Target, v.Value, v.Points)
		}
		return err
	})
	return v, n, err
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }

// setFinite sets m[k] = v unless v is NaN or infinite: figures are
// journaled as JSON, which has neither.
func setFinite(m map[string]float64, k string, v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		m[k] = v
	}
}
