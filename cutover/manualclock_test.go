package cutover_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// fired reports whether ch has a time ready, and which.
func fired(ch <-chan time.Time) (time.Time, bool) {
	select {
	case at := <-ch:
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestManualClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := cutover.NewManualClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", c.Now(), start)
	}
	now := c.After(0)
	second, soon, later := c.After(time.Second), c.After(time.Minute), c.After(time.Hour)
	if at, ok := fired(now); !ok || !at.Equal(start) {
		t.Errorf("After(0): %v, %v; want %v at once", at, ok, start)
	}
	c.Advance(999 * time.Millisecond)
	if _, ok := fired(second); ok {
		t.Error("After(1s) fired after 999ms")
	}
	c.Advance(-time.Hour) // ignored
	c.Advance(time.Millisecond)
	if at, ok := fired(second); !ok || !at.Equal(start.Add(time.Second)) {
		t.Errorf("After(1s) after 1s: %v, %v; want %v", at, ok, start.Add(time.Second))
	}
	if got := c.Advance(2 * time.Minute); !got.Equal(start.Add(2*time.Minute + time.Second)) {
		t.Fatalf("Advance returned %v", got)
	}
	if _, ok := fired(soon); !ok {
		t.Error("After(1m) did not fire after two minutes")
	}
	if _, ok := fired(later); ok {
		t.Error("After(1h) fired after two minutes")
	}
	moved := c.Now()
	c.Set(start) // backwards: ignored
	if !c.Now().Equal(moved) {
		t.Errorf("Set to the past moved the clock to %v", c.Now())
	}
	c.Set(start.Add(2 * time.Hour))
	if at, ok := fired(later); !ok || !at.Equal(start.Add(2*time.Hour)) {
		t.Errorf("After(1h) after Set(+2h): %v, %v", at, ok)
	}
}

// A ManualClock decides exactly when a lease expires.
func ExampleManualClock() {
	clock := cutover.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	lease := cutover.NewMemLease(cutover.MemLeaseOptions{Clock: clock})
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
