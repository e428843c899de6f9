package canary

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// ErrTrafficNotMoved: after a weight change, the share of requests the
// targets actually served did not match the weights within the
// statistical tolerance before Options.ObserveDeadline. The router was
// told one thing and clients did another (a listener changed behind the
// cutover's back, a stale DNS path, stickiness pinning clients).
var ErrTrafficNotMoved = errors.New("observed traffic does not match the weights")

// observeZ is the z value of the binomial (Wilson score) interval the
// observed share is judged by: 99.9 % two-sided.
const observeZ = 3.29

// observe waits until the requests blue and green served
// since the weight change (after propagation) show the canary's share w
// within a Wilson interval, and the interval rules out the share before
// the change (prev); or fails closed at the deadline with expected and
// observed shares.
func (c *Canary) observe(ctx context.Context, prev, w int, changed time.Time) error {
	o := c.opts
	prop, err := c.propagation(ctx)
	if err != nil {
		return err
	}
	start := changed.Add(prop)
	targets := []string{o.Blue, o.Green}
	// Polled from now until ObserveDeadline after the change (one look
	// at least); counts that fail to read are tried again.
	p := cutover.Poll{
		What:     fmt.Sprintf("observe traffic at %d%%", w),
		Interval: cutover.Backoff{Initial: o.ObserveInterval},
		Retry:    func(error) bool { return true },
		Clock:    o.Clock,
	}
	err = p.Within(changed.Add(o.ObserveDeadline).Sub(o.Clock.Now())).Until(ctx, func(ctx context.Context) (bool, string, error) {
		now := o.Clock.Now()
		if !now.After(start) {
			return false, "no requests yet", nil
		}
		counts, err := o.Observe.RequestCounts(ctx, targets, start, now)
		if err != nil {
			return false, "", err
		}
		k, n := counts[o.Green].Value, counts[o.Blue].Value+counts[o.Green].Value
		ok, text := shareMatches(k, n, w, prev)
		return ok, text, nil
	})
	var te *cutover.WaitTimeoutError
	if errors.As(err, &te) {
		return fmt.Errorf("observe traffic: %s: want %s=%d%% (weights %s) within %s of the change: %w: %w",
			te.Status, o.Green, w, c.WeightsAt(w), o.ObserveDeadline, ErrTrafficNotMoved, cutover.ErrWaitTimeout)
	}
	return err
}

// shareMatches judges k canary requests of n against the expected share w
// percent: the Wilson interval of k/n must hold w and, unless prev == w,
// exclude prev, so that a step whose traffic never moved cannot pass on
// too few requests.
func shareMatches(k, n float64, w, prev int) (bool, string) {
	if n <= 0 {
		return false, "no requests observed"
	}
	lo, hi := wilson(k, n, observeZ)
	p, q := float64(w)/100, float64(prev)/100
	text := fmt.Sprintf("observed %.1f%% of %.0f requests on the canary (99.9%% interval %.1f–%.1f%%)", 100*k/n, n, 100*lo, 100*hi)
	in := func(x float64) bool { return x >= lo-1e-12 && x <= hi+1e-12 }
	return in(p) && (prev == w || !in(q)), text
}

// wilson returns the Wilson score interval of k successes in n trials.
func wilson(k, n, z float64) (float64, float64) {
	ph := k / n
	z2 := z * z
	center := (ph + z2/(2*n)) / (1 + z2/n)
	half := z / (1 + z2/n) * math.Sqrt(ph*(1-ph)/n+z2/(4*n*n))
	return max(0, center-half), min(1, center+half)
}

// propagation is Options.Propagation, or the router's own
// (providers.Propagator) when that is zero, read once.
func (c *Canary) propagation(ctx context.Context) (time.Duration, error) {
	return c.prop.Read(ctx)
}

// healthyGuard refuses to put traffic on a target with no healthy member
// (Options.TargetHealth).
func (c *Canary) healthyGuard(ctx context.Context, target string) error {
	if c.opts.TargetHealth == nil {
		return nil
	}
	hs, err := c.opts.TargetHealth.TargetHealth(ctx, target)
	if err != nil {
		return fmt.Errorf("target health of %q: %w", target, err)
	}
	for _, h := range hs {
		if h.State == providers.HealthHealthy {
			return nil
		}
	}
	return fmt.Errorf("target %q has 0 healthy of %d members: no weight is put on it, and its other side is not retired: %w", target, len(hs), ErrNoHealthyTarget)
}

// ErrNoHealthyTarget: a step would put traffic on a target none of whose
// members is healthy.
var ErrNoHealthyTarget = errors.New("no healthy target")
