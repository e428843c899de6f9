package fake

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Fault makes matching calls fail or slow down. A call matches when its
// operation and resource match (empty matches all). Of the matching calls,
// the fault hits the Nth one counted from when it was injected; or, with
// Share, each one with that probability (drawn from the cloud's seed and the
// call's number, so a sequential test is reproducible); or, with neither,
// every one. Limit caps how many calls it hits.
type Fault struct {
	// Op is the operation (OpSetWeights, OpMetric, ...); empty matches all.
	Op string
	// Resource is the router, switcher or fleet name, the target of a
	// metric or target-health query, or the alarm names of an Alarms call
	// joined by commas; empty matches all.
	Resource string
	// Nth, when > 0, hits only the Nth matching call (1 is the next one).
	Nth int
	// Share, when > 0, hits each matching call with this probability (0–1).
	Share float64
	// Limit, when > 0, stops the fault after it has hit this many calls.
	Limit int
	// Err is what a hit call returns: ErrThrottled, ErrServer, ErrTimeout
	// or any error. Nil with Delay > 0 makes the fault a slow call that then
	// proceeds normally.
	Err error
	// Delay is added latency before the call is served. It honours ctx: a
	// call whose context ends while it waits returns the context's error.
	Delay time.Duration
	// AfterEffect makes a hit call take effect and then return Err (a lost
	// response), which is how to test that callers retry idempotently.
	AfterEffect bool
}

func (f Fault) validate() error {
	switch {
	case f.Nth < 0:
		return invalid("fault: Nth %d is negative", f.Nth)
	case f.Share < 0 || f.Share > 1:
		return invalid("fault: Share %g outside 0–1", f.Share)
	case f.Nth > 0 && f.Share > 0:
		return invalid("fault: Nth and Share are exclusive")
	case f.Limit < 0:
		return invalid("fault: Limit %d is negative", f.Limit)
	case f.Delay < 0:
		return invalid("fault: Delay %s is negative", f.Delay)
	case f.Err == nil && f.Delay == 0:
		return invalid("fault: neither Err nor Delay set: it would do nothing")
	case f.AfterEffect && f.Err == nil:
		return invalid("fault: AfterEffect needs an Err")
	}
	return nil
}

// faultRule is an injected fault with its counters.
type faultRule struct {
	Fault
	id    uint64
	seen  atomic.Int64 // matching calls
	hits  atomic.Int64 // calls hit
	stale atomic.Bool  // Nth passed or Limit reached
}

// hit is the outcome of matching one call against the faults.
type hit struct {
	delay       time.Duration
	err         error
	afterEffect bool
}

// faultSet is copy-on-write, so calls read it with one atomic load.
type faultSet struct {
	mu    sync.Mutex
	next  uint64
	rules atomic.Pointer[[]*faultRule]
}

// InjectFault adds f to the cloud's faults; it stays until ClearFaults.
// Faults stack: a call hit by several gets the sum of their delays and the
// first one's error.
func (c *Cloud) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return &Error{Op: "InjectFault", Resource: f.Resource, Err: err}
	}
	s := &c.faults
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	var rules []*faultRule
	if p := s.rules.Load(); p != nil {
		rules = append(rules, *p...)
	}
	rules = append(rules, &faultRule{Fault: f, id: s.next})
	s.rules.Store(&rules)
	return nil
}

// ClearFaults removes every injected fault.
func (c *Cloud) ClearFaults() {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	c.faults.rules.Store(nil)
}

// FaultHits returns how many calls the injected faults have hit in all.
func (c *Cloud) FaultHits() int {
	p := c.faults.rules.Load()
	if p == nil {
		return 0
	}
	n := 0
	for _, r := range *p {
		n += int(r.hits.Load())
	}
	return n
}

func (s *faultSet) match(seed uint64, op, resource string) hit {
	p := s.rules.Load()
	if p == nil {
		return hit{}
	}
	var h hit
	for _, r := range *p {
		if r.stale.Load() || (r.Op != "" && r.Op != op) || (r.Resource != "" && r.Resource != resource) {
			continue
		}
		n := r.seen.Add(1)
		switch {
		case r.Nth > 0:
			if n != int64(r.Nth) {
				if n > int64(r.Nth) {
					r.stale.Store(true)
				}
				continue
			}
			r.stale.Store(true)
		case r.Share > 0:
			if uniform(source(seed, r.id, uint64(n))) >= r.Share {
				continue
			}
		}
		if r.Limit > 0 {
			if k := r.hits.Add(1); k > int64(r.Limit) {
				r.stale.Store(true)
				continue
			} else if k == int64(r.Limit) {
				r.stale.Store(true)
			}
		} else {
			r.hits.Add(1)
		}
		h.delay += r.Delay
		if h.err == nil && r.Err != nil {
			h.err = r.Err
			h.afterEffect = r.AfterEffect
		}
	}
	return h
}

// Call is the record of one call to the cloud.
type Call struct {
	At       time.Time
	Op       string // one of the Op constants
	Resource string // router, switcher or fleet name; metric or health target; alarm names
	Args     string // a summary of the arguments ("blue=90 green=10")
	Err      error  // nil on success
}

// String renders the call as "SetWeights alb blue=90 green=10" (with
// ": error" when it failed).
func (c Call) String() string {
	s := c.Op
	if c.Resource != "" {
		s += " " + c.Resource
	}
	if c.Args != "" {
		s += " " + c.Args
	}
	if c.Err != nil {
		s += fmt.Sprintf(": %v", c.Err)
	}
	return s
}

// callLog keeps the latest max calls in a ring and counts every call.
type callLog struct {
	mu     sync.Mutex
	max    int
	ring   []callRec
	start  int // index of the oldest record once the ring is full
	counts map[string]int
	errs   map[string]int
}

func (c *Cloud) record(op, resource string, args func() string, err error) {
	if ce := c.log.Check(zap.DebugLevel, "fake call"); ce != nil {
		ce.Write(zap.String("op", op), zap.String("resource", resource), zap.Error(err))
	}
	l := &c.calls
	var call callRec
	if l.max > 0 {
		call = callRec{at: c.clock.Now(), op: op, resource: resource, args: args, err: err}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts, l.errs = map[string]int{}, map[string]int{}
	}
	l.counts[op]++
	if err != nil {
		l.errs[op]++
	}
	if l.max <= 0 {
		return
	}
	if len(l.ring) < l.max {
		l.ring = append(l.ring, call)
		return
	}
	l.ring[l.start] = call
	l.start = (l.start + 1) % l.max
}

// Calls returns the recorded calls, oldest first: all of them, or the
// latest Options.MaxCalls.
func (c *Cloud) Calls() []Call {
	l := &c.calls
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Call, 0, len(l.ring))
	for _, part := range [][]callRec{l.ring[l.start:], l.ring[:l.start]} {
		for _, r := range part {
			call := Call{At: r.at, Op: r.op, Resource: r.resource, Err: r.err}
			if r.args != nil {
				call.Args = r.args()
			}
			out = append(out, call)
		}
	}
	return out
}

// callRec is a recorded call whose arguments are summarised only when
// Calls asks: the closure captures copies, so the summary is of the
// arguments as they were.
type callRec struct {
	at       time.Time
	op       string
	resource string
	args     func() string
	err      error
}

// CallCount returns how many calls of operation op (all operations if op
// is empty) the cloud has served since it was made or ResetCalls, failed
// ones included. It counts past the MaxCalls limit of Calls.
func (c *Cloud) CallCount(op string) int {
	return c.count(op, false)
}

// ErrorCount is CallCount for the calls that returned an error.
func (c *Cloud) ErrorCount(op string) int {
	return c.count(op, true)
}

func (c *Cloud) count(op string, errs bool) int {
	l := &c.calls
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.counts
	if errs {
		m = l.errs
	}
	if op != "" {
		return m[op]
	}
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// ResetCalls forgets the recorded calls and zeroes the counts.
func (c *Cloud) ResetCalls() {
	l := &c.calls
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring, l.start, l.counts, l.errs = nil, 0, nil, nil
}
