package health

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"

	"github.com/safecutover/safecutover/cutover"
)

// SequentialOptions configure the statistical core of the sequential judge.
// The zero value is valid. See docs/judge.md for the derivation.
type SequentialOptions struct {
	// Alpha bounds both error probabilities: a canary no worse than
	// (1+Tolerance)× the baseline is failed with probability at most Alpha,
	// and a canary at least (1+Margin)× worse is passed with probability at
	// most Alpha, however often the counts are looked at. In (0, 0.5);
	// default 0.01.
	Alpha float64
	// Tolerance is the relative increase of the canary's failure rate over
	// the baseline's that is tolerated: the test fails the canary only on
	// evidence that its rate exceeds (1+Tolerance)× the baseline's. ≥ 0;
	// default 0 (any increase the evidence shows fails).
	Tolerance float64
	// Margin is the non-inferiority margin: the test passes the canary
	// early, and finally, on evidence that its rate is below (1+Margin)× the
	// baseline's. Must exceed Tolerance; the zero value means Tolerance+0.5.
	Margin float64
	// MinRequests is how many canary requests must have been seen before
	// the test decides anything. ≥ 0; the zero value means 100.
	MinRequests int64
	// PriorStrength is the weight, in failures, of the mixing distribution
	// over the canary's share of failures (a Beta distribution centred on
	// "no difference"). > 0; the zero value means 10. Larger values favour
	// small regressions and make large ones slower to detect.
	PriorStrength float64
}

// The defaults of SequentialOptions.
const (
	DefaultAlpha         = 0.01
	DefaultMarginOver    = 0.5
	DefaultMinRequests   = 100
	DefaultPriorStrength = 10
)

// Counts are cumulative counts of one arm since the comparison started:
// requests, and the failures among them (errors, or requests slower than an
// objective).
type Counts struct {
	Failures int64
	Requests int64
}

// Evidence is the state of a sequential comparison after some counts.
type Evidence struct {
	// Decision is Fail when the evidence of a regression beyond the
	// tolerance reached 1/α, Pass when the evidence of non-inferiority
	// (within the margin) reached 1/α, and Pending otherwise. Once Pass or
	// Fail, it stays so until Reset.
	Decision cutover.Decision
	// LogFail and LogPass are the logarithms of the two test martingales
	// (e-values): the evidence against "no worse than 1+Tolerance" and
	// against "at least 1+Margin worse". They are compared with
	// LogFailThreshold and LogPassThreshold: ln(1/α), or for the judge's
	// fail tests ln(m/α) with m metrics.
	LogFail, LogPass float64
	LogFailThreshold float64
	LogPassThreshold float64
	// Canary and Baseline are the counts judged.
	Canary, Baseline Counts
	// Ratio is the observed ratio of the canary's failure rate to the
	// baseline's (NaN when the baseline has no failures).
	Ratio float64
}

// Sequential is the statistical core of the baseline-versus-canary judge: a
// pair of anytime-valid mixture likelihood-ratio tests on the canary's share
// of failures. Feed it cumulative counts with Observe, as often as you like;
// the first time a test crosses its threshold the decision is latched.
//
// A Sequential is not safe for concurrent use.
type Sequential struct {
	opts               SequentialOptions
	logFailT, logPassT float64
	decided            Evidence
	done               bool
	last               [2]Counts // the counts of the last Observe since Reset
}

// NewSequential validates opts, fills in defaults and returns a test.
func NewSequential(opts SequentialOptions) (*Sequential, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	return newSequential(o, o.Alpha, o.Alpha), nil
}

func newSequential(o SequentialOptions, failAlpha, passAlpha float64) *Sequential {
	return &Sequential{opts: o, logFailT: math.Log(1 / failAlpha), logPassT: math.Log(1 / passAlpha)}
}

func (o SequentialOptions) normalize() (SequentialOptions, error) {
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if !(o.Alpha > 0 && o.Alpha < 0.5) {
		return o, fmt.Errorf("health: Alpha %v outside (0, 0.5)", o.Alpha)
	}
	if !(o.Tolerance >= 0) || math.IsInf(o.Tolerance, 0) {
		return o, fmt.Errorf("health: Tolerance %v must be ≥ 0 and finite", o.Tolerance)
	}
	if o.Margin == 0 {
		o.Margin = o.Tolerance + DefaultMarginOver
	}
	if !(o.Margin > o.Tolerance) || math.IsInf(o.Margin, 0) {
		return o, fmt.Errorf("health: Margin %v must be finite and greater than Tolerance %v", o.Margin, o.Tolerance)
	}
	if o.MinRequests == 0 {
		o.MinRequests = DefaultMinRequests
	}
	if o.MinRequests < 0 {
		return o, fmt.Errorf("health: MinRequests %d must be ≥ 0", o.MinRequests)
	}
	if o.PriorStrength == 0 {
		o.PriorStrength = DefaultPriorStrength
	}
	if !(o.PriorStrength > 0) || math.IsInf(o.PriorStrength, 0) {
		return o, fmt.Errorf("health: PriorStrength %v must be > 0 and finite", o.PriorStrength)
	}
	return o, nil
}

// Options returns the options in force, defaults filled in.
func (s *Sequential) Options() SequentialOptions { return s.opts }

// Reset forgets a latched decision.
func (s *Sequential) Reset() {
	s.done = false
	s.decided = Evidence{}
	s.last = [2]Counts{}
}

// ErrBadCounts is returned by Observe for counts that cannot be: negative,
// more failures than requests, or lower than the counts of an earlier call
// since Reset.
var ErrBadCounts = errors.New("bad counts")

// Observe judges the cumulative counts of both arms since the comparison
// started. Counts must not decrease between calls (they are cumulative):
// lower counts (a source that restated its data) return ErrBadCounts and
// are not judged. The split of traffic between the arms should be steady; see
// docs/judge.md. After a Pass or Fail, Observe returns that evidence again
// without looking at the new counts.
func (s *Sequential) Observe(canary, baseline Counts) (Evidence, error) {
	return s.observe(canary, baseline, false)
}

// errRestated marks the ErrBadCounts of counts lower than before.
var errRestated = errors.New("counts restated")

// correct is Observe for counts that replace, rather than extend, the
// counts seen before (a source restated them): it accepts lower counts.
// The evidence is a function of the totals, so the corrected totals are
// judged as they are.
func (s *Sequential) correct(canary, baseline Counts) (Evidence, error) {
	return s.observe(canary, baseline, true)
}

func (s *Sequential) observe(canary, baseline Counts, restated bool) (Evidence, error) {
	for _, c := range []struct {
		arm string
		c   Counts
	}{{"canary", canary}, {"baseline", baseline}} {
		if c.c.Failures < 0 || c.c.Requests < 0 || c.c.Failures > c.c.Requests {
			return Evidence{}, fmt.Errorf("%s: %d failures among %d requests: %w", c.arm, c.c.Failures, c.c.Requests, ErrBadCounts)
		}
	}
	if s.done {
		return s.decided, nil
	}
	for i, c := range [2]Counts{canary, baseline} {
		if l := s.last[i]; !restated && (c.Failures < l.Failures || c.Requests < l.Requests) {
			return Evidence{}, fmt.Errorf("%s: %d failures among %d requests, fewer than the %d among %d seen before: %w: %w",
				[2]string{"canary", "baseline"}[i], c.Failures, c.Requests, l.Failures, l.Requests, ErrBadCounts, errRestated)
		}
	}
	s.last = [2]Counts{canary, baseline}
	ev := Evidence{
		Canary: canary, Baseline: baseline,
		LogFailThreshold: s.logFailT, LogPassThreshold: s.logPassT,
		Ratio: math.NaN(),
	}
	if baseline.Failures > 0 && canary.Requests > 0 && baseline.Requests > 0 {
		ev.Ratio = (float64(canary.Failures) / float64(canary.Requests)) /
			(float64(baseline.Failures) / float64(baseline.Requests))
	}
	if canary.Requests < s.opts.MinRequests || canary.Requests == 0 || baseline.Requests == 0 {
		return ev, nil
	}
	ev.LogFail, ev.LogPass = s.logEvidence(canary, baseline)
	switch {
	case ev.LogFail >= s.logFailT:
		ev.Decision = cutover.Fail
	case ev.LogPass >= s.logPassT:
		ev.Decision = cutover.Pass
	}
	if ev.Decision != cutover.Pending {
		s.done, s.decided = true, ev
	}
	return ev, nil
}

// share returns the canary's share of failures when its rate is ratio× the
// baseline's, given the share s of requests it receives.
func share(s, ratio float64) float64 { return ratio * s / (ratio*s + 1 - s) }

// logEvidence returns the log mixture likelihood ratios of the fail test
// (null: share ≤ θf, mixing over (θf, 1)) and of the pass test (null:
// share ≥ θp, mixing over (0, θp)), with a Beta(cθ₀, c(1−θ₀)) mixing
// distribution centred on the share θ₀ of "no difference".
func (s *Sequential) logEvidence(canary, baseline Counts) (logFail, logPass float64) {
	return s.logEvidenceF(float64(canary.Requests), float64(baseline.Requests), float64(canary.Failures), float64(baseline.Failures))
}

// logEvidenceF is logEvidence on counts that need not be whole (expected
// counts, for estimates).
func (s *Sequential) logEvidenceF(canaryRequests, baselineRequests, x, y float64) (logFail, logPass float64) {
	s0 := canaryRequests / (canaryRequests + baselineRequests)
	thF := share(s0, 1+s.opts.Tolerance)
	thP := share(s0, 1+s.opts.Margin)
	c := s.opts.PriorStrength
	a0, b0 := c*s0, c*(1-s0)
	a, b := a0+x, b0+y
	lb := mathext.Lbeta(a, b) - mathext.Lbeta(a0, b0)
	// Upper tails use the symmetry 1 − I_x(a, b) = I_{1−x}(b, a), which
	// keeps small tails accurate.
	logFail = lb + math.Log(mathext.RegIncBeta(b, a, 1-thF)) - math.Log(mathext.RegIncBeta(b0, a0, 1-thF)) -
		x*math.Log(thF) - y*math.Log1p(-thF)
	logPass = lb + math.Log(mathext.RegIncBeta(a, b, thP)) - math.Log(mathext.RegIncBeta(a0, b0, thP)) -
		x*math.Log(thP) - y*math.Log1p(-thP)
	return logFail, logPass
}
