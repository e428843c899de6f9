package health

import (
	"context"
	"errors"
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
	// providers.MetricRequests. The default is errors and slow requests
	// (providers.MetricErrors, providers.MetricSlow) — of those, the ones
	// the source answers when it is a providers.MetricFeed (an ALB source
	// without a slow-request expression compares errors only). A metric a
	// feed does not answer is an error of NewJudge; one a plain source
	// does not answer (an error wrapping providers.ErrUnsupportedMetric)
	// fails the judge closed at its first evaluation, without retries.
	// With m metrics each fail test runs at α/m, so that α bounds the
	// chance of failing a healthy canary on any of them; the judge passes
	// finally only when every metric shows non-inferiority.
	Metrics []string
	// WarmUp is ignored traffic: the comparison starts WarmUp after the
	// first evaluation (after Reset). ≥ 0.
	WarmUp time.Duration
	// NoData says what to do while an arm has no request data, a metric
	// has no data points while requests do, or an arm's data have
	// stalled: NoDataPending (the default; the stage's deadline fails
	// closed), NoDataFail, or NoDataZero (count a missing failure metric
	// as zero; requests are still required, and a stall is still Pending).
	NoData NoData
	// Retry bounds the retries of a source that errors.
	Retry Retry
	// Inconclusive says what the judge answers when the comparison has
	// not concluded — MinRequests canary requests seen on complete data
	// of both arms, no regression shown, non-inferiority not shown yet —
	// while the stage it judges is past the end of its bake.
	// InconclusivePass (the default) keeps it Pending, so the runner
	// extends the bake, until the stage's deadline, and then passes (not
	// finally): the deadline is the comparison's fixed horizon, as for a
	// fixed-sample test, while a regression still fails the canary the
	// moment its evidence reaches 1/α. InconclusiveFail keeps it Pending,
	// so the deadline fails closed. InconclusivePassAtBake passes at the
	// end of the bake without extending it. Missing or stalled data are
	// never inconclusive: they stay Pending and fail closed. The judge
	// learns the bake and the deadline from the runner
	// (cutover.BakeTimingFrom); evaluated outside a runner it stays
	// Pending.
	Inconclusive Inconclusive
	// PassInconclusive is the former spelling of Inconclusive:
	// InconclusivePassAtBake, except that the judge passes as soon as the
	// comparison is inconclusive.
	PassInconclusive bool
	// StallAfter is how far an arm's settled data (see
	// providers.MetricFeed) may trail the clock before the judge reports
	// that arm's data stalled. ≥ 0; zero means the feed's lag plus two
	// resolutions plus a minute. Only for sources that are MetricFeeds.
	StallAfter time.Duration
	// Expect is the traffic the judge expects, from which it estimates
	// how long its evidence takes (Plan.Analyze reports it). The zero
	// value makes no estimate.
	Expect Expectation
	// Clock defaults to cutover.RealClock.
	Clock cutover.Clock
}

// Inconclusive is what the judge answers when its comparison has not
// concluded by the end of the stage's bake. See JudgeOptions.Inconclusive.
type Inconclusive int

// The Inconclusive policies.
const (
	// InconclusivePass, the zero value: Pending until the stage's
	// deadline, then a Pass that is not final.
	InconclusivePass Inconclusive = iota
	// InconclusiveFail: Pending, so the stage's deadline fails closed.
	InconclusiveFail
	// InconclusivePassAtBake: a Pass that is not final, so the stage
	// passes at the end of its bake.
	InconclusivePassAtBake
)

type judgeMetric struct {
	name string
	test *Sequential
}

type judge struct {
	src              providers.MetricSource
	feed             providers.MetricFeed // src, if it is one
	info             providers.FeedInfo
	baseline, canary string
	opts             JudgeOptions
	metrics          []judgeMetric
	start            time.Time
	final            *cutover.Verdict
	restated         int // restatements seen since Reset
}

// NewJudge returns the sequential baseline-versus-canary judge: a gate that
// reads, from the start of the bake, the requests and failures of both
// targets and fails the canary as soon as the evidence of a regression
// beyond the tolerance reaches 1/α, passes it (finally, so the bake can
// end early) as soon as the evidence that it is within the margin reaches
// 1/α, and is Pending otherwise. An incident that raises both arms alike
// leaves the comparison unchanged.
//
// When src is a providers.MetricFeed, both arms are judged over the same
// complete window, [start, the earlier of the two arms' Settled): an arm
// published late delays the decision instead of skewing it, counts a
// source restates are taken as corrections, and an arm whose data stop
// arriving makes the judge Pending with a reason naming it — failing
// closed at the deadline, never passing. A plain MetricSource is read
// over [start, now). The gate is a cutover.Comparative: strategies refuse
// it where the baseline takes no traffic. See docs/judge.md.
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
	g := &judge{src: src, baseline: baseline, canary: canary}
	if f, ok := src.(providers.MetricFeed); ok {
		g.feed, g.info = f, f.FeedInfo()
		if g.info.Resolution <= 0 || g.info.Lag < 0 {
			return nil, fmt.Errorf("%s: the source's FeedInfo: Resolution %v, Lag %v: want Resolution > 0 and Lag ≥ 0", what, g.info.Resolution, g.info.Lag)
		}
		if !g.info.Supports(providers.MetricRequests) {
			return nil, fmt.Errorf("%s: the source does not answer %q, which the judge needs", what, providers.MetricRequests)
		}
	}
	if len(opts.Metrics) == 0 {
		for _, m := range []string{providers.MetricErrors, providers.MetricSlow} {
			if g.feed == nil || g.info.Supports(m) {
				opts.Metrics = append(opts.Metrics, m)
			}
		}
		if len(opts.Metrics) == 0 {
			return nil, fmt.Errorf("%s: Metrics: the source answers neither %q nor %q; set Metrics to failure counts it answers (%s)",
				what, providers.MetricErrors, providers.MetricSlow, strings.Join(g.info.Metrics, ", "))
		}
	}
	seen := map[string]bool{}
	for i, m := range opts.Metrics {
		if m == "" || m == providers.MetricRequests || seen[m] {
			return nil, fmt.Errorf("%s: Metrics[%d] %q: want a distinct, non-empty failure count other than %q", what, i, m, providers.MetricRequests)
		}
		if g.feed != nil && !g.info.Supports(m) {
			return nil, fmt.Errorf("%s: Metrics[%d] %q: the source does not answer it; want one of %s", what, i, m, strings.Join(g.info.Metrics, ", "))
		}
		seen[m] = true
	}
	if err := checkDuration(what, "WarmUp", opts.WarmUp); err != nil {
		return nil, err
	}
	if err := checkDuration(what, "StallAfter", opts.StallAfter); err != nil {
		return nil, err
	}
	if opts.StallAfter == 0 {
		opts.StallAfter = g.info.Lag + 2*g.info.Resolution + time.Minute
	}
	if opts.NoData, err = opts.NoData.or(what, NoDataPending); err != nil {
		return nil, err
	}
	switch opts.Inconclusive {
	case InconclusivePass, InconclusiveFail, InconclusivePassAtBake:
	default:
		return nil, fmt.Errorf("%s: Inconclusive %d: want InconclusivePass, InconclusiveFail or InconclusivePassAtBake", what, opts.Inconclusive)
	}
	if opts.Expect, err = opts.Expect.normalize(what); err != nil {
		return nil, err
	}
	if opts.Retry, err = opts.Retry.normalize(what); err != nil {
		return nil, err
	}
	opts.Clock = clockOr(opts.Clock)
	g.opts = opts
	failAlpha := so.Alpha / float64(len(opts.Metrics))
	for _, m := range opts.Metrics {
		g.metrics = append(g.metrics, judgeMetric{name: m, test: newSequential(so, failAlpha, so.Alpha)})
	}
	return g, nil
}

var _ cutover.Comparative = (*judge)(nil)

// Name returns the gate's name.
func (g *judge) Name() string {
	if g.opts.Name != "" {
		return g.opts.Name
	}
	return "judge " + g.canary + " vs " + g.baseline
}

// Compares returns the baseline and the canary.
func (g *judge) Compares() (baseline, canary string) { return g.baseline, g.canary }

// Reset starts a new comparison at the next evaluation.
func (g *judge) Reset() {
	g.start, g.final, g.restated = time.Time{}, nil, 0
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
		if g.feed != nil { // whole data points of the new traffic only
			g.start = ceilTime(g.start, g.info.Resolution)
		}
	}
	if !now.After(g.start) {
		reason := "comparison started: counting requests from now on"
		if g.start.After(now) {
			reason = fmt.Sprintf("warming up: the comparison starts in %v", g.start.Sub(now).Round(time.Second))
		}
		return cutover.Verdict{Decision: cutover.Pending, Reason: reason}, nil
	}
	end, stall, bad, err := g.window(ctx, now)
	if err != nil || bad != nil {
		return g.settle(bad, err)
	}
	if !end.After(g.start) {
		if stall != "" {
			return g.noData(stall)
		}
		return cutover.Verdict{Decision: cutover.Pending, Reason: fmt.Sprintf("waiting for data after %s to be complete for both arms (published %v after each %v)",
			g.start.Format(time.TimeOnly), g.info.Lag, g.info.Resolution)}, nil
	}
	span := end.Sub(g.start)
	read := func(target, metric string) (providers.MetricValue, *cutover.Verdict, error) {
		q := providers.MetricQuery{Target: target, Metric: metric, Start: g.start, End: end}
		v, n, err := fetchMetric(ctx, g.src, q, g.opts.Retry, g.opts.Clock)
		if ctx.Err() != nil {
			return v, nil, context.Cause(ctx)
		}
		if errors.Is(err, providers.ErrUnsupportedMetric) {
			bad := failClosed(cutover.Verdict{Final: true, Reason: fmt.Sprintf("%s cannot compare: %v; set JudgeOptions.Metrics to failure counts the source answers",
				g.Name(), err)})
			g.final = &bad
			return v, &bad, nil
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
			return g.noData(fmt.Sprintf("no request data for %s over the %v from %s; check that it receives traffic", a.target, span.Round(time.Second), g.start.Format(time.TimeOnly)))
		}
	}
	figures := map[string]float64{
		"canary_requests": arms[0].req.Value, "baseline_requests": arms[1].req.Value, "elapsed_s": span.Seconds(),
	}
	if g.feed != nil {
		figures["data_lag_s"] = now.Sub(end).Seconds()
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
				return g.noData(fmt.Sprintf("no %s data for %s over the %v from %s while it served %.0f requests; check that it reports %s",
					m.name, a.target, span.Round(time.Second), g.start.Format(time.TimeOnly), a.req.Value, m.name))
			}
			if f.Points == 0 {
				f.Value = 0
			}
			counts[i] = Counts{Failures: int64(math.Round(f.Value)), Requests: int64(math.Round(a.req.Value))}
		}
		ev, err := m.test.Observe(counts[0], counts[1])
		if errors.Is(err, errRestated) {
			// Counts of the complete window went down: the source
			// restated them. The evidence is a function of the totals,
			// so the corrected totals are judged as they are.
			g.restated++
			ev, err = m.test.correct(counts[0], counts[1])
		}
		if err != nil {
			// A plain source publishes metrics separately and late (more
			// errors than requests for a moment); wait for consistent
			// counts. The deadline fails closed if they never come.
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
	if g.restated > 0 {
		figures["restated"] = float64(g.restated)
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
	case stall != "":
		v, _ := g.noData(stall + "; judged so far: " + strings.Join(append(pendings, passes...), "; "))
		v.Figures = withFigure(figures, "stalled", 1)
		return v, nil
	case !short && g.inconclusivePass(ctx, now):
		return cutover.Verdict{Decision: cutover.Pass, Figures: withFigure(figures, "inconclusive", 1),
			Reason: fmt.Sprintf("no regression shown after %v, and no conclusion by the end of the stage (%s); passing on the fixed horizon: %s",
				span.Round(time.Second), g.horizonName(), strings.Join(append(pendings, passes...), "; "))}, nil
	default:
		return cutover.Verdict{Decision: cutover.Pending, Figures: figures,
			Reason: fmt.Sprintf("not enough evidence after %v: %s", span.Round(time.Second), strings.Join(append(pendings, passes...), "; "))}, nil
	}
	g.final = &v
	return v, nil
}

// inconclusivePass reports whether an inconclusive comparison passes now.
func (g *judge) inconclusivePass(ctx context.Context, now time.Time) bool {
	if g.opts.PassInconclusive {
		return true
	}
	t, ok := cutover.BakeTimingFrom(ctx)
	if !ok {
		return false
	}
	switch g.opts.Inconclusive {
	case InconclusivePass:
		return !t.Deadline.IsZero() && !now.Before(t.Deadline)
	case InconclusivePassAtBake:
		return !now.Before(t.BakeEnd)
	}
	return false
}

func (g *judge) horizonName() string {
	if g.opts.PassInconclusive || g.opts.Inconclusive == InconclusivePassAtBake {
		return "its bake"
	}
	return "its deadline"
}

// window returns the end of the window both arms are judged over: now for
// a plain source; for a feed, the earlier of the arms' settled times, and
// a reason naming any arm whose data have stalled.
func (g *judge) window(ctx context.Context, now time.Time) (end time.Time, stall string, bad *cutover.Verdict, err error) {
	if g.feed == nil {
		return now, "", nil, nil
	}
	end = now
	settled := make([]time.Time, 2)
	for i, t := range []string{g.canary, g.baseline} {
		at, bad, err := fetch(ctx, g.opts.Retry, g.opts.Clock, g.Name(), func(ctx context.Context) (time.Time, error) {
			return g.feed.Settled(ctx, t)
		})
		if bad != nil || err != nil {
			return end, "", bad, err
		}
		settled[i] = at
		if settled[i].Before(end) {
			end = settled[i]
		}
	}
	var stalled []string
	for i, t := range []string{g.canary, g.baseline} {
		if now.Sub(settled[i]) > g.opts.StallAfter {
			since := "ever"
			if !settled[i].IsZero() {
				since = settled[i].Format(time.TimeOnly)
			}
			stalled = append(stalled, fmt.Sprintf("no data for %s since %s", t, since))
		}
	}
	if len(stalled) > 0 {
		stall = fmt.Sprintf("%s (data later than %v are stalled; the canary's are complete until %s, the baseline's until %s); judging both only as far as both are complete",
			strings.Join(stalled, " and "), g.opts.StallAfter, settled[0].Format(time.TimeOnly), settled[1].Format(time.TimeOnly))
	}
	return end, stall, nil, nil
}

// ceilTime rounds t up to a multiple of d since the Unix epoch.
func ceilTime(t time.Time, d time.Duration) time.Time {
	if f := t.Truncate(d); f.Before(t) {
		return f.Add(d)
	}
	return t
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
