package journaltest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/cutover/journaltest"
)

// A ManualClock decides when a lease expires.
func ExampleManualClock() {
	clock := journaltest.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	lease := cutover.NewMemLease(clock)
	ctx := context.Background()
	fmt.Println(lease.Acquire(ctx, "c1", "a", time.Minute))
	fmt.Println(lease.Acquire(ctx, "c1", "b", time.Minute))
	clock.Advance(2 * time.Minute)
	fmt.Println(lease.Acquire(ctx, "c1", "b", time.Minute))
	// Output:
	// <nil>
	// lease c1: held by "a" until 2025-01-01T00:01:00Z
	// <nil>
}
