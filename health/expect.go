package health

import (
	"fmt"
	"math"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// Expectation is the traffic a judge expects, from which it estimates how
// long its evidence takes (cutover.Comparative's ExpectEvidence, which
// Plan.Analyze reports for every stage). The zero value makes no estimate.
type Expectation struct {
	// RequestRate is the requests per second both arms serve together.
	// ≥ 0; zero means unknown (no estimate).
	RequestRate float64
	// FailureRate is the baseline's expected failure rate on every metric
	// the judge compares (the share of requests that are errors, or
	// slow), 0–1; zero means 0.005.
	FailureRate float64
	// Regression is the relative failure rate of a bad canary the
	// estimate is for, > 1+Tolerance; zero means 2 (twice the baseline's).
	Regression float64
}

// The defaults of Expectation.
const (
	DefaultExpectedFailureRate = 0.005
	DefaultExpectedRegression  = 2
)

func (e Expectation) normalize(what string) (Expectation, error) {
	if !(e.RequestRate >= 0) || math.IsInf(e.RequestRate, 0) {
		return e, fmt.Errorf("%s: Expect.RequestRate %v: want ≥ 0 requests per second (0: unknown)", what, e.RequestRate)
	}
	if e.FailureRate == 0 {
		e.FailureRate = DefaultExpectedFailureRate
	}
	if !(e.FailureRate > 0 && e.FailureRate < 1) {
		return e, fmt.Errorf("%s: Expect.FailureRate %v: want 0–1 (0: %v)", what, e.FailureRate, DefaultExpectedFailureRate)
	}
	if e.Regression == 0 {
		e.Regression = DefaultExpectedRegression
	}
	if !(e.Regression > 1) || math.IsInf(e.Regression, 0) {
		return e, fmt.Errorf("%s: Expect.Regression %v: want > 1 (0: %v)", what, e.Regression, DefaultExpectedRegression)
	}
	return e, nil
}

// ExpectEvidence estimates how long the judge takes to decide when the
// canary receives share of Expect.RequestRate: the time at which its own
// evidence, computed on the expected counts, crosses its thresholds — to
// fail a canary at Expect.Regression× the baseline's failure rate, and to
// pass a healthy one — plus the source's resolution and lag. On the
// expected counts the evidence is about its median, so about half of the
// cutovers decide sooner. ok is false without an expected request rate or
// for a share outside (0, 1).
func (g *judge) ExpectEvidence(share float64) (cutover.EvidenceEstimate, bool) {
	e := g.opts.Expect
	if e.RequestRate <= 0 || !(share > 0 && share < 1) {
		return cutover.EvidenceEstimate{}, false
	}
	nc, nb := e.RequestRate*share, e.RequestRate*(1-share)
	test := g.metrics[0].test
	delay := g.info.Resolution + g.info.Lag + g.opts.WarmUp
	minT := float64(g.opts.MinRequests) / nc
	fail := test.timeTo(nc, nb, e.FailureRate, e.Regression, true, minT)
	pass := test.timeTo(nc, nb, e.FailureRate, 1, false, minT)
	add := func(d time.Duration) time.Duration {
		if d == cutover.Never {
			return d
		}
		return d + delay
	}
	return cutover.EvidenceEstimate{
		Fail: add(fail), Pass: add(pass),
		Basis: fmt.Sprintf("at %s of %s req/s, %s failures, a %.2f× regression", pctShare(share), trimFloat(e.RequestRate), pct(e.FailureRate), e.Regression),
	}, true
}

// timeTo returns the first time at which the evidence, on the expected
// counts of a canary at ratio× the baseline's failure rate q, crosses the
// fail (fail true) or the pass threshold; cutover.Never beyond a week.
func (s *Sequential) timeTo(nc, nb, q, ratio float64, fail bool, minT float64) time.Duration {
	crossed := func(t float64) bool {
		if t < minT {
			return false
		}
		lf, lp := s.logEvidenceF(nc*t, nb*t, nc*t*min(1, ratio*q), nb*t*q)
		if fail {
			return lf >= s.logFailT
		}
		return lp >= s.logPassT
	}
	const week = 7 * 24 * 3600.0
	hi := math.Max(1, minT)
	for !crossed(hi) {
		if hi > week {
			return cutover.Never
		}
		hi *= 2
	}
	lo := 0.0
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if crossed(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Duration(math.Ceil(hi)) * time.Second
}

func pctShare(s float64) string { return trimFloat(100*s) + "%" }

func trimFloat(x float64) string { return fmt.Sprintf("%.4g", x) }
