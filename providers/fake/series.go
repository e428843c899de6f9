package fake

import "time"

// span is how many seconds apart a target's cached running totals are
// kept. A query needs at most span-1 seconds drawn afresh at each end of
// its window (fewer when it starts where a recent query did), and the cache
// costs 24/span bytes per second of traffic and target: 10,000 cutovers of
// two targets over an hour keep about 27 MB.
const span = 16

// cumEntry holds running totals. Counts wrap modulo 2³², which differences
// survive as long as one window holds fewer than 2³² requests.
type cumEntry struct {
	req, errs, slow, pts uint32
	latUS                uint64 // latency, microseconds
}

func (e cumEntry) minus(o cumEntry) cumEntry {
	return cumEntry{e.req - o.req, e.errs - o.errs, e.slow - o.slow, e.pts - o.pts, e.latUS - o.latUS}
}

func (e cumEntry) plus(o cumEntry) cumEntry {
	return cumEntry{e.req + o.req, e.errs + o.errs, e.slow + o.slow, e.pts + o.pts, e.latUS + o.latUS}
}

// series caches a target's running totals: checkpoints every span seconds
// from base, every second after the last checkpoint (tail), and a few
// recently asked prefixes (memo).
type series struct {
	base int64      // a multiple of span
	cps  []cumEntry // cps[i]: totals over [base, base+i·span)
	tail []cumEntry // tail[j]: totals over [base, lastCheckpoint+j); tail[0] = last of cps
	memo [2]memoEntry
	next int // memo slot to overwrite
}

type memoEntry struct {
	x  int64
	e  cumEntry
	ok bool
}

// maxWindowSeconds is MaxWindow in seconds.
const maxWindowSeconds = int64(MaxWindow / time.Second)

func floorSpan(x int64) int64 {
	m := x % span
	if m < 0 {
		m += span
	}
	return x - m
}

func (s *series) lastCheckpoint() int64 { return s.base + int64(len(s.cps)-1)*span }

// end is the first second not cached.
func (s *series) end() int64 { return s.lastCheckpoint() + int64(len(s.tail)) - 1 }

// push appends the totals through one more second.
func (s *series) push(e cumEntry) {
	s.tail = append(s.tail, e)
	if len(s.tail) == span+1 {
		s.cps = append(s.cps, e)
		s.tail = append(s.tail[:0], e)
	}
}

// truncate forgets every cached second from `from` on.
func (s *series) truncate(from int64) {
	if s.cps == nil || from >= s.end() {
		return
	}
	s.memo = [2]memoEntry{}
	if from < s.base+span {
		*s = series{}
		return
	}
	i := (from - s.base) / span
	s.cps = s.cps[:i+1]
	s.tail = append(s.tail[:0], s.cps[i])
}

// totals returns the totals of target over seconds [a, b). tg.mu is held;
// b is at most the last complete second.
func (c *Cloud) totals(tg *target, a, b int64) cumEntry {
	if o := tg.origin(); a < o {
		a = o
	}
	if a >= b {
		return cumEntry{}
	}
	s := &tg.ser
	if s.cps == nil || b-s.end() > maxWindowSeconds { // start afresh rather than walk a long gap
		base := floorSpan(a)
		*s = series{base: base, cps: []cumEntry{{}}, tail: make([]cumEntry, 1, span+1)}
	}
	if a < s.base {
		if s.base-a > maxWindowSeconds { // far back: draw it, keep the cache
			return c.walk(tg, a, b, cumEntry{}, nil)
		}
		c.prependLocked(tg, floorSpan(a))
	}
	if end := s.end(); b > end {
		c.walk(tg, end, b, s.tail[len(s.tail)-1], s.push)
	}
	v := c.prefixLocked(tg, b).minus(c.prefixLocked(tg, a))
	c.trimLocked(tg)
	return v
}

// prependLocked extends the cache back to base nb (a multiple of span).
func (c *Cloud) prependLocked(tg *target, nb int64) {
	s := &tg.ser
	pre := []cumEntry{{}}
	n := 0
	last := c.walk(tg, nb, s.base, cumEntry{}, func(e cumEntry) {
		if n++; n%span == 0 {
			pre = append(pre, e)
		}
	})
	cps := make([]cumEntry, 0, len(pre)+len(s.cps)-1)
	cps = append(cps, pre...)
	for _, e := range s.cps[1:] {
		cps = append(cps, e.plus(last))
	}
	for i := range s.tail {
		s.tail[i] = s.tail[i].plus(last)
	}
	s.base, s.cps, s.memo = nb, cps, [2]memoEntry{}
}

// prefixLocked returns the totals over [base, x) for a cached x.
func (c *Cloud) prefixLocked(tg *target, x int64) cumEntry {
	s := &tg.ser
	if lc := s.lastCheckpoint(); x >= lc {
		return s.tail[x-lc]
	}
	i := (x - s.base) / span
	from, e := s.base+i*span, s.cps[i]
	for _, m := range s.memo {
		if m.ok && m.x >= from && m.x <= x {
			from, e = m.x, m.e
		}
	}
	if from == x {
		return e
	}
	e = c.walk(tg, from, x, e, nil)
	s.memo[s.next] = memoEntry{x: x, e: e, ok: true}
	s.next = (s.next + 1) % len(s.memo)
	return e
}

// trimLocked drops checkpoints older than Options.MetricCache.
func (c *Cloud) trimLocked(tg *target) {
	s := &tg.ser
	keep := int(c.opts.MetricCache/time.Second) / span
	if len(s.cps) <= keep+keep/4+1 {
		return
	}
	drop := len(s.cps) - 1 - keep
	zero := s.cps[drop] // rebase so that cps[0] stays zero
	cps := make([]cumEntry, 0, keep+1)
	for _, e := range s.cps[drop:] {
		cps = append(cps, e.minus(zero))
	}
	for i := range s.tail {
		s.tail[i] = s.tail[i].minus(zero)
	}
	s.cps = cps
	s.base += int64(drop) * span
	s.memo = [2]memoEntry{}
}
