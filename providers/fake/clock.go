package fake

import (
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// ManualClock is cutover.ManualClock: a clock that moves only when told to.
type ManualClock = cutover.ManualClock

// NewManualClock returns a clock stopped at start.
func NewManualClock(start time.Time) *ManualClock { return cutover.NewManualClock(start) }
