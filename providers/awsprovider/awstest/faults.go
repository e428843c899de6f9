package awstest

import (
	"net/http"
	"sync"
	"time"
)

// Fault is an error answer a fake gives instead of serving a call: an HTTP
// status and the service's error code and message. Each protocol writes it
// in its own form (WriteQueryError, WriteJSONError, WriteCBORError).
type Fault struct {
	Status  int
	Code    string
	Message string
}

// Faults every service answers the same way. The SDK's standard retryer
// retries both.
var (
	// Throttling is the answer of an API over its rate limit (awsJson
	// services call it ThrottlingException; WriteJSONError renames it).
	Throttling = Fault{http.StatusBadRequest, "Throttling", "Rate exceeded"}
	// InternalError is a server-side failure (HTTP 500).
	InternalError = Fault{http.StatusInternalServerError, "InternalFailure", "internal failure"}
)

// Faults counts the calls of a fake per API operation and injects faults
// into them: error answers (FailNext), lost answers (HoldNext) and slow
// answers (DelayNext). Every fake of this package embeds one; fakes may
// share one so that a test sees all their calls in one place. The zero
// value is ready to use; safe for concurrent use.
type Faults struct {
	mu     sync.Mutex
	calls  map[string]int
	faults map[string][]Fault
	holds  map[string]int
	delays map[string][]time.Duration
}

// FailNext makes the next n calls of op answer with f, without touching
// the fake's state.
func (c *Faults) FailNext(op string, n int, f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.faults == nil {
		c.faults = map[string][]Fault{}
	}
	for range n {
		c.faults[op] = append(c.faults[op], f)
	}
}

// HoldNext makes the next n calls of op hang, unanswered and without
// touching the fake's state, until the caller gives up (its request
// context ends): a lost request, as a dropped connection or an overloaded
// endpoint gives.
func (c *Faults) HoldNext(op string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holds == nil {
		c.holds = map[string]int{}
	}
	c.holds[op] += n
}

// DelayNext makes the next n calls of op wait d before they are served
// (on the caller's clock: inside a testing/synctest bubble, fake time). A
// caller that gives up while it waits gets no answer and the call does not
// take effect.
func (c *Faults) DelayNext(op string, n int, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.delays == nil {
		c.delays = map[string][]time.Duration{}
	}
	for range n {
		c.delays[op] = append(c.delays[op], d)
	}
}

// Calls returns how many calls of op the fake received, faulted ones
// included.
func (c *Faults) Calls(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// Snapshot returns every operation's call count.
func (c *Faults) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// Since returns the calls made after before (a Snapshot), leaving out
// operations not called since.
func (c *Faults) Since(before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range c.Snapshot() {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// Intercept counts a call of op and applies what is queued for it, in this
// order: a fault (returned, to be written by the caller in its protocol's
// form), a hold, a delay. It returns answer false when the call must not be
// answered at all (held or given up while delayed). The request helpers of
// this package call it; a fake of another service calls it first thing.
func (c *Faults) Intercept(op string, r *http.Request) (fault *Fault, answer bool) {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
	if q := c.faults[op]; len(q) > 0 {
		c.faults[op] = q[1:]
		c.mu.Unlock()
		return &q[0], true
	}
	held := c.holds[op] > 0
	if held {
		c.holds[op]--
	}
	var delay time.Duration
	if q := c.delays[op]; len(q) > 0 {
		delay, c.delays[op] = q[0], q[1:]
	}
	c.mu.Unlock()
	if held {
		<-r.Context().Done()
		return nil, false
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return nil, false
		}
	}
	return nil, true
}
