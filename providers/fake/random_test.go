package fake

import (
	"fmt"
	"math"
	"sort"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// The cases the traffic simulation draws: a few requests, errors at 0.5 %
// of 1000 and 2000 requests a second, a bad green, slow shares above one
// half (drawn as n − Binomial(n, 1−p)), and a rate high enough for the
// normal approximation (mean above 1000).
var binomialCases = []struct {
	n int64
	p float64
}{
	{20, 0.3},
	{1000, 0.005},
	{2000, 0.03},
	{1000, 0.7},
	{200000, 0.01},
}

// draws returns k binomial draws, one generator per draw as the simulation
// seeds one per (target, second).
func draws(k int, n int64, p float64) []int64 {
	out := make([]int64, k)
	for i := range out {
		out[i] = binomial(source(7, 42, uint64(i)), n, p)
	}
	return out
}

// chiSquare returns Pearson's statistic of xs against the CDF of the
// reference, over bins of consecutive values each expected to hold at least
// 20 draws, and its degrees of freedom.
func chiSquare(xs []int64, ref distuv.Binomial) (stat float64, df int) {
	k := float64(len(xs))
	sorted := append([]int64(nil), xs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var (
		lo, hi  = -1.0, -1.0 // the bin is (lo, hi]
		bins    int
		counted int
	)
	for hi < ref.N {
		// Grow the bin until it expects 20 draws, or reaches N.
		for hi < ref.N && k*(ref.CDF(hi)-ref.CDF(lo)) < 20 {
			hi++
		}
		if hi < ref.N && k*(1-ref.CDF(hi)) < 20 {
			hi = ref.N // the rest is too thin for a bin of its own
		}
		want := k * (ref.CDF(hi) - ref.CDF(lo))
		got := sort.Search(len(sorted), func(i int) bool { return float64(sorted[i]) > hi }) - counted
		counted += got
		stat += (float64(got) - want) * (float64(got) - want) / want
		bins++
		lo = hi
	}
	return stat, bins - 1
}

// TestBinomialMatchesReference draws 20000 times, one generator per draw
// as the simulation seeds them, and compares the draws with gonum's Binomial distribution by a
// chi-square test at the 0.1 % level, and its mean and variance. The same
// test against a distribution 10 % off must fail, so it can tell.
func TestBinomialMatchesReference(t *testing.T) {
	t.Parallel()
	const k = 20000
	for _, c := range binomialCases {
		t.Run(fmt.Sprintf("n=%d,p=%g", c.n, c.p), func(t *testing.T) {
			t.Parallel()
			xs := draws(k, c.n, c.p)
			ref := distuv.Binomial{N: float64(c.n), P: c.p}
			stat, df := chiSquare(xs, ref)
			limit := distuv.ChiSquared{K: float64(df)}.Quantile(0.999)
			if stat > limit {
				t.Errorf("chi-square %.1f over %d degrees of freedom, above the 0.1%% limit %.1f", stat, df, limit)
			}
			var sum, sq float64
			for _, x := range xs {
				sum += float64(x)
			}
			mean := sum / k
			for _, x := range xs {
				sq += (float64(x) - mean) * (float64(x) - mean)
			}
			variance := sq / (k - 1)
			// The mean of k draws is within 4 standard errors; the sample
			// variance within 10 % (k = 20000 puts its error near 1 %).
			if se := math.Sqrt(ref.Variance() / k); math.Abs(mean-ref.Mean()) > 4*se {
				t.Errorf("mean %.3f, want %.3f ± %.3f", mean, ref.Mean(), 4*se)
			}
			if math.Abs(variance/ref.Variance()-1) > 0.1 {
				t.Errorf("variance %.3f, want %.3f ± 10%%", variance, ref.Variance())
			}
			off := distuv.Binomial{N: float64(c.n), P: c.p * 1.1}
			if c.p > 0.5 {
				off.P = 1 - (1-c.p)*1.1
			}
			if stat, df := chiSquare(xs, off); stat <= (distuv.ChiSquared{K: float64(df)}).Quantile(0.999) {
				t.Errorf("the test cannot tell p=%g from p=%g (chi-square %.1f over %d)", c.p, off.P, stat, df)
			}
		})
	}
}

// TestNormalMatchesReference compares 20000 draws of the normal sampler,
// one generator per draw, with gonum's standard normal by a Kolmogorov–Smirnov test at the
// 0.1 % level; a normal shifted by a tenth of a standard deviation must
// fail it.
func TestNormalMatchesReference(t *testing.T) {
	t.Parallel()
	const k = 20000
	xs := make([]float64, k)
	for i := range xs {
		xs[i] = normal(source(7, 43, uint64(i)))
	}
	sort.Float64s(xs)
	ks := func(cdf func(float64) float64) float64 {
		var d float64
		for i, x := range xs {
			f := cdf(x)
			d = math.Max(d, math.Max(float64(i+1)/k-f, f-float64(i)/k))
		}
		return d
	}
	limit := 1.95 / math.Sqrt(k) // the Kolmogorov distribution's 0.1 % point
	if d := ks(distuv.UnitNormal.CDF); d > limit {
		t.Errorf("Kolmogorov–Smirnov distance %.4f from the standard normal, above %.4f", d, limit)
	}
	shifted := distuv.Normal{Mu: 0.1, Sigma: 1}
	if d := ks(shifted.CDF); d <= limit {
		t.Errorf("the test cannot tell the draws from N(0.1, 1): distance %.4f", d)
	}
}

// BenchmarkDraws measures one second of one target's traffic: two
// binomial draws (errors, slow requests) and a normal one (latency) from
// a fresh generator, as Cloud.walk makes them.
func BenchmarkDraws(b *testing.B) {
	for _, c := range binomialCases {
		b.Run(fmt.Sprintf("n=%d,p=%g", c.n, c.p), func(b *testing.B) {
			var sink float64
			i := uint64(0)
			for b.Loop() {
				g := source(1, 2, i)
				sink += float64(binomial(g, c.n, c.p)+binomial(g, c.n, c.p/10)) + normal(g)
				i++
			}
			_ = sink
		})
	}
}
