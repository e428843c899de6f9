package fake

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// The operations the cloud records in Calls and matches in Faults.
const (
	OpSetWeights   = "SetWeights"
	OpWeights      = "Weights"
	OpSwitch       = "Switch"
	OpActive       = "Active"
	OpSetDesired   = "SetDesired"
	OpCapacity     = "Capacity"
	OpMetric       = "Metric"
	OpAlarms       = "Alarms"
	OpTargetHealth = "TargetHealth"
)

// Defaults used where Options leave a field zero.
const (
	DefaultSeed             = 1
	DefaultRate             = 1000 // requests per second of a new router or switcher
	DefaultLatencyObjective = 250 * time.Millisecond
	DefaultMaxCalls         = 10000
	DefaultMetricCache      = 6 * time.Hour
)

// DefaultProfile is the profile of a target nobody set one for, unless
// Options.Profile says otherwise: 0.5 % errors, a median of 50 ms and a
// lognormal σ of 0.5 (p99 ≈ 160 ms).
var DefaultProfile = Profile{ErrorRate: 0.005, LatencyMedian: 50 * time.Millisecond, LatencySigma: 0.5}

// Options configure a Cloud. The zero value is valid; New rejects a
// field out of range (Validate) rather than clamping it.
type Options struct {
	// Seed makes the simulated traffic and the share faults reproducible.
	// Zero means DefaultSeed.
	Seed int64
	// Clock drives traffic, warm-ups, alarms and added latency. Nil means
	// cutover.RealClock (which runs on fake time inside testing/synctest);
	// pass a *cutover.ScaledClock to run an hour in seconds.
	Clock cutover.Clock
	// Logger receives one debug line per call. Nil means zap.NewNop().
	Logger *zap.Logger
	// Rate is the request rate, per second, of new routers and switchers.
	// Zero means DefaultRate.
	Rate float64
	// Profile is the error rate and latency of targets without a profile of
	// their own. The zero value means DefaultProfile.
	Profile Profile
	// LatencyObjective is the latency above which a request counts as slow
	// (providers.MetricSlow). Zero means DefaultLatencyObjective.
	LatencyObjective time.Duration
	// WarmUp is how long a new fleet member takes to become healthy. Zero
	// means at once.
	WarmUp time.Duration
	// MaxCalls is how many call records Calls keeps (the latest). Zero
	// means DefaultMaxCalls; negative keeps none (CallCount still counts).
	MaxCalls int
	// MetricCache bounds how many seconds of per-second traffic each
	// target keeps cached for fast metric queries; older seconds are
	// recomputed on demand (same values, slower). Zero means
	// DefaultMetricCache.
	MetricCache time.Duration
	// MetricResolution is the width of a data point: Metric counts whole
	// points and Points counts points with traffic. Zero means one second;
	// a minute makes the cloud's metrics look like CloudWatch's. Whole
	// seconds only.
	MetricResolution time.Duration
	// MetricLag is how long after a data point ends it is published (see
	// Settled); DelayMetrics adds to it per target. Zero means at once.
	MetricLag time.Duration
}

// Validate reports the first field of o that is out of range, as
// "fake.Options.FIELD: VALUE: want RANGE", wrapping ErrInvalid. The zero
// value is valid: every zero field means its default.
func (o Options) Validate() error {
	switch {
	case !(o.Rate >= 0) || math.IsInf(o.Rate, 0):
		return optionError("Rate", o.Rate, "requests per second, finite and ≥ 0; 0 means DefaultRate (1000)")
	case o.LatencyObjective < 0:
		return optionError("LatencyObjective", o.LatencyObjective, "a duration ≥ 0; 0 means DefaultLatencyObjective (250ms)")
	case o.WarmUp < 0:
		return optionError("WarmUp", o.WarmUp, "a duration ≥ 0; 0 means healthy at once")
	case o.MetricCache < 0:
		return optionError("MetricCache", o.MetricCache, "a duration ≥ 0; 0 means DefaultMetricCache (6h)")
	case o.MetricResolution < 0 || o.MetricResolution%time.Second != 0:
		return optionError("MetricResolution", o.MetricResolution, "whole seconds ≥ 0; 0 means one second")
	case o.MetricLag < 0:
		return optionError("MetricLag", o.MetricLag, "a duration ≥ 0; 0 means published at once")
	}
	if o.Profile != (Profile{}) {
		if err := o.Profile.Validate(); err != nil {
			return fmt.Errorf("fake.Options.Profile: %w", err)
		}
	}
	return nil
}

// optionError is the error of Validate for one field.
func optionError(field string, value any, want string) error {
	return fmt.Errorf("fake.Options.%s: %v: want %s: %w", field, value, want, ErrInvalid)
}

// withDefaults fills the zero fields of valid options.
func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Clock == nil {
		o.Clock = cutover.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Profile == (Profile{}) {
		o.Profile = DefaultProfile
	}
	if o.LatencyObjective == 0 {
		o.LatencyObjective = DefaultLatencyObjective
	}
	if o.MaxCalls == 0 {
		o.MaxCalls = DefaultMaxCalls
	}
	if o.MetricCache == 0 {
		o.MetricCache = DefaultMetricCache
	}
	if o.MetricResolution == 0 {
		o.MetricResolution = time.Second
	}
	return o
}

// Cloud is an in-memory cloud: routers, switchers and fleets, simulated
// traffic through them, metrics, alarms and target health derived from that
// traffic, fault injection and a record of calls. It implements
// providers.MetricSource, providers.AlarmSource and
// providers.TargetHealthSource; its routers, switchers and fleets implement
// the other interfaces. Safe for concurrent use.
type Cloud struct {
	opts  Options
	clock cutover.Clock
	log   *zap.Logger
	seed  uint64

	mu        sync.RWMutex // guards the maps below (not what they point to)
	routers   map[string]*Router
	switchers map[string]*Switcher
	fleets    map[string]*Fleet
	targets   map[string]*target

	defaultProfiles []profileChange // shared by targets without a profile of their own; read-only

	alarmMu sync.Mutex
	alarms  map[string]*alarm

	faults faultSet
	calls  callLog

	saveMu    sync.Mutex
	statePath string      // Open's file, saved after every change
	persist   atomic.Bool // statePath is set
}

var (
	_ providers.MetricSource       = (*Cloud)(nil)
	_ providers.AlarmSource        = (*Cloud)(nil)
	_ providers.TargetHealthSource = (*Cloud)(nil)
)

// New returns an empty cloud, or an error naming the first field of opts
// that is out of range (see Options.Validate).
func New(opts Options) (*Cloud, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return newCloud(opts.withDefaults()), nil
}

// MustNew is New for options written in the program (tests, examples): it
// panics if they are out of range, as regexp.MustCompile does on a bad
// expression.
func MustNew(opts Options) *Cloud {
	c, err := New(opts)
	if err != nil {
		panic(err)
	}
	return c
}

// newCloud returns an empty cloud with valid, defaulted options.
func newCloud(opts Options) *Cloud {
	c := &Cloud{
		opts:      opts,
		clock:     opts.Clock,
		log:       opts.Logger,
		seed:      uint64(opts.Seed),
		routers:   map[string]*Router{},
		switchers: map[string]*Switcher{},
		fleets:    map[string]*Fleet{},
		targets:   map[string]*target{},
		alarms:    map[string]*alarm{},
	}
	c.calls.max = opts.MaxCalls
	c.defaultProfiles = []profileChange{newProfileChange(time.Time{}, opts.Profile, opts.LatencyObjective)}
	c.defaultProfiles[0].from = math.MinInt64
	return c
}

// Now returns the cloud's clock time.
func (c *Cloud) Now() time.Time { return c.clock.Now() }

// Clock returns the cloud's clock.
func (c *Cloud) Clock() cutover.Clock { return c.clock }

// call runs one operation: it checks ctx, applies matching faults (added
// latency, an error before or after the effect), runs fn, records the call
// and wraps any error in *Error.
func (c *Cloud) call(ctx context.Context, op, resource string, args func() string, fn func() error) error {
	err := c.run(ctx, op, resource, fn)
	if err != nil {
		err = &Error{Op: op, Resource: resource, Err: err}
	}
	c.record(op, resource, args, err)
	return err
}

func (c *Cloud) run(ctx context.Context, op, resource string, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	f := c.faults.match(c.seed, op, resource)
	if f.delay > 0 {
		select {
		case <-c.clock.After(f.delay):
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if f.err != nil && !f.afterEffect {
		return f.err
	}
	if err := fn(); err != nil {
		return err
	}
	return f.err
}
