package cutover_test

import (
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
