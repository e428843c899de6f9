package cutover_test

import (
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// The zero ScaledClock runs at the wall clock's pace ("the zero Factor
// means 1"): its time moves, and After waits.
func TestScaledClockZeroValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c cutover.ScaledClock
		t0, start := c.Now(), time.Now()
		<-c.After(time.Second)
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("After(1s) returned after %s, want ≥ 1s", waited)
		}
		if moved := c.Now().Sub(t0); moved < time.Second {
			t.Errorf("clock moved %s in 1s, want ≥ 1s", moved)
		}
	})
}

// NewScaledClock refuses a factor it cannot keep time with, naming it and
// what 0 means; 0 runs at the wall clock's pace.
func TestNewScaledClockFactor(t *testing.T) {
	for _, f := range []float64{-1, math.NaN(), math.Inf(1), 1e10, 1e-4} {
		if c, err := cutover.NewScaledClock(time.Time{}, f); err == nil || c != nil || !strings.Contains(err.Error(), "factor: ") || !strings.Contains(err.Error(), "0: 1") {
			t.Errorf("factor %v: %v, %v; want an error naming the factor and what 0 means", f, c, err)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		for f, want := range map[float64]time.Duration{0: time.Second, 1e-3: time.Millisecond, 600: 10 * time.Minute, 1e9: 1e9 * time.Second} {
			c, err := cutover.NewScaledClock(time.Time{}, f)
			if err != nil {
				t.Fatalf("factor %v: %v", f, err)
			}
			t0 := c.Now()
			time.Sleep(time.Second)
			if moved := c.Now().Sub(t0); moved != want {
				t.Errorf("factor %v: clock moved %s in a wall second, want %s", f, moved, want)
			}
		}
	})
}
