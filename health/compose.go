package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// The decorators below take and return cutover.Gate. Given arguments they
// cannot work with (no gates, a nil gate, n < 0, d ≤ 0) they return a gate
// that always fails and says why, so a misconfiguration fails closed
// instead of panicking or passing.

// misconfigured is a gate that always fails with its reason.
type misconfigured struct{ name, reason string }

// Name returns the decorator's name.
func (m misconfigured) Name() string { return m.name }

// Misconfiguration returns what is wrong, for Plan.Validate.
func (m misconfigured) Misconfiguration() error { return errors.New(m.reason) }

var _ cutover.Misconfigured = misconfigured{}

// Evaluate fails, finally, with what is wrong.
func (m misconfigured) Evaluate(context.Context) (cutover.Verdict, error) {
	return failClosed(cutover.Verdict{Reason: "misconfigured gate: " + m.reason, Final: true}), nil
}

func name(g cutover.Gate) string { return cutover.GateName(g, 0) }

func reset(gs ...cutover.Gate) {
	for _, g := range gs {
		if r, ok := g.(cutover.Resetter); ok {
			r.Reset()
		}
	}
}

func checkGates(op string, gs []cutover.Gate) error {
	if len(gs) == 0 {
		return fmt.Errorf("%s: no gates", op)
	}
	for i, g := range gs {
		if g == nil {
			return fmt.Errorf("%s: gate %d is nil", op, i)
		}
	}
	return nil
}

// group is All or Any.
type group struct {
	all bool
	gs  []cutover.Gate
}

// All returns a gate that fails as soon as one of gs fails, passes when all
// pass (finally, when all passes are final), and is Pending otherwise. Every
// gate is evaluated each time, so stateful gates keep up.
func All(gs ...cutover.Gate) cutover.Gate {
	if err := checkGates("All", gs); err != nil {
		return misconfigured{"all", err.Error()}
	}
	return &group{all: true, gs: append([]cutover.Gate(nil), gs...)}
}

// Any returns a gate that passes as soon as one of gs passes, fails when
// all fail, and is Pending otherwise.
func Any(gs ...cutover.Gate) cutover.Gate {
	if err := checkGates("Any", gs); err != nil {
		return misconfigured{"any", err.Error()}
	}
	return &group{gs: append([]cutover.Gate(nil), gs...)}
}

// Name returns "all(a, b)" or "any(a, b)".
func (g *group) Name() string {
	names := make([]string, len(g.gs))
	for i, c := range g.gs {
		names[i] = cutover.GateName(c, i)
	}
	op := "any"
	if g.all {
		op = "all"
	}
	return op + "(" + strings.Join(names, ", ") + ")"
}

// Reset resets every gate.
func (g *group) Reset() { reset(g.gs...) }

// Unwrap returns the composed gates.
func (g *group) Unwrap() []cutover.Gate { return g.gs }

// Evaluate evaluates every gate and combines their verdicts.
func (g *group) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	// decisive is the decision that settles the group: Fail for All, Pass
	// for Any; the other one needs every gate to agree.
	decisive, unanimous := cutover.Fail, cutover.Pass
	if !g.all {
		decisive, unanimous = cutover.Pass, cutover.Fail
	}
	var errs []error
	var decided, pending []string
	figures := map[string]float64{}
	agree, final := 0, true
	// A Fail of the group is one for want of evidence when every Fail
	// that settles All, or any Fail of a unanimous Any, is one.
	decidedClosed, anyClosed := true, false
	var first *cutover.Verdict
	for i, c := range g.gs {
		cn := cutover.GateName(c, i)
		v, err := c.Evaluate(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return cutover.Verdict{}, context.Cause(ctx)
			}
			errs = append(errs, fmt.Errorf("%s: %w", cn, err))
			pending = append(pending, cn+": "+err.Error())
			continue
		}
		for k, x := range v.Figures {
			figures[cn+"."+k] = x
		}
		switch v.Decision {
		case decisive:
			if first == nil {
				first = &v
			}
			decidedClosed = decidedClosed && isFailClosed(v)
			decided = append(decided, cn+": "+v.Reason)
		case unanimous:
			agree++
			final = final && v.Final
			anyClosed = anyClosed || isFailClosed(v)
		default:
			pending = append(pending, cn+": "+v.Reason)
		}
	}
	if first != nil {
		v := cutover.Verdict{Decision: decisive, Figures: figures, Final: first.Final,
			Reason: strings.Join(decided, "; ")}
		if decisive == cutover.Fail && decidedClosed {
			v = failClosed(v)
		}
		return v, nil
	}
	if agree == len(g.gs) {
		word := "all passed"
		if !g.all {
			word = "all failed"
		}
		v := cutover.Verdict{Decision: unanimous, Figures: figures, Final: final,
			Reason: fmt.Sprintf("%s (%d gates)", word, len(g.gs))}
		if unanimous == cutover.Fail && anyClosed {
			v = failClosed(v)
		}
		return v, nil
	}
	if len(errs) > 0 && len(errs) == len(pending) {
		return cutover.Verdict{Decision: cutover.Pending, Figures: figures,
			Reason: strings.Join(pending, "; ")}, errors.Join(errs...)
	}
	return cutover.Verdict{Decision: cutover.Pending, Figures: figures,
		Reason: fmt.Sprintf("%d of %d settled; waiting for %s", agree, len(g.gs), strings.Join(pending, "; "))}, nil
}

type not struct{ g cutover.Gate }

// Not returns a gate that passes when g fails and fails when g passes;
// Pending stays Pending. A Fail for want of evidence (see
// FigureFailClosed: a source that kept failing, no data, an expired
// deadline, a misconfigured gate) stays a Fail: it says nothing either way.
func Not(g cutover.Gate) cutover.Gate {
	if g == nil {
		return misconfigured{"not", "Not: gate is nil"}
	}
	return not{g}
}

// Name returns "not(g)".
func (n not) Name() string { return "not(" + name(n.g) + ")" }

// Reset resets g.
func (n not) Reset() { reset(n.g) }

// Unwrap returns the negated gate.
func (n not) Unwrap() []cutover.Gate { return []cutover.Gate{n.g} }

// Evaluate inverts g's decision.
func (n not) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	v, err := n.g.Evaluate(ctx)
	if err != nil {
		return v, err
	}
	switch {
	case isFailClosed(v):
		v.Reason = "not: could not judge: " + v.Reason
		return v, nil
	case v.Decision == cutover.Pass:
		v.Decision = cutover.Fail
	case v.Decision == cutover.Fail:
		v.Decision = cutover.Pass
	}
	v.Reason = "not: " + v.Reason
	return v, nil
}

type consecutive struct {
	n      int
	g      cutover.Gate
	streak int
}

// Consecutive returns a gate that passes only after g passed n times in a
// row; a Pending verdict or an error restarts the count, and a Fail fails
// at once. n must be ≥ 1.
func Consecutive(n int, g cutover.Gate) cutover.Gate {
	if err := checkDecorator("Consecutive", "n", n, 1, g); err != "" {
		return misconfigured{"consecutive", err}
	}
	return &consecutive{n: n, g: g}
}

// Name returns "consecutive(n, g)".
func (c *consecutive) Name() string { return fmt.Sprintf("consecutive(%d, %s)", c.n, name(c.g)) }

// Reset restarts the count and resets g.
func (c *consecutive) Reset() { c.streak = 0; reset(c.g) }

// Unwrap returns the decorated gate.
func (c *consecutive) Unwrap() []cutover.Gate { return []cutover.Gate{c.g} }

// Evaluate evaluates g and counts its passes.
func (c *consecutive) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	v, err := c.g.Evaluate(ctx)
	if err != nil || v.Decision != cutover.Pass {
		c.streak = 0
		return v, err
	}
	c.streak++
	v.Figures = withFigure(v.Figures, "consecutive_passes", float64(c.streak))
	if c.streak < c.n {
		v.Decision, v.Final = cutover.Pending, false
		v.Reason = fmt.Sprintf("%d of %d consecutive passes: %s", c.streak, c.n, v.Reason)
	}
	return v, nil
}

type failureLimit struct {
	n        int
	g        cutover.Gate
	failures int
}

// FailureLimit returns a gate that tolerates up to n Fail verdicts of g (in
// all, not in a row, as Argo Rollouts counts them) and fails at the
// (n+1)th; a tolerated failure is reported as Pending. n must be ≥ 0.
func FailureLimit(n int, g cutover.Gate) cutover.Gate {
	if err := checkDecorator("FailureLimit", "n", n, 0, g); err != "" {
		return misconfigured{"failure limit", err}
	}
	return &failureLimit{n: n, g: g}
}

// Name returns "failure_limit(n, g)".
func (f *failureLimit) Name() string { return fmt.Sprintf("failure_limit(%d, %s)", f.n, name(f.g)) }

// Reset forgets the failures and resets g.
func (f *failureLimit) Reset() { f.failures = 0; reset(f.g) }

// Unwrap returns the decorated gate.
func (f *failureLimit) Unwrap() []cutover.Gate { return []cutover.Gate{f.g} }

// Evaluate evaluates g and counts its failures.
func (f *failureLimit) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	v, err := f.g.Evaluate(ctx)
	if err != nil || v.Decision != cutover.Fail {
		return v, err
	}
	f.failures++
	v.Figures = withFigure(v.Figures, "failures", float64(f.failures))
	if f.failures <= f.n {
		v.Decision, v.Final = cutover.Pending, false
		v.Reason = fmt.Sprintf("failure %d of %d tolerated: %s", f.failures, f.n, v.Reason)
	} else {
		v.Reason = fmt.Sprintf("failure %d, limit %d: %s", f.failures, f.n, v.Reason)
	}
	return v, nil
}

type withTimeout struct {
	d     time.Duration
	g     cutover.Gate
	clock cutover.Clock
	start time.Time
}

// WithTimeout returns a gate that gives g d, from its first evaluation
// after Reset, to reach a decision: each evaluation is bounded by the time
// left, and once d has passed a Pending verdict (or an error) becomes a
// Fail. Time is read from clock, the one the runner and the other gates
// run on (nil means cutover.RealClock, which inside a testing/synctest
// bubble is the bubble's). d must be > 0.
func WithTimeout(d time.Duration, g cutover.Gate, clock cutover.Clock) cutover.Gate {
	switch {
	case g == nil:
		return misconfigured{"timeout", "WithTimeout: gate is nil"}
	case d <= 0:
		return misconfigured{"timeout", fmt.Sprintf("WithTimeout: d: %v: want > 0", d)}
	}
	return &withTimeout{d: d, g: g, clock: clockOr(clock)}
}

// Name returns "timeout(d, g)".
func (w *withTimeout) Name() string { return fmt.Sprintf("timeout(%v, %s)", w.d, name(w.g)) }

// Reset restarts the timeout and resets g.
func (w *withTimeout) Reset() { w.start = time.Time{}; reset(w.g) }

// Unwrap returns the decorated gate.
func (w *withTimeout) Unwrap() []cutover.Gate { return []cutover.Gate{w.g} }

// Evaluate evaluates g within the time left, by the clock: g's context is
// cancelled with context.DeadlineExceeded when the clock reaches the end.
func (w *withTimeout) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	now := w.clock.Now()
	if w.start.IsZero() {
		w.start = now
	}
	end := w.start.Add(w.d)
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-w.clock.After(end.Sub(now)):
			cancel(context.DeadlineExceeded)
		case <-done:
		}
	})
	v, err := w.g.Evaluate(cctx)
	close(done)
	wg.Wait()
	if ctx.Err() != nil {
		return cutover.Verdict{}, context.Cause(ctx)
	}
	if w.clock.Now().Before(end) || (err == nil && v.Decision != cutover.Pending) {
		return v, err
	}
	last := v.Reason
	if err != nil {
		last = err.Error()
	}
	return failClosed(cutover.Verdict{Figures: v.Figures, Final: true,
		Reason: fmt.Sprintf("no decision within %v: %s", w.d, last)}), nil
}

type dryRun struct{ g cutover.Gate }

// DryRun returns a gate that evaluates g and reports its verdict, but never
// decides: it always passes (not finally, so it never shortens a bake). The
// reason and figures say what g would have done.
func DryRun(g cutover.Gate) cutover.Gate {
	if g == nil {
		return misconfigured{"dry run", "DryRun: gate is nil"}
	}
	return dryRun{g}
}

// Name returns "dry_run(g)".
func (d dryRun) Name() string { return "dry_run(" + name(d.g) + ")" }

// Reset resets g.
func (d dryRun) Reset() { reset(d.g) }

// Unwrap returns the decorated gate.
func (d dryRun) Unwrap() []cutover.Gate { return []cutover.Gate{d.g} }

// Evaluate evaluates g and passes.
func (d dryRun) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	v, err := d.g.Evaluate(ctx)
	if err != nil && ctx.Err() != nil {
		return cutover.Verdict{}, context.Cause(ctx)
	}
	out := cutover.Verdict{Decision: cutover.Pass, Figures: v.Figures}
	if err != nil {
		out.Reason = "dry run: could not judge: " + err.Error()
	} else {
		out.Reason = fmt.Sprintf("dry run: would %s: %s", v.Decision, v.Reason)
		out.Figures = withFigure(out.Figures, "would_decide", float64(v.Decision))
	}
	return out, nil
}

// withFigure returns a copy of m with k set to v.
func withFigure(m map[string]float64, k string, v float64) map[string]float64 {
	out := make(map[string]float64, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// checkDecorator describes what is wrong with a decorator's arguments, if
// anything.
func checkDecorator(op, field string, n, least int, g cutover.Gate) string {
	if g == nil {
		return op + ": gate is nil"
	}
	if n < least {
		return fmt.Sprintf("%s: %s = %d, want ≥ %d", op, field, n, least)
	}
	return ""
}
