package fake

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/safecutover/safecutover/providers"
)

// Profile is how a target serves its requests: the share that fail and a
// lognormal latency distribution.
type Profile struct {
	// ErrorRate is the probability that a request is answered with a 5xx
	// (0–1). Errors are drawn binomially per target and second.
	ErrorRate float64 `json:"error_rate"`
	// LatencyMedian is the median response time (≥ 0).
	LatencyMedian time.Duration `json:"latency_median"`
	// LatencySigma is σ of the logarithm of the response time (0–4); 0
	// makes every request take the median.
	LatencySigma float64 `json:"latency_sigma"`
}

// Validate reports an error rate outside 0–1, a negative median or a σ
// outside 0–4.
func (p Profile) Validate() error {
	switch {
	case !(p.ErrorRate >= 0 && p.ErrorRate <= 1):
		return invalid("profile: ErrorRate %g outside 0–1", p.ErrorRate)
	case p.LatencyMedian < 0:
		return invalid("profile: LatencyMedian %s is negative", p.LatencyMedian)
	case !(p.LatencySigma >= 0 && p.LatencySigma <= 4):
		return invalid("profile: LatencySigma %g outside 0–4", p.LatencySigma)
	}
	return nil
}

// profileChange is a profile in force for the seconds from `from` on.
type profileChange struct {
	at    time.Time
	from  int64 // first second it governs: ceil(at)
	p     Profile
	slowP float64 // P(latency > objective)
	mean  float64 // mean latency, seconds
	vari  float64 // variance of latency, seconds²
	mu    float64 // ln(median seconds)
}

func newProfileChange(at time.Time, p Profile, objective time.Duration) profileChange {
	m := math.Max(p.LatencyMedian.Seconds(), 1e-6)
	s := p.LatencySigma
	pc := profileChange{at: at, from: ceilSecond(at), p: p, mu: math.Log(m)}
	pc.mean = m * math.Exp(s*s/2)
	pc.vari = (math.Exp(s*s) - 1) * m * m * math.Exp(s*s)
	pc.slowP = 1 - lognormalCDF(objective.Seconds(), pc.mu, s)
	return pc
}

// lognormalCDF is P(X ≤ x) for ln X ~ N(mu, s²); s = 0 is a step at e^mu.
func lognormalCDF(x, mu, s float64) float64 {
	if x <= 0 {
		return 0
	}
	if s == 0 {
		if math.Log(x) >= mu {
			return 1
		}
		return 0
	}
	return 0.5 * math.Erfc(-(math.Log(x)-mu)/(s*math.Sqrt2))
}

// ceilSecond is the first whole second at or after t, in Unix seconds.
func ceilSecond(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// door is a router or switcher: where traffic enters. Its history of
// states is append-only and entries are never modified, so readers may
// keep a snapshot of the slice without the lock.
type door struct {
	name    string
	targets []string

	mu   sync.RWMutex
	hist []doorState
}

// doorState is the rate and weights in force from second `from` on.
type doorState struct {
	at   time.Time
	from int64
	rate float64
	w    []int // aligned with door.targets
}

// indexOf returns the index of target t, or -1. Routers have a handful of
// targets, so a scan beats a map in time and memory.
func (d *door) indexOf(t string) int {
	return slices.Index(d.targets, t)
}

func (d *door) current() doorState {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.hist[len(d.hist)-1]
}

func (d *door) snapshot() []doorState {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.hist
}

// change appends a state built from the current one by edit, at the
// clock's time (read under the lock, so a metric query that read the clock
// earlier never misses it). It reports whether anything changed.
func (d *door) change(now func() time.Time, edit func(st *doorState)) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	last := d.hist[len(d.hist)-1]
	st := doorState{rate: last.rate, w: append([]int(nil), last.w...)}
	edit(&st)
	if st.rate == last.rate && equalInts(st.w, last.w) {
		return false
	}
	st.at = now()
	if st.at.Before(last.at) { // a loaded state ahead of this clock
		st.at = last.at
	}
	st.from = ceilSecond(st.at)
	d.hist = append(d.hist, st)
	return true
}

func (d *door) weights(st doorState) providers.Weights {
	w := make(providers.Weights, len(d.targets))
	for i, t := range d.targets {
		w[t] = st.w[i]
	}
	return w
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// feed is a door sending traffic to a target (the target's index in it).
type feed struct {
	d   *door
	idx int
}

// target is where traffic lands: its profile history, the doors feeding
// it, and the cache of per-second totals.
type target struct {
	name string
	hash uint64

	mu       sync.Mutex
	feeds    []feed
	profiles []profileChange // sorted by from; profiles[0].from is math.MinInt64; read-only, replaced on change
	explicit bool            // a profile was set (saved with the state)
	ser      series          // cached running totals
	delay    feedDelay       // DelayMetrics, StallMetrics
}

// targetLocked returns the named target, creating it if needed. c.mu is
// held for writing.
func (c *Cloud) targetLocked(name string) *target {
	tg := c.targets[name]
	if tg == nil {
		tg = &target{name: name, hash: hashName(name), profiles: c.defaultProfiles}
		c.targets[name] = tg
	}
	return tg
}

func (c *Cloud) lookupTarget(name string) *target {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.targets[name]
}

// SetProfile sets target's profile from now on (until a later scheduled
// change). The target need not receive traffic yet: setting green's
// profile before the canary starts makes green bad from the moment it
// takes traffic.
func (c *Cloud) SetProfile(target string, p Profile) error {
	return c.SetProfileAt(target, time.Time{}, p)
}

// SetProfileAt sets target's profile from time at on, until the next
// change scheduled after at. A zero at means now. At may lie in the future
// (green goes bad at 10:05) or in the past (metrics already served for
// the seconds since then change).
func (c *Cloud) SetProfileAt(target string, at time.Time, p Profile) error {
	if target == "" {
		return &Error{Op: "SetProfile", Err: invalid("target: empty name")}
	}
	if err := p.Validate(); err != nil {
		return &Error{Op: "SetProfile", Resource: target, Err: err}
	}
	c.mu.Lock()
	tg := c.targetLocked(target)
	c.mu.Unlock()
	tg.mu.Lock()
	if at.IsZero() {
		at = c.clock.Now()
	}
	pc := newProfileChange(at, p, c.opts.LatencyObjective)
	tg.setProfileLocked(pc)
	tg.explicit = true
	tg.mu.Unlock()
	return c.changed()
}

func (tg *target) setProfileLocked(pc profileChange) {
	tg.profiles = slices.Clone(tg.profiles) // the first may be shared: copy on write
	i := sort.Search(len(tg.profiles), func(i int) bool { return tg.profiles[i].from >= pc.from })
	if i < len(tg.profiles) && tg.profiles[i].from == pc.from {
		tg.profiles[i] = pc
	} else {
		tg.profiles = append(tg.profiles, profileChange{})
		copy(tg.profiles[i+1:], tg.profiles[i:])
		tg.profiles[i] = pc
	}
	// Cached seconds from pc.from on were computed with the old profile.
	tg.ser.truncate(pc.from)
}

// Profile returns the profile of target in force now (Options.Profile for
// a target nobody set one for).
func (c *Cloud) Profile(target string) Profile {
	tg := c.lookupTarget(target)
	if tg == nil {
		return c.opts.Profile
	}
	now := c.clock.Now().Unix()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.profiles[tg.profileIndex(now)].p
}

// profileIndex returns the index of the profile governing second s.
func (tg *target) profileIndex(s int64) int {
	return sort.Search(len(tg.profiles), func(i int) bool { return tg.profiles[i].from > s }) - 1
}

// feedCursor walks a door's history forward, second by second.
type feedCursor struct {
	hist []doorState
	idx  int
	pos  int
}

func newFeedCursor(f feed, s int64) feedCursor {
	h := f.d.snapshot()
	pos := sort.Search(len(h), func(i int) bool { return h[i].from > s }) - 1
	return feedCursor{hist: h, idx: f.idx, pos: pos}
}

// rate returns the requests per second this feed sends in second s; s
// never decreases between calls.
func (fc *feedCursor) rate(s int64) float64 {
	for fc.pos+1 < len(fc.hist) && fc.hist[fc.pos+1].from <= s {
		fc.pos++
	}
	if fc.pos < 0 {
		return 0
	}
	st := &fc.hist[fc.pos]
	return st.rate * float64(st.w[fc.idx]) / 100
}

// origin is the first second any door fed the target (MaxInt64 if none).
// tg.mu is held.
func (tg *target) origin() int64 {
	o := int64(math.MaxInt64)
	for _, f := range tg.feeds {
		if h := f.d.snapshot(); h[0].from < o {
			o = h[0].from
		}
	}
	return o
}

// walk draws the seconds [a, b) of target from scratch — the same values
// whatever order seconds are asked in — and returns prev plus their totals,
// calling fn (if not nil) with the running totals after each second.
// tg.mu is held.
func (c *Cloud) walk(tg *target, a, b int64, prev cumEntry, fn func(cumEntry)) cumEntry {
	var buf [2]feedCursor
	cursors := buf[:0]
	for _, f := range tg.feeds {
		cursors = append(cursors, newFeedCursor(f, a))
	}
	pi := tg.profileIndex(a)
	g := new(rand.PCG)
	for s := a; s < b; s++ {
		for pi+1 < len(tg.profiles) && tg.profiles[pi+1].from <= s {
			pi++
		}
		var r float64
		for i := range cursors {
			r += cursors[i].rate(s)
		}
		if n := int64(math.Round(r)); n > 0 {
			pc := &tg.profiles[pi]
			reseed(g, c.seed, tg.hash, uint64(s))
			e := binomial(g, n, pc.p.ErrorRate)
			sl := binomial(g, n, pc.slowP)
			lat := float64(n)*pc.mean + math.Sqrt(float64(n)*pc.vari)*normal(g)
			prev.req += uint32(n)
			prev.errs += uint32(e)
			prev.slow += uint32(sl)
			prev.pts++
			prev.latUS += uint64(math.Max(0, lat)*1e6 + 0.5)
		}
		if fn != nil {
			fn(prev)
		}
	}
	return prev
}

// MaxWindow is the longest window a metric query may span, once clipped to
// the seconds since the target first had a router and before now.
const MaxWindow = 7 * 24 * time.Hour

// Metric answers a query over the simulated traffic of q.Target. Only
// whole data points (of Options.MetricResolution, one second by default)
// inside [Start, End) that have been published (see Settled) count; a data
// point with traffic is one point. Windows longer than MaxWindow are an error. Counts are sums, latencies in seconds; with no
// traffic in the window Points is 0. The target must be known (a router's
// or switcher's target, a fleet, or one given a profile).
func (c *Cloud) Metric(ctx context.Context, q providers.MetricQuery) (providers.MetricValue, error) {
	var v providers.MetricValue
	err := c.call(ctx, OpMetric, q.Target, func() string {
		return fmt.Sprintf("%s [%s, %s)", q.Metric, q.Start.Format(time.RFC3339), q.End.Format(time.RFC3339))
	}, func() (err error) {
		v, err = c.metric(q)
		return err
	})
	return v, err
}

func (c *Cloud) metric(q providers.MetricQuery) (providers.MetricValue, error) {
	switch q.Metric {
	case providers.MetricRequests, providers.MetricErrors, providers.MetricSlow, providers.MetricLatencyAvg, providers.MetricLatencyP99:
	default:
		return providers.MetricValue{}, fmt.Errorf("%w: %w: metric %q unknown: want one of %s, %s, %s, %s, %s", ErrInvalid, providers.ErrUnsupportedMetric, q.Metric,
			providers.MetricRequests, providers.MetricErrors, providers.MetricSlow, providers.MetricLatencyAvg, providers.MetricLatencyP99)
	}
	switch {
	case q.Target == "":
		return providers.MetricValue{}, invalid("metric query: empty target")
	case q.Start.IsZero() || q.End.IsZero():
		return providers.MetricValue{}, invalid("metric query: zero Start or End")
	case !q.End.After(q.Start):
		return providers.MetricValue{}, invalid("metric query: End %s not after Start %s", q.End.Format(time.RFC3339Nano), q.Start.Format(time.RFC3339Nano))
	}
	tg := c.lookupTarget(q.Target)
	if tg == nil {
		return providers.MetricValue{}, notFound("target", q.Target)
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	// Whole data points inside [Start, End) that have been published.
	res := int64(c.opts.MetricResolution / time.Second)
	a, b := ceilTo(ceilSecond(q.Start), res), floorTo(min(ceilSecond(q.End), c.settledLocked(tg)), res)
	if o := floorTo(tg.origin(), res); a < o {
		a = o
	}
	if a >= b {
		return providers.MetricValue{}, nil
	}
	if b-a > maxWindowSeconds {
		return providers.MetricValue{}, invalid("metric query: window of %s with traffic is longer than %s", time.Duration(b-a)*time.Second, MaxWindow)
	}
	t := c.totals(tg, a, b)
	v := providers.MetricValue{Points: c.points(tg, a, b)}
	if t.pts == 0 {
		return v, nil
	}
	switch q.Metric {
	case providers.MetricRequests:
		v.Value = float64(t.req)
	case providers.MetricErrors:
		v.Value = float64(t.errs)
	case providers.MetricSlow:
		v.Value = float64(t.slow)
	case providers.MetricLatencyAvg:
		v.Value = float64(t.latUS) / 1e6 / float64(t.req)
	case providers.MetricLatencyP99:
		v.Value = c.quantileLocked(tg, a, b, 0.99)
	}
	return v, nil
}

// quantileLocked returns the q-quantile of latency over seconds [a, b): the
// quantile of the mixture of the profiles in force, weighted by the
// requests each served.
func (c *Cloud) quantileLocked(tg *target, a, b int64, q float64) float64 {
	type comp struct {
		w, mu, s float64
	}
	var comps []comp
	var total float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, pc := range tg.profiles {
		from, to := max(a, pc.from), b
		if i+1 < len(tg.profiles) {
			to = min(b, tg.profiles[i+1].from)
		}
		if from >= to {
			continue
		}
		n := float64(c.totals(tg, from, to).req)
		if n == 0 {
			continue
		}
		comps = append(comps, comp{n, pc.mu, pc.p.LatencySigma})
		total += n
		lo = math.Min(lo, pc.mu-9*pc.p.LatencySigma-1)
		hi = math.Max(hi, pc.mu+9*pc.p.LatencySigma+1)
	}
	switch {
	case total == 0:
		return 0
	case len(comps) == 1 && comps[0].s > 0:
		return math.Exp(comps[0].mu + comps[0].s*math.Sqrt2*math.Erfinv(2*q-1))
	}
	for range 60 { // bisection on ln(latency), to about 1e-16 of the range
		mid := (lo + hi) / 2
		var f float64
		for _, k := range comps {
			switch {
			case k.s > 0:
				f += k.w * 0.5 * math.Erfc(-(mid-k.mu)/(k.s*math.Sqrt2))
			case mid >= k.mu:
				f += k.w
			}
		}
		if f >= q*total {
			hi = mid
		} else {
			lo = mid
		}
	}
	return math.Exp(hi)
}

// RequestCounts counts the requests each target served in [start, end)
// (providers.RequestCounter), in one call of OpMetric per target.
func (c *Cloud) RequestCounts(ctx context.Context, targets []string, start, end time.Time) (map[string]providers.MetricValue, error) {
	out := make(map[string]providers.MetricValue, len(targets))
	for _, t := range targets {
		v, err := c.Metric(ctx, providers.MetricQuery{Target: t, Metric: providers.MetricRequests, Start: start, End: end})
		if err != nil {
			return nil, err
		}
		out[t] = v
	}
	return out, nil
}

var _ providers.RequestCounter = (*Cloud)(nil)
