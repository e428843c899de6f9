package journaltest

import (
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// ManualClock is cutover.ManualClock: the suite moves it to decide exactly
// when a lease expires.
type ManualClock = cutover.ManualClock

// NewManualClock returns a clock that reads start (2025-01-01T00:00:00Z if
// start is zero) until it is advanced.
func NewManualClock(start time.Time) *ManualClock {
	if start.IsZero() {
		start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return cutover.NewManualClock(start)
}
