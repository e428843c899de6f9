package fake

import (
	"context"
	"math"
	"time"

	"github.com/safecutover/safecutover/providers"
)

var _ providers.MetricFeed = (*Cloud)(nil)

// feedDelay is how one target's metrics are held back beyond the cloud's
// Options.MetricLag: an extra delay (one arm published later than the
// other) and a stall (its data stop at a time).
type feedDelay struct {
	extra time.Duration
	stall time.Time // zero: none
}

// FeedInfo returns the resolution and lag of the cloud's metrics
// (Options.MetricResolution and Options.MetricLag) and the five
// well-known metrics, all of which it answers.
func (c *Cloud) FeedInfo() providers.FeedInfo {
	return providers.FeedInfo{
		Resolution: c.opts.MetricResolution,
		Lag:        c.opts.MetricLag,
		Metrics: []string{providers.MetricRequests, providers.MetricErrors, providers.MetricSlow,
			providers.MetricLatencyAvg, providers.MetricLatencyP99},
	}
}

// DelayMetrics publishes target's metrics extra later than the cloud's
// Options.MetricLag from now on (an arm whose data arrive late); zero
// restores the common lag. ≥ 0. Not saved with the state.
func (c *Cloud) DelayMetrics(target string, extra time.Duration) error {
	if extra < 0 {
		return &Error{Op: "DelayMetrics", Resource: target, Err: invalid("extra: %v: want ≥ 0 (0: the common lag)", extra)}
	}
	return c.editDelay("DelayMetrics", target, func(d *feedDelay) { d.extra = extra })
}

// StallMetrics stops publishing target's metrics for the time from at on
// (at rounded down to the resolution): Settled stops there and Metric
// answers nothing later. A zero at resumes publishing. Not saved with the
// state.
func (c *Cloud) StallMetrics(target string, at time.Time) error {
	return c.editDelay("StallMetrics", target, func(d *feedDelay) { d.stall = at })
}

func (c *Cloud) editDelay(op, target string, edit func(*feedDelay)) error {
	if target == "" {
		return &Error{Op: op, Err: invalid("target: empty name")}
	}
	c.mu.Lock()
	tg := c.targetLocked(target)
	c.mu.Unlock()
	tg.mu.Lock()
	edit(&tg.delay)
	tg.mu.Unlock()
	return nil
}

// Settled returns the end of target's published data: now less the lag
// (and the target's extra delay), rounded down to the resolution, or the
// target's stall if earlier. A target that never had traffic has the zero
// time. Unknown targets are an error.
func (c *Cloud) Settled(ctx context.Context, target string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, context.Cause(ctx)
	}
	tg := c.lookupTarget(target)
	if tg == nil {
		return time.Time{}, &Error{Op: "Settled", Resource: target, Err: notFound("target", target)}
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.origin() == math.MaxInt64 {
		return time.Time{}, nil
	}
	return time.Unix(c.settledLocked(tg), 0).UTC(), nil
}

// settledLocked returns the second at which target's published data end,
// a multiple of the resolution. tg.mu is held.
func (c *Cloud) settledLocked(tg *target) int64 {
	res := int64(c.opts.MetricResolution / time.Second)
	end := floorTo(c.clock.Now().Add(-c.opts.MetricLag-tg.delay.extra).Unix(), res)
	if !tg.delay.stall.IsZero() {
		end = min(end, floorTo(tg.delay.stall.Unix(), res))
	}
	return end
}

func floorTo(s, res int64) int64 {
	r := s % res
	if r < 0 {
		r += res
	}
	return s - r
}

func ceilTo(s, res int64) int64 { return -floorTo(-s, res) }

// points counts the data points, of the cloud's resolution, with traffic
// in seconds [a, b) (a and b multiples of the resolution). tg.mu is held.
func (c *Cloud) points(tg *target, a, b int64) int {
	res := int64(c.opts.MetricResolution / time.Second)
	if res == 1 {
		return int(c.totals(tg, a, b).pts)
	}
	n := 0
	for t := a; t < b; t += res {
		if c.totals(tg, t, t+res).pts > 0 {
			n++
		}
	}
	return n
}
