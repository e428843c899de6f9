package health

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// Bounds is the range a metric must stay in: Min ≤ value ≤ Max. Build it
// with AtMost, AtLeast or Between; an infinite bound is no bound.
type Bounds struct {
	Min, Max float64
}

// AtMost is the range (−∞, max].
func AtMost(max float64) Bounds { return Bounds{Min: math.Inf(-1), Max: max} }

// AtLeast is the range [min, +∞).
func AtLeast(min float64) Bounds { return Bounds{Min: min, Max: math.Inf(1)} }

// Between is the range [min, max].
func Between(min, max float64) Bounds { return Bounds{Min: min, Max: max} }

// Validate reports NaN bounds and Min > Max.
func (b Bounds) Validate() error {
	if math.IsNaN(b.Min) || math.IsNaN(b.Max) {
		return fmt.Errorf("bounds: Min %v and Max %v must be numbers", b.Min, b.Max)
	}
	if b.Min > b.Max {
		return fmt.Errorf("bounds: Min %v > Max %v; want Min ≤ Max", b.Min, b.Max)
	}
	return nil
}

// String renders the bounds as "≤ 0.01", "≥ 5" or "in [1, 2]".
func (b Bounds) String() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch {
	case math.IsInf(b.Min, -1) && math.IsInf(b.Max, 1):
		return "any value"
	case math.IsInf(b.Min, -1):
		return "≤ " + f(b.Max)
	case math.IsInf(b.Max, 1):
		return "≥ " + f(b.Min)
	}
	return "in [" + f(b.Min) + ", " + f(b.Max) + "]"
}

// ThresholdOptions configure a threshold gate. The zero value is valid.
type ThresholdOptions struct {
	// Name names the gate in reports; default "<target> <metric> <bounds>".
	Name string
	// Window is how far back each evaluation looks: [now−Window, now).
	// > 0; the zero value means 1m.
	Window time.Duration
	// Per, if set, makes the judged value the ratio Metric/Per over the
	// window, e.g. errors per request with Per = providers.MetricRequests.
	Per string
	// NoData says what to do when the window has no data points (or, with
	// Per, no denominator). Default NoDataPending.
	NoData NoData
	// Deadline, if positive, fails the gate when it has been Pending that
	// long since its first evaluation (after Reset). The stage's own
	// deadline applies too.
	Deadline time.Duration
	// Retry bounds the retries of a source that errors.
	Retry Retry
	// Clock defaults to cutover.RealClock.
	Clock cutover.Clock
}

// DefaultWindow is the window of a threshold gate whose options leave it zero.
const DefaultWindow = time.Minute

type threshold struct {
	src    providers.MetricSource
	target string
	metric string
	bounds Bounds
	opts   ThresholdOptions
	dl     deadline
}

// NewThreshold returns a gate that passes while the metric of target over
// the last Window is within bounds, and fails when it is outside them.
func NewThreshold(src providers.MetricSource, target, metric string, bounds Bounds, opts ThresholdOptions) (cutover.Gate, error) {
	const what = "threshold"
	if src == nil {
		return nil, fmt.Errorf("%s: metric source is nil", what)
	}
	if target == "" || metric == "" {
		return nil, fmt.Errorf("%s: target %q and metric %q must not be empty", what, target, metric)
	}
	if err := bounds.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if opts.Window < 0 {
		return nil, fmt.Errorf("%s: Window %v must be > 0", what, opts.Window)
	}
	if opts.Window == 0 {
		opts.Window = DefaultWindow
	}
	var err error
	if opts.NoData, err = opts.NoData.or(what, NoDataPending); err != nil {
		return nil, err
	}
	dl, err := sourceOptions(what, opts.Deadline, &opts.Retry, &opts.Clock)
	if err != nil {
		return nil, err
	}
	return &threshold{src: src, target: target, metric: metric, bounds: bounds, opts: opts, dl: dl}, nil
}

func (g *threshold) subject() string {
	if g.opts.Per != "" {
		return g.target + " " + g.metric + "/" + g.opts.Per
	}
	return g.target + " " + g.metric
}

// Name returns the gate's name.
func (g *threshold) Name() string {
	if g.opts.Name != "" {
		return g.opts.Name
	}
	return g.subject() + " " + g.bounds.String()
}

// Reset restarts the gate's deadline.
func (g *threshold) Reset() { g.dl.reset() }

// Evaluate reads the window and compares it with the bounds.
func (g *threshold) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	v, err := g.evaluate(ctx)
	if err != nil {
		return v, err
	}
	return g.dl.check(v), nil
}

func (g *threshold) evaluate(ctx context.Context) (cutover.Verdict, error) {
	end := g.opts.Clock.Now()
	q := providers.MetricQuery{Target: g.target, Metric: g.metric, Start: end.Add(-g.opts.Window), End: end}
	num, n, err := fetchMetric(ctx, g.src, q, g.opts.Retry, g.opts.Clock)
	if ctx.Err() != nil {
		return cutover.Verdict{}, context.Cause(ctx)
	}
	if err != nil {
		return sourceFailed(g.subject(), n, err), nil
	}
	value := num.Value
	figures := map[string]float64{g.metric: num.Value, "points": float64(num.Points), "window_s": g.opts.Window.Seconds()}
	noData := num.Points == 0
	if g.opts.Per != "" {
		q.Metric = g.opts.Per
		den, n, err := fetchMetric(ctx, g.src, q, g.opts.Retry, g.opts.Clock)
		if ctx.Err() != nil {
			return cutover.Verdict{}, context.Cause(ctx)
		}
		if err != nil {
			return sourceFailed(g.subject(), n, err), nil
		}
		figures[g.opts.Per] = den.Value
		if noData && g.opts.NoData == NoDataZero && den.Points > 0 {
			noData, num.Value = false, 0
		}
		if den.Points == 0 || den.Value == 0 {
			noData = true
		} else {
			value = num.Value / den.Value
		}
	} else if noData && g.opts.NoData == NoDataZero {
		noData, value = false, 0
	}
	if noData {
		v := cutover.Verdict{Decision: cutover.Pending, Figures: figures,
			Reason: fmt.Sprintf("%s: no data over the last %v; check that %s reports %s", g.subject(), g.opts.Window, g.target, g.metric)}
		if g.opts.NoData == NoDataFail {
			v = failClosed(v)
		}
		return v, nil
	}
	figures["value"] = value
	setFinite(figures, "min", g.bounds.Min)
	setFinite(figures, "max", g.bounds.Max)
	desc := fmt.Sprintf("%s %s over %v", g.subject(), strconv.FormatFloat(value, 'g', 4, 64), g.opts.Window)
	if g.opts.Per != "" {
		desc = fmt.Sprintf("%s %s (%s) over %v (%.0f %s)", g.subject(), strconv.FormatFloat(value, 'g', 4, 64), pct(value), g.opts.Window, figures[g.opts.Per], g.opts.Per)
	}
	if value < g.bounds.Min || value > g.bounds.Max {
		return cutover.Verdict{Decision: cutover.Fail, Figures: figures,
			Reason: fmt.Sprintf("%s, want %s", desc, g.bounds)}, nil
	}
	return cutover.Verdict{Decision: cutover.Pass, Figures: figures,
		Reason: fmt.Sprintf("%s, within %s", desc, g.bounds)}, nil
}
