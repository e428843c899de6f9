package awsprovider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider/internal/awscall"
)

// Sentinel errors of the AWS provider, for errors.Is.
var (
	// ErrReadBackMismatch: after a change was accepted, reading it back
	// showed something else (another writer, an ignored field, CNAMEs that
	// did not swap). The cutover must not assume the change took effect.
	ErrReadBackMismatch = errors.New("read-back mismatch")
	// ErrWaitTimeout: a bounded wait (Route 53 INSYNC, Beanstalk Ready, ECS
	// steady state) ran out before the resource got there. It is
	// cutover.ErrWaitTimeout, so errors.Is works whichever is named.
	ErrWaitTimeout = cutover.ErrWaitTimeout
	// ErrUnsupportedMetric: the metric source cannot answer this metric
	// (MetricSlow on an ALB without a configured expression, an unknown
	// metric name). It is providers.ErrUnsupportedMetric, so gates know
	// not to retry it.
	ErrUnsupportedMetric = providers.ErrUnsupportedMetric
	// ErrConcurrentChange: another writer changed what the cutover owns
	// (a target group of the cutover removed from a listener, a weight
	// the cutover did not write) since the cutover last wrote it. The step
	// is refused; the gates and the rollback path decide.
	ErrConcurrentChange = errors.New("changed by another writer")
)

// Pacer paces API calls on the client side: a type with a Pacer waits on
// it before each API call it makes. A *rate.Limiter (a token bucket) is a
// Pacer; share one between every router and source that calls the same
// API in one account and region, because AWS counts the request rate per
// account and region (ELB and Route 53 throttle at a few requests a second).
// The SDK's retryer still retries throttled calls; the pacer makes them rarer.
type Pacer interface {
	Wait(ctx context.Context) error
}

var _ Pacer = (*rate.Limiter)(nil)

// NewPacer returns a token bucket that lets perSecond calls a second
// through (0: no limit), with bursts of up to burst calls (0: 1), or an
// error naming an argument that is negative or not a finite number.
func NewPacer(perSecond float64, burst int) (*rate.Limiter, error) {
	if !(perSecond >= 0) || math.IsInf(perSecond, 1) { // NaN too
		return nil, fmt.Errorf("pacer: perSecond: %v: want a finite number ≥ 0 (0: no limit)", perSecond)
	}
	if burst < 0 {
		return nil, fmt.Errorf("pacer: burst: %d: want ≥ 0 (0: 1)", burst)
	}
	if perSecond == 0 {
		return rate.NewLimiter(rate.Inf, 1), nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(burst, 1)), nil
}

// awsBase holds what every type of this package shares: logger, clock,
// pacer, the bound of one call attempt.
type awsBase struct {
	log         *zap.Logger
	clock       cutover.Clock
	pacer       Pacer
	callTimeout time.Duration
}

func newAWSBase(log *zap.Logger, clock cutover.Clock, pacer Pacer) awsBase {
	if log == nil {
		log = zap.NewNop()
	}
	if clock == nil {
		clock = cutover.RealClock{}
	}
	return awsBase{log: log, clock: clock, pacer: pacer, callTimeout: DefaultCallTimeout}
}

// pace waits for the pacer, if there is one, before the API call op.
func (b awsBase) pace(ctx context.Context, op string) error {
	if b.pacer == nil {
		return nil
	}
	if err := b.pacer.Wait(ctx); err != nil {
		return fmt.Errorf("pace %s: %w", op, err)
	}
	return nil
}

// poller returns the bounded wait (cutover.Poll, the one poll loop) of
// this type's clock and logger: a check every interval until timeout has
// passed. A timeout ≤ 0 allows one check.
func (b awsBase) poller(what string, timeout, interval time.Duration) cutover.Poll {
	return cutover.Poll{What: what, Interval: cutover.Backoff{Initial: interval}, Clock: b.clock, Logger: b.log}.Within(timeout)
}

// pollUntil calls check, then again every interval on the clock, until it
// reports done, it fails, ctx ends, or timeout has passed on the clock.
// what names the wait in errors; check's status string says where it got
// to, for the timeout error.
func (b awsBase) pollUntil(ctx context.Context, what string, timeout, interval time.Duration, check cutover.Check) error {
	return b.poller(what, timeout, interval).Until(ctx, check)
}

// apiErrorCode returns the code of the smithy API error inside err, or "".
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// durationOr returns d, or def when d is zero; negative durations are an
// error naming field.
func durationOr(field string, d, def time.Duration) (time.Duration, error) {
	if d < 0 {
		return 0, fmt.Errorf("%s: %s is negative", field, d)
	}
	if d == 0 {
		return def, nil
	}
	return d, nil
}

// ParseTargets parses "name=value,name=value" — target names and target
// group ARNs (or Route 53 SetIdentifiers, environment names) as given on a
// command line — into a map. Empty names or values, a name given twice and
// an entry without '=' are errors.
func ParseTargets(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		name, value, ok := strings.Cut(kv, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok:
			return nil, fmt.Errorf("targets %q: entry %q is not name=value", s, kv)
		case name == "" || value == "":
			return nil, fmt.Errorf("targets %q: entry %q has an empty name or value", s, kv)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("targets %q: name %q given twice", s, name)
		}
		out[name] = value
	}
	return out, nil
}

// DefaultCallTimeout bounds one attempt of an AWS API call when an
// Options struct of this package leaves CallTimeout at zero. The calls the
// provider makes answer in well under a second; an attempt still open
// after this long is held somewhere (a stuck connection, an overloaded
// endpoint) and is abandoned so that the SDK's retryer tries again.
const DefaultCallTimeout = awscall.DefaultTimeout

// httpDoer is the HTTP client of every SDK service client.
type httpDoer = awscall.Doer

// bound returns hc with a deadline per attempt of callTimeout; nil hc
// means http.DefaultClient.
func (b awsBase) bound(hc httpDoer) httpDoer { return awscall.Bound(hc, b.callTimeout) }

// callTimeoutOr validates an Options struct's CallTimeout and applies the
// default.
func callTimeoutOr(field string, d time.Duration) (time.Duration, error) {
	return awscall.Timeout(field, d)
}

// setCallTimeout validates an Options struct's CallTimeout (named by
// field) and sets it, 0 meaning DefaultCallTimeout.
func (b *awsBase) setCallTimeout(field string, d time.Duration) error {
	t, err := callTimeoutOr(field, d)
	if err != nil {
		return err
	}
	b.callTimeout = t
	return nil
}

// cwOpt bounds each attempt of a CloudWatch call by CallTimeout.
func (b awsBase) cwOpt(o *cloudwatch.Options) { o.HTTPClient = b.bound(o.HTTPClient) }

// ddbOpt bounds each attempt of a DynamoDB call by CallTimeout.
func (b awsBase) ddbOpt(o *dynamodb.Options) { o.HTTPClient = b.bound(o.HTTPClient) }
