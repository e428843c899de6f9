package cutover

import (
	"context"
	"fmt"
	"time"
)

// Clock tells time and waits. Production uses RealClock; tests run the real
// clock inside a testing/synctest bubble; examples use ScaledClock so that an
// hour-long bake takes seconds.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed on this clock.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ScaledClock runs a given factor faster than the wall clock from its
// creation on (see NewScaledClock). The zero value runs at the wall clock's
// pace, like RealClock.
type ScaledClock struct {
	start  time.Time // wall time at creation
	origin time.Time // clock time at creation
	factor float64
}

// Bounds of a ScaledClock's factor: slower than a thousandth of the wall
// clock is no use, and beyond a billion one wall nanosecond is more than
// a second of this clock.
const (
	minScaleFactor = 1e-3
	maxScaleFactor = 1e9
)

// NewScaledClock returns a clock that starts at origin (now, if zero) and
// runs factor times faster than the wall clock (0: 1, the wall clock's
// pace), or an error if factor is outside 0.001 to 1e9 or not a number.
func NewScaledClock(origin time.Time, factor float64) (*ScaledClock, error) {
	if factor == 0 {
		factor = 1
	}
	if !(factor >= minScaleFactor && factor <= maxScaleFactor) { // NaN too
		return nil, fmt.Errorf("scaled clock: factor: %v: want %g to %g (0: 1, the wall clock's pace)", factor, float64(minScaleFactor), float64(maxScaleFactor))
	}
	now := time.Now()
	if origin.IsZero() {
		origin = now
	}
	return &ScaledClock{start: now, origin: origin, factor: factor}, nil
}

// Now returns the scaled time.
func (c *ScaledClock) Now() time.Time {
	if c.factor <= 0 {
		return time.Now() // the zero value
	}
	return c.origin.Add(time.Duration(float64(time.Since(c.start)) * c.factor))
}

// After waits d of scaled time, d/factor of wall time.
func (c *ScaledClock) After(d time.Duration) <-chan time.Time {
	if c.factor <= 0 {
		return time.After(d) // the zero value
	}
	out := make(chan time.Time, 1)
	time.AfterFunc(c.wall(d), func() { out <- c.Now() })
	return out
}

// wall returns how long d of this clock's time takes on the wall clock.
func (c *ScaledClock) wall(d time.Duration) time.Duration {
	if c.factor <= 0 {
		return d
	}
	return time.Duration(float64(d) / c.factor)
}

// sleep waits for dur or until ctx is done.
func (d *drive) sleep(ctx context.Context, dur time.Duration) error {
	fired := d.after(dur)
	defer d.stopAfter()
	select {
	case <-ctx.Done():
		return d.stopped(ctx, ctx.Err())
	case <-fired:
		return nil
	}
}

// after returns a channel that fires after dur on the runner's clock;
// stopAfter stops it. On the real and the scaled clock one wall-clock
// timer serves the whole drive: a poll costs no allocation and no
// goroutine (10,000 cutovers poll every few seconds). Only the drive's
// goroutine calls them.
func (d *drive) after(dur time.Duration) <-chan time.Time {
	wall, ok := d.wall(dur)
	if !ok {
		return d.clock.After(dur)
	}
	if d.timer == nil {
		d.timer = time.NewTimer(wall)
	} else {
		d.timer.Reset(wall)
	}
	return d.timer.C
}

// wall returns dur on the runner's clock as wall-clock time, when the
// clock is the real or the scaled clock.
func (d *drive) wall(dur time.Duration) (time.Duration, bool) {
	switch c := d.clock.(type) {
	case RealClock:
		return dur, true
	case *ScaledClock:
		if c != nil {
			return c.wall(dur), true
		}
	}
	return 0, false
}

// stopAfter stops the timer of the last after on the real or scaled clock.
func (d *drive) stopAfter() {
	if d.timer != nil {
		d.timer.Stop()
	}
}
