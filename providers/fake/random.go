package fake

import (
	"hash/fnv"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// The simulated traffic draws from gonum's distributions (distuv.Binomial,
// distuv.Normal) over a math/rand/v2 PCG generator seeded per (seed,
// stream, index): the figures of one target's second depend only on those,
// never on the order seconds are asked in, so a seed reproduces them.

// mix64 is the finaliser of splitmix64: a bijective hash that spreads
// neighbouring indexes (seconds, call counts) over the whole seed space.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// source returns the generator of one (seed, stream, index) triple.
func source(seed, stream, index uint64) *rand.PCG {
	g := new(rand.PCG)
	reseed(g, seed, stream, index)
	return g
}

// reseed makes g the generator of one (seed, stream, index) triple, so a
// loop over seconds reuses one generator instead of allocating one each.
func reseed(g *rand.PCG, seed, stream, index uint64) {
	g.Seed(mix64(mix64(seed^0x9e3779b97f4a7c15)^mix64(stream+0x632be59bd9b4e019)), mix64(index*0xd1b54a32d192ed03+1))
}

// binomial draws from Binomial(n, p) (gonum's exact sampler); n ≤ 0 or
// p ≤ 0 draws 0 and p ≥ 1 draws n.
func binomial(src rand.Source, n int64, p float64) int64 {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	}
	return int64(distuv.Binomial{N: float64(n), P: p, Src: src}.Rand())
}

// normal draws from the standard normal distribution.
func normal(src rand.Source) float64 {
	return distuv.Normal{Mu: 0, Sigma: 1, Src: src}.Rand()
}

// uniform draws from [0, 1).
func uniform(src rand.Source) float64 { return rand.New(src).Float64() }

// hashName is a stable 64-bit hash of a name.
func hashName(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
