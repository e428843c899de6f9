package cutover

import (
	"context"
	"fmt"
	"math"
	"time"
)

// BakeTiming is when the bake of the stage being judged ends, on the
// runner's clock. The runner passes it to gates in the context of
// Evaluate (see BakeTimingFrom), so that a gate whose evidence cannot
// conclude (a sequential judge) can tell the end of the bake and the
// deadline apart.
type BakeTiming struct {
	// Applied is when the stage was applied.
	Applied time.Time
	// MinBakeEnd is the earliest time a final Pass may end the bake.
	MinBakeEnd time.Time
	// BakeEnd is when the bake time is over.
	BakeEnd time.Time
	// Deadline is when a gate still Pending fails closed.
	Deadline time.Time
}

type bakeTimingKey struct{}

// WithBakeTiming returns ctx carrying t; the runner calls it for the
// context of every Evaluate during a bake. Tests of gates may call it too.
func WithBakeTiming(ctx context.Context, t BakeTiming) context.Context {
	return context.WithValue(ctx, bakeTimingKey{}, &t)
}

// BakeTimingFrom returns the bake timing the runner put in ctx, if any.
func BakeTimingFrom(ctx context.Context) (BakeTiming, bool) {
	if t, ok := ctx.Value(bakeTimingKey{}).(*BakeTiming); ok {
		return *t, true
	}
	return BakeTiming{}, false
}

// Comparative is implemented by gates that compare a canary with a
// baseline while both take traffic (health.NewJudge's gate). Strategies
// refuse such a gate where the baseline takes no traffic, and Plan.Analyze
// asks it how long its evidence takes at each stage's CanaryShare.
type Comparative interface {
	Gate
	// Compares returns the baseline and canary targets.
	Compares() (baseline, canary string)
	// ExpectEvidence estimates how long the gate takes to decide when the
	// canary receives share (0 < share < 1) of the traffic. ok is false
	// when the gate has nothing to estimate from (no expected traffic).
	ExpectEvidence(share float64) (e EvidenceEstimate, ok bool)
}

// EvidenceEstimate is a comparative gate's expected time to a decision.
type EvidenceEstimate struct {
	// Fail is the expected time to fail a canary with the regression the
	// gate is set to detect; Pass the expected time to show a healthy
	// canary within the margin. Never (math.MaxInt64) when the evidence
	// never gets there (no failures expected at all).
	Fail, Pass time.Duration
	// Basis says what the estimate assumed, for a person: "at 1% of
	// 20 req/s, 0.50% errors, a 2.00× regression".
	Basis string
}

// Never is the EvidenceEstimate of evidence that never concludes.
const Never = time.Duration(math.MaxInt64)

// Wrapper is implemented by gates that decorate or compose other gates
// (health.All, health.Not, a strategy's settling wrapper), so that
// Comparatives can find the comparative gates inside.
type Wrapper interface {
	Unwrap() []Gate
}

// Comparatives returns the comparative gates in g, looking through
// Wrappers and Named.
func Comparatives(g Gate) []Comparative {
	var out []Comparative
	walkGates(g, func(g Gate) bool {
		c, ok := g.(Comparative)
		if ok {
			out = append(out, c)
		}
		return ok
	})
	return out
}

// approx renders d for an estimate: "~47 min", "~90 s", "never".
func approx(d time.Duration) string {
	switch {
	case d == Never:
		return "never"
	case d >= 2*time.Hour:
		return fmt.Sprintf("~%.1f h", d.Hours())
	case d >= 2*time.Minute:
		return fmt.Sprintf("~%.0f min", d.Minutes())
	}
	return fmt.Sprintf("~%.0f s", d.Seconds())
}
