package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
)

// The end-to-end benchmark: health.NewJudge, as a gate, evaluated by a
// direct simulation of the runner's bake loop (an evaluation every poll
// interval on a simulated clock, with the bake's timing in the context,
// stopping at a Fail or a final Pass, passing an inconclusive comparison
// at the deadline), reading a providers.MetricFeed that publishes each
// trial's per-second counts at a resolution and a lag.

const (
	e2ePoll     = 10 // seconds: the runner's default PollInterval
	e2eHorizon  = horizon
	stallAfterS = 60 // the stall profile: the canary's data stop after its first minute
)

// A profile is how the data reach the judge.
type profile struct {
	name     string
	res      int  // seconds per data point
	lag      int  // seconds from a point's end to its publication
	skew     bool // one arm (drawn per trial) 5–60 s later than the other
	stall    bool // the canary's data stop after stallAfterS
	incident bool // a shared incident in the healthy case
}

var profiles = []profile{
	{name: "persecond", res: 1},
	{name: "minute", res: 60, lag: 60},
	{name: "skew", res: 60, lag: 60, skew: true, incident: true},
	{name: "stall", res: 60, lag: 60, stall: true},
	{name: "incident", res: 60, lag: 60, incident: true},
}

// simData is one trial's cumulative counts by second (lazily drawn).
type simData struct {
	rng              *rand.Rand
	canary, baseline func(t int) float64
	nc, nb           int64
	cum              [2][]int64 // cumulative errors of canary, baseline after second i
}

func (d *simData) upto(s int) {
	for len(d.cum[0]) < s {
		t := len(d.cum[0])
		var prev [2]int64
		if t > 0 {
			prev = [2]int64{d.cum[0][t-1], d.cum[1][t-1]}
		}
		d.cum[0] = append(d.cum[0], prev[0]+poisson(d.rng, float64(d.nc)*d.canary(t)))
		d.cum[1] = append(d.cum[1], prev[1]+poisson(d.rng, float64(d.nb)*d.baseline(t)))
	}
}

// errorsIn returns the errors of arm (0 canary, 1 baseline) in seconds [a, b).
func (d *simData) errorsIn(arm, a, b int) int64 {
	if b <= a {
		return 0
	}
	d.upto(b)
	v := d.cum[arm][b-1]
	if a > 0 {
		v -= d.cum[arm][a-1]
	}
	return v
}

// poisson draws a Poisson variate by inversion (means up to a few dozen):
// the binomial counts of a second, whose failure rates are small.
func poisson(r *rand.Rand, mean float64) int64 {
	if mean <= 0 {
		return 0
	}
	l, k, p := math.Exp(-mean), int64(0), 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// simFeed is the MetricFeed of one trial; now is the simulated second.
type simFeed struct {
	d     *simData
	p     profile
	extra [2]int // extra lag of canary, baseline
	now   int
}

func (f *simFeed) arm(target string) int {
	if target == "green" {
		return 0
	}
	return 1
}

func (f *simFeed) settled(arm int) int {
	s := f.now - f.p.lag - f.extra[arm]
	s -= ((s % f.p.res) + f.p.res) % f.p.res
	if arm == 0 && f.p.stall {
		s = min(s, stallAfterS)
	}
	return max(s, 0)
}

func (f *simFeed) FeedInfo() providers.FeedInfo {
	return providers.FeedInfo{Resolution: time.Duration(f.p.res) * time.Second, Lag: time.Duration(f.p.lag) * time.Second,
		Metrics: []string{providers.MetricRequests, providers.MetricErrors}}
}

func (f *simFeed) Settled(_ context.Context, target string) (time.Time, error) {
	return t0.Add(time.Duration(f.settled(f.arm(target))) * time.Second), nil
}

func (f *simFeed) Metric(_ context.Context, q providers.MetricQuery) (providers.MetricValue, error) {
	arm := f.arm(q.Target)
	a := int(math.Ceil(q.Start.Sub(t0).Seconds()))
	b := min(int(q.End.Sub(t0).Seconds()), f.settled(arm))
	a += (f.p.res - a%f.p.res) % f.p.res
	b -= b % f.p.res
	if b <= a {
		return providers.MetricValue{}, nil
	}
	v := providers.MetricValue{Points: (b - a) / f.p.res}
	switch q.Metric {
	case providers.MetricRequests:
		n := f.d.nc
		if arm == 1 {
			n = f.d.nb
		}
		v.Value = float64(n * int64(b-a))
	case providers.MetricErrors:
		v.Value = float64(f.d.errorsIn(arm, a, b))
	default:
		return v, fmt.Errorf("metric %s: %w", q.Metric, providers.ErrUnsupportedMetric)
	}
	return v, nil
}

// simClock reads the feed's simulated second.
type simClock struct{ f *simFeed }

func (c simClock) Now() time.Time { return t0.Add(time.Duration(c.f.now) * time.Second) }
func (c simClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// The comparators' settings swept.
var (
	thresholds = []float64{0.0075, 0.01, 0.015}
	limits     = []int{0, 1, 2, 3}
	mwLevels   = []float64{0.0001, 0.001, 0.01}
)

// e2eOutcome is one trial: when each gate aborted (0: never) and when the
// judge promoted (a final Pass, or an inconclusive pass at the deadline).
type e2eOutcome struct {
	judgeAbort, judgePromote int
	judgeFailClosed          bool // Pending at the deadline (a stall)
	threshold                []int
	mw                       []int
}

func e2eTrial(cfg config, p profile, bad bool, src rand.Source) e2eOutcome {
	r := rand.New(src)
	base := constant(baseRate)
	if p.incident && !bad {
		base = incident
	}
	can := base
	if bad {
		can = constant(2 * baseRate)
	}
	nc := int64(math.Round(float64(cfg.rps) * canaryShare))
	d := &simData{rng: r, canary: can, baseline: base, nc: nc, nb: int64(cfg.rps) - nc}
	f := &simFeed{d: d, p: p}
	if p.skew {
		f.extra[r.IntN(2)] = 5 + r.IntN(56)
	}
	out := e2eOutcome{threshold: make([]int, len(thresholds)*len(limits)), mw: make([]int, len(mwLevels))}

	// The judge, polled as the runner polls it.
	opts := health.JudgeOptions{SequentialOptions: cfg.judge, Metrics: []string{providers.MetricErrors}, Clock: simClock{f}}
	g, err := health.NewJudge(f, "blue", "green", opts)
	if err != nil {
		panic(err) // options validated in run
	}
	timing := cutover.BakeTiming{Applied: t0, MinBakeEnd: t0, BakeEnd: t0.Add(e2eHorizon * time.Second), Deadline: t0.Add(e2eHorizon * time.Second)}
	ctx := cutover.WithBakeTiming(context.Background(), timing)
	for f.now = 0; f.now <= e2eHorizon; f.now += e2ePoll {
		v, err := g.Evaluate(ctx)
		if err != nil {
			panic(err)
		}
		if v.Decision == cutover.Fail {
			out.judgeAbort = max(f.now, 1)
			break
		}
		if v.Decision == cutover.Pass && (v.Final || f.now >= e2eHorizon) {
			out.judgePromote = max(f.now, 1)
			break
		}
		if f.now >= e2eHorizon {
			out.judgeFailClosed = true
		}
	}

	// The comparators look once a minute at what is published by then.
	var fails = make([]int, len(out.threshold))
	var cb, bb []float64
	seen := 0 // canary minutes judged
	for now := 60; now <= e2eHorizon; now += 60 {
		f.now = now
		sc, sb := f.settled(0), f.settled(1)
		for ; (seen+1)*60 <= sc; seen++ {
			a := seen * 60
			rate := float64(d.errorsIn(0, a, a+60)) / float64(60*d.nc)
			for ti, th := range thresholds {
				for li, lim := range limits {
					k := ti*len(limits) + li
					if out.threshold[k] == 0 && rate > th {
						if fails[k]++; fails[k] > lim {
							out.threshold[k] = now
						}
					}
				}
			}
		}
		// Mann-Whitney over the minutes both arms have published.
		both := min(sc, sb) / 60
		for len(cb) < both {
			a := len(cb) * 60
			cb = append(cb, float64(d.errorsIn(0, a, a+60))/float64(60*d.nc))
			bb = append(bb, float64(d.errorsIn(1, a, a+60))/float64(60*d.nb))
		}
		if len(cb) >= 3 {
			pv := mannWhitneyGreater(cb, bb)
			for i, lvl := range mwLevels {
				if out.mw[i] == 0 && pv < lvl {
					out.mw[i] = now
				}
			}
		}
	}
	return out
}

func e2eSimulate(cfg config, pi int, bad bool, n int) []e2eOutcome {
	out := make([]e2eOutcome, n)
	var wg sync.WaitGroup
	next := make(chan int)
	tag := uint64(pi)<<41 | 1<<40
	if bad {
		tag |= 1 << 39
	}
	for range cfg.workers {
		wg.Go(func() {
			for i := range next {
				out[i] = e2eTrial(cfg, profiles[pi], bad, rand.NewPCG(cfg.seed, tag|uint64(i)))
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// rateOf is the share of outcomes with at>0; median and mean of at over
// all (never: the horizon, for the mean; +Inf for the median if fewer
// than half).
func rateOf(outs []e2eOutcome, at func(e2eOutcome) int) (rate, median, mean float64) {
	xs := make([]float64, len(outs))
	var sum float64
	for i, o := range outs {
		t := at(o)
		xs[i] = math.Inf(1)
		if t > 0 {
			rate++
			xs[i] = float64(t)
			sum += float64(t)
		} else {
			sum += e2eHorizon
		}
	}
	slices.Sort(xs)
	return rate / float64(len(outs)), quantile(xs, 0.5), sum / float64(len(outs))
}

// best returns the fastest setting (lowest 2x median) whose false aborts
// on healthy stay ≤ 1 %, by index, or -1.
func best(healthy, bad []e2eOutcome, n int, at func(o e2eOutcome, k int) int) (k int, falseAbort, median float64) {
	k, median = -1, math.Inf(1)
	for i := range n {
		fa, _, _ := rateOf(healthy, func(o e2eOutcome) int { return at(o, i) })
		_, med, _ := rateOf(bad, func(o e2eOutcome) int { return at(o, i) })
		if fa <= 0.01 && (k < 0 || med < median) {
			k, falseAbort, median = i, fa, med
		}
	}
	return k, falseAbort, median
}

func runEndToEnd(w io.Writer, cfg config, jo health.SequentialOptions) error {
	fmt.Fprintf(w, "end to end: health.NewJudge polled every %ds by a direct simulation of the runner's bake loop (simulated clock), reading a metric feed;\n", e2ePoll)
	fmt.Fprintf(w, "traffic: %d req/s, %.0f%% canary, baseline error rate %.1f%%, bake and deadline %ds, errors only, per-second Poisson draws\n",
		cfg.rps, canaryShare*100, baseRate*100, e2eHorizon)
	fmt.Fprintf(w, "judge: alpha=%g tolerance=%g margin=%g min_requests=%d prior_strength=%g; trials: %d healthy, %d 2x per profile; seed %d\n",
		jo.Alpha, jo.Tolerance, jo.Margin, jo.MinRequests, jo.PriorStrength, cfg.healthyTrials, cfg.badTrials, cfg.seed)
	fmt.Fprintln(w, "profiles: persecond (1s points, no lag), minute (1m points published 60s late), skew (minute, one arm 5-60s later, shared incident),")
	fmt.Fprintln(w, "stall (minute, the canary's data stop after 60s), incident (minute, shared incident 3% from 120s to 420s in the healthy case)")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-10s %-34s %11s %11s %11s %11s\n", "profile", "gate (best fair setting)", "false_abort", "detect_2x", "median_2x_s", "promote_s")
	fmt.Fprintln(w, strings.Repeat("-", 93))
	type res struct{ judgeFA, judgeMed, judgeMean, judgeDetect, bestThr float64 }
	results := make([]res, len(profiles))
	promotedStalled := 0
	for pi, p := range profiles {
		h := e2eSimulate(cfg, pi, false, cfg.healthyTrials)
		b := e2eSimulate(cfg, pi, true, cfg.badTrials)
		fa, _, _ := rateOf(h, func(o e2eOutcome) int { return o.judgeAbort })
		det, med, mean := rateOf(b, func(o e2eOutcome) int { return o.judgeAbort })
		_, prom, _ := rateOf(h, func(o e2eOutcome) int { return o.judgePromote })
		fc, _, _ := rateOf(h, func(o e2eOutcome) int {
			if o.judgeFailClosed {
				return 1
			}
			return 0
		})
		if p.stall {
			for _, o := range b {
				if o.judgePromote > 0 {
					promotedStalled++
				}
			}
		}
		results[pi] = res{judgeFA: fa, judgeMed: med, judgeMean: mean, judgeDetect: det}
		fmt.Fprintf(w, "%-10s %-34s %11.4f %11.4f %11s %11s\n", p.name, "sequential judge", fa, det, fmtSeconds(med), fmtSeconds(prom))
		if fc > 0 {
			fmt.Fprintf(w, "%-10s %-34s healthy canaries failed closed at the deadline (data stalled): %.4f\n", "", "", fc)
		}
		k, tfa, tmed := best(h, b, len(thresholds)*len(limits), func(o e2eOutcome, k int) int { return o.threshold[k] })
		name := "threshold: none keeps false aborts ≤1%"
		if k >= 0 {
			name = fmt.Sprintf("threshold >%.2f%%/1m limit=%d", 100*thresholds[k/len(limits)], limits[k%len(limits)])
			tdet, _, _ := rateOf(b, func(o e2eOutcome) int { return o.threshold[k] })
			fmt.Fprintf(w, "%-10s %-34s %11.4f %11.4f %11s %11s\n", "", name, tfa, tdet, fmtSeconds(tmed), "-")
		} else {
			fmt.Fprintf(w, "%-10s %-34s\n", "", name)
		}
		results[pi].bestThr = tmed
		k, mfa, mmed := best(h, b, len(mwLevels), func(o e2eOutcome, k int) int { return o.mw[k] })
		if k >= 0 {
			mdet, _, _ := rateOf(b, func(o e2eOutcome) int { return o.mw[k] })
			fmt.Fprintf(w, "%-10s %-34s %11.4f %11.4f %11s %11s\n", "", fmt.Sprintf("mann-whitney every 1m p<%g", mwLevels[k]), mfa, mdet, fmtSeconds(mmed), "-")
		} else {
			fmt.Fprintf(w, "%-10s %-34s\n", "", "mann-whitney: none keeps false aborts ≤1%")
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "false_abort: healthy trials failed on evidence; detect_2x: 2x trials failed within the bake; median_2x_s: median time to fail a 2x canary")
	fmt.Fprintln(w, "from the start of the bake (>1800: fewer than half); promote_s: median time to promote a healthy canary (final pass, or the deadline).")
	fmt.Fprintln(w, "Comparators at their best fair setting: the fastest of thresholds 0.75/1/1.5% x failureLimit 0-3, and of Mann-Whitney levels")
	fmt.Fprintln(w, "0.0001/0.001/0.01 run at every minute, whose false aborts stay <= 1% in that profile.")
	fmt.Fprintln(w)

	idx := func(name string) int {
		return slices.IndexFunc(profiles, func(p profile) bool { return p.name == name })
	}
	worst := 0.0
	for i, p := range profiles {
		if !p.skew {
			worst = math.Max(worst, results[i].judgeFA)
		}
	}
	ps := results[idx("persecond")]
	kl := perSecondKL(float64(cfg.rps), 2*baseRate, baseRate, jo.Tolerance)
	bound := waldBound(jo.Alpha, 1-ps.judgeDetect, kl)
	fmt.Fprintf(w, "wald: per-second 2x: lower bound on E[N] %.1f s; judge mean end to end (polled every %ds) %.1f s\n", bound, e2ePoll, ps.judgeMean)
	fmt.Fprintln(w)
	mi := results[idx("minute")]
	fmt.Fprintf(w, "summary: profiles=%d worst_false_abort=%.4f worst_false_abort_skew=%.4f promoted_2x_stalled=%d detect_2x_minute_s=%s speedup_2x_vs_best_threshold_minute=%s detect_2x_persecond_s=%s wald_ratio_end_to_end=%.2f\n",
		len(profiles), worst, results[idx("skew")].judgeFA, promotedStalled, fmtSeconds(mi.judgeMed),
		fmtRatio(mi.bestThr, mi.judgeMed), fmtSeconds(ps.judgeMed), ps.judgeMean/bound)
	return nil
}
