package cutover

import (
	"context"
	"fmt"
)

// Decision is the outcome of one judgement of a gate.
type Decision int

const (
	// Pending means there is not enough evidence yet. It is the zero value,
	// so a forgotten verdict never passes.
	Pending Decision = iota
	// Pass means the evidence says the change is healthy.
	Pass
	// Fail means the evidence says the change is bad; the runner reverts.
	Fail
)

// String returns "pending", "pass" or "fail".
func (d Decision) String() string {
	switch d {
	case Pending:
		return "pending"
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Verdict is a gate's judgement with the reason and the figures behind it.
type Verdict struct {
	Decision Decision `json:"decision"`
	// Reason is a sentence a person can act on:
	// "green 5xx rate 2.1% > max 1.0% over 5m (1204 requests)".
	Reason string `json:"reason,omitempty"`
	// Figures are the numbers the decision was made from, by name.
	Figures map[string]float64 `json:"figures,omitempty"`
	// Final marks a verdict that will not change with more evidence (a
	// sequential test that has concluded). A stage ends its bake early when
	// every gate passes and at least one of them with a final Pass.
	Final bool `json:"final,omitempty"`
}

// String returns the decision and reason.
func (v Verdict) String() string {
	if v.Reason == "" {
		return v.Decision.String()
	}
	return v.Decision.String() + ": " + v.Reason
}

// Gate judges the health of a change from evidence.
//
// Evaluate is called repeatedly, at the runner's poll interval, from one
// goroutine at a time. It must honour ctx. A gate that does not return when
// ctx ends does not hold the cutover up: a poll later the runner concludes
// it without the gate (rolls back on an abort, a cancelled Run, a bake
// past its deadline, or fresh evidence before the PNR past the grace), and the gate is not evaluated again until it
// returns. An error means the gate could not
// judge (a source was unreachable): the runner treats it like Pending and
// fails closed if it persists past the stage's deadline. Gates that keep
// state across calls (consecutive counts, sequential tests) start afresh when
// Reset is called, if they implement Resetter.
type Gate interface {
	Evaluate(ctx context.Context) (Verdict, error)
}

// GateFunc adapts a function to the Gate interface.
type GateFunc func(ctx context.Context) (Verdict, error)

// Evaluate calls f(ctx).
func (f GateFunc) Evaluate(ctx context.Context) (Verdict, error) { return f(ctx) }

var _ Gate = GateFunc(nil)

// Namer is implemented by gates that have a name for reports and errors.
type Namer interface {
	Name() string
}

// Resetter is implemented by gates that keep state across evaluations. The
// runner calls Reset when a stage starts baking.
type Resetter interface {
	Reset()
}

// GateName returns the name of g if it implements Namer, otherwise
// "gate <i>" where i is its index in the stage.
func GateName(g Gate, i int) string {
	if n, ok := g.(Namer); ok && n.Name() != "" {
		return n.Name()
	}
	return fmt.Sprintf("gate %d", i)
}

type namedGate struct {
	name string
	Gate
}

func (n namedGate) Name() string { return n.name }

func (n namedGate) Reset() {
	if r, ok := n.Gate.(Resetter); ok {
		r.Reset()
	}
}

// Named returns g with the given name.
func Named(name string, g Gate) Gate { return namedGate{name: name, Gate: g} }

// Misconfigured is implemented by a gate built from arguments out of
// range by a function that returns a Gate, not an error, so that it
// composes (a decorator such as health.Consecutive(0, g)). Such a gate
// fails closed when it is evaluated; Plan.Validate refuses a plan that
// holds one, looking through Named and Wrapper gates, so the mistake is
// reported before anything is applied.
type Misconfigured interface {
	// Misconfiguration says what is wrong: the function, the argument
	// and the range it wants.
	Misconfiguration() error
}

// walkGates calls visit on g and, unless visit returns true, on the gates
// inside it (through Named and Wrapper), to a bounded depth.
func walkGates(g Gate, visit func(Gate) bool) {
	var walk func(g Gate, depth int)
	walk = func(g Gate, depth int) {
		if g == nil || depth > 32 || visit(g) {
			return
		}
		switch w := g.(type) {
		case namedGate:
			walk(w.Gate, depth+1)
		case Wrapper:
			for _, in := range w.Unwrap() {
				walk(in, depth+1)
			}
		}
	}
	walk(g, 0)
}

// misconfiguration returns the first Misconfiguration in g, or nil.
func misconfiguration(g Gate) error {
	var err error
	walkGates(g, func(g Gate) bool {
		if m, ok := g.(Misconfigured); ok && err == nil {
			err = m.Misconfiguration()
		}
		return err != nil
	})
	return err
}
