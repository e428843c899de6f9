package fake

import (
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// NewManualClock returns cutover.NewManualClock(start).
//
// Deprecated: use cutover.NewManualClock, the one manual clock. This
// forwarder stays only while the CodeDeploy simulation still lives in this
// package and its tests call it.
func NewManualClock(start time.Time) *cutover.ManualClock { return cutover.NewManualClock(start) }
