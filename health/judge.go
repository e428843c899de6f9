package health

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// JudgeOptions configure the sequential judge. The zero value is valid.
type JudgeOptions struct {
	// SequentialOptions are the statistical parameters: α, the tolerated
	// relative increase, the non-inferiority margin and the minimum sample.
	SequentialOptions
	// Name names the gate in reports; default "judge <canary> vs <baseline>".
	Name string
	// Metrics are the failure counts compared, each against
	// providers.MetricRequests; default errors and slow requests
	// (providers.MetricErrors, providers.MetricSlow). With m metrics each
	// fail test runs at α/m, so that α bounds the chance of failing a
	// healthy canary on any of them; the judge passes only when every
	// metric shows non-inferiority.
	Metrics []string
	// WarmUp is ignored traffic: the comparison starts WarmUp after the
	// first evaluation (after Reset). ≥ 0.
	WarmUp time.Duration
	// NoData says what to do while an arm has no request data, or a metric
	// has no data points while requests do: NoDataPending (the default;
	// the stage's deadline fails closed), NoDataFail, or NoDataZero (count
	// a missing failure metric as zero; requests are still required).
	NoData NoData
	// Retry bounds the retries of a source that errors.
	Retry Retry
	// PassInconclusive makes an inconclusive comparison — MinRequests
	// canary requests seen, no regression shown, non-inferiority not shown
	// yet — a Pass that is not final, instead of Pending. The stage then
	// bakes for its full time and passes: its bake becomes the judge's
	// fixed horizon, while a regression still fails the canary as soon as
	// its evidence reaches 1/α and non-inferiority still ends the bake
	// early. Use it for low-traffic services and for failure metrics that
	// may stay at zero on both arms (healthy services often serve minutes
	// without a 5xx), where the comparison cannot conclude within a bake and
	// the default Pending would fail closed at the stage's deadline.
	PassInconclusive bool
	// Clock defaults to cutover.RealClock.
	Clock cutover.Clock
}

type judgeMetric struct {
	name string
	test *Sequential
}

type judge struct {
	src              providers.MetricSource
	baseline, canary string
	opts             JudgeOptions
	metrics          []judgeMetric
	start            time.Time
	final            *cutover.Verdict
}

// NewJudge returns the sequential baseline-versus-canary judge: a gate that
// reads, from the start of the bake, the requests and failures of both
// targets and fails the canary as soon as the evidence of a regression
// beyond the tolerance reaches 1/α, passes it (finally, so the bake can
// end early) as soon as the evidence that it is within the margin reaches
// 1/α, and is Pending otherwise. An incident that raises both arms alike
// leaves the comparison unchanged. See docs/judge.md.
func NewJudge(src providers.MetricSource, baseline, canary string, opts JudgeOptions) (cutover.Gate, error) {
	const what = "judge"
	if src == nil {
		return nil, fmt.Errorf("%s: metric source is nil", what)
	}
	if baseline == "" || canary == "" || baseline == canary {
		return nil, fmt.Errorf("%s: baseline %q and canary %q must be two different targets", what, baseline, canary)
	}
	so, err := opts.SequentialOptions.normalize()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	opts.SequentialOptions = so
	if len(opts.Metrics) == 0 {
		opts.Metrics = []string{providers.MetricErrors, providers.MetricSlow}
	}
	seen := map[string]bool{}
	for i, m := range opts.Metrics {
		if m == "" || m == providers.MetricRequests || seen[m] {
			return nil, fmt.Errorf("%s: Metrics[%d] %q: want a distinct, non-empty failure count other than %q", what, i, m, providers.MetricRequests)
		}
		seen[m] = true
	}
	if err := checkDuration(what, "WarmUp", opts.WarmUp); err != nil {
		return nil, err
	}
	switch opts.NoData {
	case NoDataDefault:
		opts.NoData = NoDataPending
	case NoDataPending, NoDataFail, NoDataZero:
	default:
		return nil, fmt.Errorf("%s: NoData %d is not a NoData policy", what, opts.NoData)
	}
	if opts.Retry, err = opts.Retry.normalize(what); err != nil {
		return nil, err
	}
	opts.Clock = clockOr(opts.Clock)
	g := &judge{src: src, baseline: baseline, canary: canary, opts: opts}
	failAlpha := so.Alpha / float64(len(opts.Metrics))
	for _, m := range opts.Metrics {
		g.metrics = append(g.metrics, judgeMetric{name: m, test: newSequential(so, failAlpha, so.Alpha)})
	}
	return g, nil
}

// Name returns the gate's name.
func (g *judge) Name() string {
	if g.opts.Name != "" {
		return g.opts.Name
	}
	return "judge " + g.canary + " vs " + g.baseline
}

// Reset starts a new comparison at the next evaluation.
func (g *judge) Reset() {
	g.start, g.final = time.Time{}, nil
	for _, m := range g.metrics {
		m.test.Reset()
	}
}

// Evaluate reads the counts since the comparison started and judges them.
func (g *judge) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	if g.final != nil {
		return *g.final, nil
	}
	now := g.opts.Clock.Now()
	if g.start.IsZero() {
		g.start = now.Add(g.opts.WarmUp)
	}
	if !now.After(g.start) {
		reason := "comparison started: counting requests from now on"
		if g.start.After(now) {
			reason = fmt.Sprintf("warming up: the comparison starts in %v", g.start.Sub(now).Round(time.Second))
		}
		return cutover.Verdict{Decision: cutover.Pending, Reason: reason}, nil
	}
	span := now.Sub(g.start)
	read := func(target, metric string) (providers.MetricValue, *cutover.Verdict, error) {
		q := providers.MetricQuery{Target: target, Metric: metric, Start: g.start, End: now}
		v, n, err := fetchMetric(ctx, g.src, q, g.opts.Retry, g.opts.Clock)
		if ctx.Err() != nil {
			return v, nil, context.Cause(ctx)
		}
		if err != nil {
			bad := sourceFailed(g.Name(), n, err)
			return v, &bad, nil
		}
		return v, nil, nil
	}
	type arm struct {
		target string
		req    providers.MetricValue
	}
	arms := []*arm{{target: g.canary}, {target: g.baseline}}
	for _, a := range arms {
		var bad *cutover.Verdict
		var err error
		if a.req, bad, err = read(a.target, providers.MetricRequests); err != nil || bad != nil {
			return g.settle(bad, err)
		}
		if a.req.Points == 0 {
			return g.noData(fmt.Sprintf("no request data for %s over the last %v; check that it receives traffic", a.target, span.Round(time.Second)))
		}
	}
	figures := map[string]float64{
		"canary_requests": arms[0].req.Value, "baseline_requests": arms[1].req.Value, "elapsed_s": span.Seconds(),
	}
	var fails, pendings, passes []string
	failFinal, short := false, false
	for _, m := range g.metrics {
		var counts [2]Counts
		for i, a := range arms {
			f, bad, err := read(a.target, m.name)
			if err != nil || bad != nil {
				return g.settle(bad, err)
			}
			if f.Points == 0 && g.opts.NoData != NoDataZero {
				return g.noData(fmt.Sprintf("no %s data for %s over the last %v while it served %.0f requests; check that it reports %s",
					m.name, a.target, span.Round(time.Second), a.req.Value, m.name))
			}
			if f.Points == 0 {
				f.Value = 0
			}
			counts[i] = Counts{Failures: int64(math.Round(f.Value)), Requests: int64(math.Round(a.req.Value))}
		}
		ev, err := m.test.Observe(counts[0], counts[1])
		if err != nil {
			// Sources publish metrics separately and late (more errors
			// than requests for a moment) and may restate them (counts
			// lower than before); wait for consistent counts. The
			// deadline fails closed if they never come.
			return g.noData(fmt.Sprintf("inconsistent %s counts from the source: %v; waiting for the source to catch up", m.name, err))
		}
		desc := g.describe(m.name, ev, figures)
		switch ev.Decision {
		case cutover.Fail:
			failFinal = true
			fails = append(fails, fmt.Sprintf("%s: evidence of a regression beyond %.2f× is %.3g ≥ 1/α = %.3g",
				desc, 1+g.opts.Tolerance, math.Exp(ev.LogFail), math.Exp(ev.LogFailThreshold)))
		case cutover.Pass:
			passes = append(passes, fmt.Sprintf("%s: shown within %.2f× (evidence %.3g ≥ %.3g)",
				desc, 1+g.opts.Margin, math.Exp(ev.LogPass), math.Exp(ev.LogPassThreshold)))
		default:
			if ev.Canary.Requests < g.opts.MinRequests {
				short = true
				pendings = append(pendings, fmt.Sprintf("%s: waiting for %d canary requests", desc, g.opts.MinRequests))
				break
			}
			pendings = append(pendings, fmt.Sprintf("%s: evidence of regression %.3g, of staying within %.2f× %.3g, either needs %.3g",
				desc, math.Exp(ev.LogFail), 1+g.opts.Margin, math.Exp(ev.LogPass), math.Exp(ev.LogPassThreshold)))
		}
	}
	var v cutover.Verdict
	switch {
	case failFinal:
		v = cutover.Verdict{Decision: cutover.Fail, Final: true, Figures: figures,
			Reason: fmt.Sprintf("%s is worse than %s after %v: %s; roll back and compare its logs with %s's",
				g.canary, g.baseline, span.Round(time.Second), strings.Join(fails, "; "), g.baseline)}
	case len(passes) == len(g.metrics):
		v = cutover.Verdict{Decision: cutover.Pass, Final: true, Figures: figures,
			Reason: fmt.Sprintf("%s is no worse than %s after %v: %s", g.canary, g.baseline, span.Round(time.Second), strings.Join(passes, "; "))}
	case g.opts.PassInconclusive && !short:
		return cutover.Verdict{Decision: cutover.Pass, Figures: figures,
			Reason: fmt.Sprintf("no regression shown after %v (inconclusive, passing at the end of the bake): %s",
				span.Round(time.Second), strings.Join(append(pendings, passes...), "; "))}, nil
	default:
		return cutover.Verdict{Decision: cutover.Pending, Figures: figures,
			Reason: fmt.Sprintf("not enough evidence after %v: %s", span.Round(time.Second), strings.Join(append(pendings, passes...), "; "))}, nil
	}
	g.final = &v
	return v, nil
}

// describe renders one metric's comparison and adds its figures.
func (g *judge) describe(metric string, ev Evidence, figures map[string]float64) string {
	rate := func(c Counts) float64 {
		if c.Requests == 0 {
			return 0
		}
		return float64(c.Failures) / float64(c.Requests)
	}
	rc, rb := rate(ev.Canary), rate(ev.Baseline)
	figures[metric+".canary"] = float64(ev.Canary.Failures)
	figures[metric+".baseline"] = float64(ev.Baseline.Failures)
	figures[metric+".canary_rate"] = rc
	figures[metric+".baseline_rate"] = rb
	setFinite(figures, metric+".ratio", ev.Ratio)
	setFinite(figures, metric+".log_e_fail", ev.LogFail)
	setFinite(figures, metric+".log_e_pass", ev.LogPass)
	figures[metric+".log_threshold_fail"] = ev.LogFailThreshold
	figures[metric+".log_threshold_pass"] = ev.LogPassThreshold
	ratio := "n/a"
	if !math.IsNaN(ev.Ratio) {
		ratio = fmt.Sprintf("%.2f×", ev.Ratio)
	}
	return fmt.Sprintf("%s %s %s (%d/%d) vs %s (%d/%d), %s", metric, g.canary, pct(rc), ev.Canary.Failures, ev.Canary.Requests,
		pct(rb), ev.Baseline.Failures, ev.Baseline.Requests, ratio)
}

func (g *judge) settle(bad *cutover.Verdict, err error) (cutover.Verdict, error) {
	if err != nil {
		return cutover.Verdict{}, err
	}
	return *bad, nil
}

func (g *judge) noData(reason string) (cutover.Verdict, error) {
	v := cutover.Verdict{Decision: cutover.Pending, Reason: reason}
	if g.opts.NoData == NoDataFail {
		v = failClosed(v)
	}
	return v, nil
}
