package fake

import (
	"hash/fnv"
	"math"
)

// rng is splitmix64: tiny, fast, allocation-free and stable across Go
// versions and processes, which is what makes the simulated traffic
// reproducible for a seed and independent of query order.
type rng struct{ s uint64 }

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG seeds a generator for one (seed, stream, index) triple.
func newRNG(seed, stream, index uint64) rng {
	return rng{s: mix64(mix64(seed^0x9e3779b97f4a7c15) ^ mix64(stream+0x632be59bd9b4e019) ^ mix64(index*0xd1b54a32d192ed03+1))}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// normal returns a standard normal draw (Box–Muller).
func (r *rng) normal() float64 {
	u1 := 1 - r.float() // (0, 1]
	u2 := r.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// binomial draws from Binomial(n, p). Exact by geometric waiting times for
// n·min(p,1−p) up to 1000 (expected cost O(n·p)), a rounded normal
// approximation beyond.
func binomial(r *rng, n int64, p float64) int64 {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - binomial(r, n, 1-p)
	}
	mean := float64(n) * p
	if mean > 1000 {
		x := math.Round(mean + math.Sqrt(mean*(1-p))*r.normal())
		return int64(math.Max(0, math.Min(float64(n), x)))
	}
	lq := math.Log1p(-p)
	var x, trials int64
	for {
		g := math.Floor(math.Log(1-r.float())/lq) + 1
		if g > float64(n-trials) {
			return x
		}
		trials += int64(g)
		x++
	}
}

// hashName is a stable 64-bit hash of a name.
func hashName(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
