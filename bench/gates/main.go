package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
)

const (
	horizon      = 1800 // seconds
	reqPerSecond = 1000
	canaryShare  = 0.10
	baseRate     = 0.005
	window       = 60 // seconds, for the threshold gate and the buckets
)

// A scenario gives the error rate of each arm at second t.
type scenario struct {
	name     string
	healthy  bool // a canary that should not be aborted
	bad      bool // counted as a bad case (1,000 trials)
	canary   func(t int) float64
	baseline func(t int) float64
}

func constant(p float64) func(int) float64 { return func(int) float64 { return p } }

// The shared incident: both arms at 3 % from minute 2 to minute 7.
const incidentStart, incidentEnd = 120, 420

func incident(t int) float64 {
	if t >= incidentStart && t < incidentEnd {
		return 0.03
	}
	return baseRate
}

func warmup(t int) float64 {
	if t < 60 {
		return 0.03
	}
	return baseRate
}

var scenarios = []scenario{
	{name: "healthy", healthy: true, canary: constant(baseRate), baseline: constant(baseRate)},
	{name: "2x", bad: true, canary: constant(2 * baseRate), baseline: constant(baseRate)},
	{name: "4x", bad: true, canary: constant(4 * baseRate), baseline: constant(baseRate)},
	{name: "10x", bad: true, canary: constant(10 * baseRate), baseline: constant(baseRate)},
	{name: "incident", healthy: true, canary: incident, baseline: incident},
	{name: "warmup", canary: warmup, baseline: constant(baseRate)},
}

// The gates compared.
const (
	gateThreshold0 = iota // Argo-style: canary error rate < 1 % per minute, failure limit 0
	gateThreshold3        // the same, failure limit 3
	gateFixed             // Kayenta-style Mann-Whitney on 1-minute buckets at 30 minutes
	gateJudge             // the sequential judge
	nGates
)

var gateNames = [nGates]string{
	"A threshold<1%/1m limit=0",
	"A threshold<1%/1m limit=3",
	"B fixed-horizon Mann-Whitney",
	"C sequential judge",
}

// outcome of one gate in one trial.
type outcome struct {
	abortAt int // seconds; 0 = never aborted within the horizon
	passAt  int // seconds to a final Pass; 0 = none
}

type config struct {
	healthyTrials, badTrials int
	workers                  int
	seed                     uint64
	judge                    health.SequentialOptions
	rps                      int // requests a second, both arms (end to end)
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gates:", err)
		os.Exit(2)
	}
}

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("gates", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "fewer trials (1,000 healthy, 200 per bad case); false-abort figures are then too coarse to meet 1%")
	direct := fs.Bool("direct", false, "feed exact per-second counts to health.Sequential directly (the earlier table) instead of the end-to-end run")
	healthy := fs.Int("healthy", 10000, "trials per healthy case (healthy, incident)")
	bad := fs.Int("bad", 1000, "trials per other case (2x, 4x, 10x, warmup)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "goroutines simulating trials")
	seed := fs.Uint64("seed", 1, "random seed")
	alpha := fs.Float64("alpha", 0, "judge: α (0 means the default)")
	tol := fs.Float64("tolerance", 0, "judge: tolerated relative increase")
	margin := fs.Float64("margin", 0, "judge: non-inferiority margin (0 means the default)")
	prior := fs.Float64("prior", 0, "judge: prior strength (0 means the default)")
	rps := fs.Int("rps", reqPerSecond, "end to end: requests a second over both arms, ≥ 10 (the canary gets 10 %)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := config{healthyTrials: *healthy, badTrials: *bad, workers: *workers, seed: *seed, rps: *rps,
		judge: health.SequentialOptions{Alpha: *alpha, Tolerance: *tol, Margin: *margin, PriorStrength: *prior}}
	if *quick {
		cfg.healthyTrials, cfg.badTrials = 1000, 200
	}
	if cfg.healthyTrials <= 0 || cfg.badTrials <= 0 {
		return fmt.Errorf("-healthy and -bad must be > 0")
	}
	if cfg.rps < 10 {
		return fmt.Errorf("-rps %d: want ≥ 10 (the canary's 10 %% must be at least one request a second)", cfg.rps)
	}
	if cfg.workers <= 0 {
		cfg.workers = 1
	}
	test, err := health.NewSequential(cfg.judge)
	if err != nil {
		return err
	}
	jo := test.Options()
	if !*direct {
		return runEndToEnd(w, cfg, jo)
	}
	fmt.Fprintf(w, "traffic: %d req/s, %.0f%% canary, baseline error rate %.1f%%, horizon %ds, per-second binomial draws\n",
		reqPerSecond, canaryShare*100, baseRate*100, horizon)
	fmt.Fprintf(w, "judge: alpha=%g tolerance=%g (fail only beyond %.2fx baseline) margin=%g (early pass below %.2fx) min_requests=%d prior_strength=%g\n",
		jo.Alpha, jo.Tolerance, 1+jo.Tolerance, jo.Margin, 1+jo.Margin, jo.MinRequests, jo.PriorStrength)
	fmt.Fprintf(w, "trials: %d per healthy case, %d per other case; seed %d\n\n", cfg.healthyTrials, cfg.badTrials, cfg.seed)

	results := make([][][nGates]outcome, len(scenarios))
	for i, sc := range scenarios {
		n := cfg.badTrials
		if sc.healthy {
			n = cfg.healthyTrials
		}
		results[i] = simulate(cfg, i, sc, n)
	}
	return report(w, cfg, jo, results)
}

// simulate runs n trials of scenario sc over cfg.workers goroutines.
func simulate(cfg config, idx int, sc scenario, n int) [][nGates]outcome {
	out := make([][nGates]outcome, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range cfg.workers {
		wg.Go(func() {
			for i := range next {
				out[i] = trial(cfg, sc, rand.NewPCG(cfg.seed, uint64(idx)<<40|uint64(i)))
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

// trial simulates one canary over the horizon and judges it with every gate.
func trial(cfg config, sc scenario, src rand.Source) [nGates]outcome {
	var res [nGates]outcome
	test, _ := health.NewSequential(cfg.judge) // validated in run
	nc := int64(math.Round(reqPerSecond * canaryShare))
	nb := int64(reqPerSecond) - nc
	draw := func(n int64, p float64) int64 {
		return int64(distuv.Binomial{N: float64(n), P: p, Src: src}.Rand())
	}
	var cum [2]health.Counts // canary, baseline since the start
	var win [2]int64         // errors in the current minute
	canaryBuckets := make([]float64, 0, horizon/window)
	baselineBuckets := make([]float64, 0, horizon/window)
	failures := [2]int{}
	judgeDone := false
	for t := 1; t <= horizon; t++ {
		ec := draw(nc, sc.canary(t-1))
		eb := draw(nb, sc.baseline(t-1))
		cum[0].Failures += ec
		cum[0].Requests += nc
		cum[1].Failures += eb
		cum[1].Requests += nb
		win[0] += ec
		win[1] += eb
		if !judgeDone {
			ev, _ := test.Observe(cum[0], cum[1])
			switch ev.Decision {
			case cutover.Fail:
				res[gateJudge].abortAt, judgeDone = t, true
			case cutover.Pass:
				res[gateJudge].passAt, judgeDone = t, true
			}
		}
		if t%window == 0 {
			rc := float64(win[0]) / float64(nc*window)
			canaryBuckets = append(canaryBuckets, rc)
			baselineBuckets = append(baselineBuckets, float64(win[1])/float64(nb*window))
			for k, limit := range [2]int{0, 3} {
				if res[k].abortAt != 0 {
					continue
				}
				if !(rc < 0.01) {
					failures[k]++
				}
				if failures[k] > limit {
					res[k].abortAt = t
				}
			}
			win = [2]int64{}
		}
	}
	if mannWhitneyGreater(canaryBuckets, baselineBuckets) < 0.01 {
		res[gateFixed].abortAt = horizon
	}
	return res
}

// mannWhitneyGreater returns the one-sided p-value of the Mann-Whitney U test
// that x tends to be larger than y (normal approximation with tie
// correction and continuity correction), as Kayenta's judge uses it.
func mannWhitneyGreater(x, y []float64) float64 {
	type obs struct {
		v float64
		x bool
	}
	all := make([]obs, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	n1, n2 := float64(len(x)), float64(len(y))
	n := n1 + n2
	var rx, tie float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].x {
				rx += rank
			}
		}
		tcount := float64(j - i)
		tie += tcount*tcount*tcount - tcount
		i = j
	}
	u := rx - n1*(n1+1)/2
	mean := n1 * n2 / 2
	sd := math.Sqrt(n1 * n2 / 12 * ((n + 1) - tie/(n*(n-1))))
	if sd == 0 {
		return 1
	}
	z := (u - mean - 0.5) / sd
	return distuv.UnitNormal.Survival(z)
}

// stats summarises one gate on one case.
type stats struct {
	abortRate     float64
	medianAbort   float64 // +Inf when fewer than half the trials aborted
	p95Abort      float64
	meanAbort     float64 // non-aborted trials counted at the horizon
	medianExposed float64
	medianPass    float64 // +Inf when fewer than half passed early
	passRate      float64
}

func summarise(outs [][nGates]outcome, g int) stats {
	n := len(outs)
	aborts := make([]float64, n)
	passes := make([]float64, n)
	var s stats
	var sum float64
	for i, o := range outs {
		aborts[i], passes[i] = math.Inf(1), math.Inf(1)
		if o[g].abortAt > 0 {
			aborts[i] = float64(o[g].abortAt)
			s.abortRate++
			sum += aborts[i]
		} else {
			sum += horizon
		}
		if o[g].passAt > 0 {
			passes[i] = float64(o[g].passAt)
			s.passRate++
		}
	}
	s.abortRate /= float64(n)
	s.passRate /= float64(n)
	s.meanAbort = sum / float64(n)
	slices.Sort(aborts)
	slices.Sort(passes)
	s.medianAbort = quantile(aborts, 0.5)
	s.p95Abort = quantile(aborts, 0.95)
	s.medianExposed = s.medianAbort * reqPerSecond * canaryShare
	s.medianPass = quantile(passes, 0.5)
	return s
}

// quantile of sorted xs (nearest rank).
func quantile(xs []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(i, 0)]
}

func fmtSeconds(v float64) string {
	if math.IsInf(v, 1) {
		return fmt.Sprintf(">%d", horizon)
	}
	return fmt.Sprintf("%.0f", v)
}

func report(w io.Writer, cfg config, jo health.SequentialOptions, results [][][nGates]outcome) error {
	fmt.Fprintf(w, "%-30s %-9s %7s %11s %9s %11s %13s\n", "gate", "case", "abort", "median_s", "p95_s", "exposed", "early_pass_s")
	fmt.Fprintln(w, strings.Repeat("-", 97))
	all := make([][nGates]stats, len(scenarios))
	for g := range nGates {
		for i, sc := range scenarios {
			s := summarise(results[i], g)
			all[i][g] = s
			pass := "-"
			if g == gateJudge {
				pass = fmtSeconds(s.medianPass)
			}
			exposed := fmt.Sprintf(">%d", int(horizon*reqPerSecond*canaryShare))
			if !math.IsInf(s.medianExposed, 1) {
				exposed = fmt.Sprintf("%.0f", s.medianExposed)
			}
			fmt.Fprintf(w, "%-30s %-9s %7.4f %11s %9s %11s %13s\n", gateNames[g], sc.name, s.abortRate,
				fmtSeconds(s.medianAbort), fmtSeconds(s.p95Abort), exposed, pass)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "abort: fraction of trials aborted within the horizon; median_s, p95_s: time to abort over all trials")
	fmt.Fprintln(w, "(>1800: fewer than that share aborted); exposed: canary requests served before the median abort;")
	fmt.Fprintln(w, "early_pass_s: median time to a final Pass (the judge only; the others cannot pass before the horizon).")
	fmt.Fprintln(w)

	idx := func(name string) int {
		return slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
	}
	two := all[idx("2x")]
	// Wald's lower bound on the expected sample size of any test that
	// fails the 2x canary with miss probability β while failing canaries at
	// the null's boundary with probability at most α.
	beta := 1 - two[gateJudge].abortRate
	kl := perSecondKL(reqPerSecond, 2*baseRate, baseRate, jo.Tolerance)
	bound := waldBound(jo.Alpha, beta, kl)
	ratio := two[gateJudge].meanAbort / bound
	fmt.Fprintf(w, "wald: 2x case: KL %.5f nats/s against the null boundary (canary %.2fx baseline); lower bound on E[N] %.1f s (alpha=%g beta=%.4f);\n",
		kl, 1+jo.Tolerance, bound, jo.Alpha, beta)
	fmt.Fprintf(w, "wald: judge mean %.1f s; ratio to the bound %.2f\n", two[gateJudge].meanAbort, ratio)
	fmt.Fprintln(w)

	h := all[idx("healthy")][gateJudge]
	inc := all[idx("incident")]
	fmt.Fprintf(w, "summary: speedup_2x_vs_threshold=%s speedup_2x_vs_fixed_horizon=%s false_abort=%.4f false_abort_incident=%.4f false_abort_incident_threshold=%.4f detect_10x_median_s=%s promote_healthy_median_s=%s\n",
		fmtRatio(two[gateThreshold3].medianAbort, two[gateJudge].medianAbort),
		fmtRatio(two[gateFixed].medianAbort, two[gateJudge].medianAbort),
		h.abortRate, inc[gateJudge].abortRate, inc[gateThreshold3].abortRate,
		fmtSeconds(all[idx("10x")][gateJudge].medianAbort), fmtSeconds(h.medianPass))
	return nil
}

func fmtRatio(a, b float64) string {
	if math.IsInf(a, 1) || math.IsInf(b, 1) || b == 0 {
		return "NaN"
	}
	return fmt.Sprintf("%.1f", a/b)
}

// binKL is the Kullback-Leibler divergence of Bernoulli(p) from Bernoulli(q).
func binKL(p, q float64) float64 {
	return p*math.Log(p/q) + (1-p)*math.Log((1-p)/(1-q))
}

// perSecondKL is the divergence, per second of traffic, of the true model
// (canary rate pc, baseline rate pb) from the closest model of the null
// boundary (canary rate (1+tol)·q, baseline q), minimised over q by golden
// section search.
func perSecondKL(rps, pc, pb, tol float64) float64 {
	nc := rps * canaryShare
	nb := rps - nc
	f := func(q float64) float64 { return nc*binKL(pc, (1+tol)*q) + nb*binKL(pb, q) }
	lo, hi := 1e-12, 1/(1+tol)-1e-12
	g := (math.Sqrt(5) - 1) / 2
	for range 200 {
		a, b := hi-g*(hi-lo), lo+g*(hi-lo)
		if f(a) < f(b) {
			hi = b
		} else {
			lo = a
		}
	}
	return f((lo + hi) / 2)
}

// waldBound is Wald's lower bound on the expected number of seconds any
// sequential test needs under the alternative, with error probabilities α
// (under the null) and β (under the alternative).
func waldBound(alpha, beta, kl float64) float64 {
	v := (1 - beta) * math.Log((1-beta)/alpha)
	if beta > 0 {
		v += beta * math.Log(beta/(1-alpha))
	}
	return v / kl
}
