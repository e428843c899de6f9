package cutover

import (
	"fmt"
	"reflect"
	"runtime/debug"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// gateRound is a round of gates judged inside a stage's call, while the
// call waits (see waitedInCall), evaluated on a goroutine of its own so
// that the call's wait can go on without a gate that does not return when
// its context ends: the round is left behind. (A round of the drive is
// evaluated on the drive's goroutine, and if a gate there does not
// return, attend takes over: see judge and judging.takeOver. In a call
// there is no taking over — the call itself is in the gate, and nothing
// may be reverted until the call has returned.) Evaluating a gate only
// reads, so leaving one behind is safe; the gate is not evaluated again
// until that evaluation returns (Gate: "from one goroutine at a time"),
// and says Pending meanwhile.
//
// One round is kept per drive and reused; a round left behind is the
// goroutine's, and the drive takes a new one.
type gateRound struct {
	gates []Gate
	ctx   *gateContext
	// res holds the gates' results; the goroutine publishes them in order
	// through n, so that a drive that leaves the round reads only those
	// already written.
	res []gateResult
	n   atomic.Int32
	at  atomic.Int32 // the gate being evaluated
	// skip marks the gates still being evaluated by a round left behind;
	// their results are set when the round is started.
	skip []bool
	// left is set when the drive leaves the round; over when the
	// goroutine has returned.
	left, over atomic.Bool
	done       chan struct{} // receives once the goroutine is over
	panicked   any           // what a gate panicked with, read after done
	stack      []byte
	log        *zap.Logger
	since      time.Time // when the round began, once it is left behind (guarded by d.mu)
}

// gateResult is what one gate said.
type gateResult struct {
	v   Verdict
	err error
}

// round returns a round over gates in gctx, with the gates that a round
// left behind still evaluates marked to be skipped.
func (d *drive) round(gctx *gateContext, gates []Gate) *gateRound {
	j := d.judges()
	d.mu.Lock()
	r := j.free
	if r == nil {
		r = &gateRound{done: make(chan struct{}, 1), log: d.log}
		j.free = r
	}
	hung := len(j.hung) > 0
	d.mu.Unlock()
	r.gates, r.ctx = gates, gctx
	r.n.Store(0)
	r.at.Store(-1)
	r.over.Store(false)
	r.res = grow(r.res, len(gates))
	r.skip = grow(r.skip, len(gates))
	for k := range gates {
		if hung {
			if v, ok := d.stillEvaluating(gates, k); ok {
				r.skip[k], r.res[k] = true, gateResult{v: v}
			}
		}
	}
	return r
}

// grow returns s with length n and its elements zero, reusing its array
// if it can.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// anyHung reports whether a round left behind may still be in a gate.
func (j *judging) anyHung() bool {
	d := j.a.d
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(j.hung) > 0
}

// stillEvaluating returns a Pending verdict for gate k of gates if a round
// left behind is still evaluating it, and forgets the rounds left behind
// that are over.
func (d *drive) stillEvaluating(gates []Gate, k int) (Verdict, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	j := d.judging
	hung := j.hung[:0]
	var v Verdict
	found := false
	for _, h := range j.hung {
		if h.over.Load() {
			continue
		}
		hung = append(hung, h)
		at := h.at.Load()
		if at < 0 || found {
			continue // left before its first gate: it evaluates none
		}
		if &h.gates[at] == &gates[k] || sameGate(h.gates[at], gates[k]) {
			found = true
			v = Verdict{Decision: Pending, Reason: "gate still evaluating since " + h.since.UTC().Format(time.RFC3339) +
				": it did not return when its context ended"}
		}
	}
	clear(j.hung[len(hung):])
	j.hung = hung
	return v, found
}

// sameGate reports whether a and b are the same gate, when their type can
// be compared (a pointer to a gate, as every gate of this module is); a
// gate of a type that cannot (a GateFunc) is the same only at the same
// place in the same stage's list (see stillEvaluating).
func sameGate(a, b Gate) bool {
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta != nil && ta.Comparable() && a == b
}

// run evaluates the gates in order, on the round's goroutine, until one
// cuts the round short (the call's context done), or the drive leaves the
// round (see wait).
func (r *gateRound) run() {
	defer r.end()
	for k, g := range r.gates {
		if r.skip[k] {
			r.n.Store(int32(k + 1))
			continue
		}
		// at is set before left is read: a drive that leaves after this
		// knows which gate is still being evaluated (see stillEvaluating).
		r.at.Store(int32(k))
		if r.left.Load() {
			return
		}
		v, err := g.Evaluate(r.ctx)
		if r.left.Load() {
			return // the drive has gone on without this round
		}
		r.res[k] = gateResult{v: v, err: err}
		r.n.Store(int32(k + 1))
		if r.ctx.isCut.Load() {
			return
		}
	}
}

// end records a gate's panic for the drive, which panics with it as it
// would have with the gate on its own goroutine (in a round left behind,
// it is logged), and says the round is over.
func (r *gateRound) end() {
	if p := recover(); p != nil {
		r.panicked, r.stack = p, debug.Stack()
		if r.left.Load() {
			r.log.Error("a gate left behind panicked", zap.Any("panic", p), zap.ByteString("stack", r.stack))
		}
	}
	r.over.Store(true)
	r.done <- struct{}{}
}

// wait waits for the round, run on its own goroutine, to be over, or for
// stop (the round's bound, or the call cut short). It returns whether the
// round is left behind.
func (r *gateRound) wait(stop <-chan struct{}) bool {
	select {
	case <-r.done:
		if r.panicked != nil {
			k := r.at.Load()
			panic(fmt.Sprintf("gate %s panicked: %v\n\n%s", GateName(r.gates[k], int(k)), r.panicked, r.stack))
		}
		return false
	case <-stop:
	}
	r.left.Store(true)
	return true
}

// result returns gate k's result in round r, once r is over or left
// behind: ok is false for a gate the round did not get to (cut short, or
// left behind before it returned).
func (r *gateRound) result(k int) (v Verdict, err error, ok bool) {
	if k >= int(r.n.Load()) {
		return Verdict{}, nil, false
	}
	return r.res[k].v, r.res[k].err, true
}

// leftBehind records round r, left behind at since, as the goroutine's:
// the next rounds, of the drive or of a call, skip the gate it still
// evaluates (see stillEvaluating), and the next call round takes a new
// round.
func (d *drive) leftBehind(r *gateRound, since time.Time) {
	j := d.judging
	d.mu.Lock()
	r.since = since
	j.hung = append(j.hung, r)
	j.free = nil
	d.mu.Unlock()
	if k := int(r.n.Load()); k < len(r.gates) {
		d.log.Warn("left behind a gate that did not return when its context ended",
			zap.String("cutover", d.id), zap.String("gate", GateName(r.gates[k], k)), zap.Time("since", since))
	}
}
