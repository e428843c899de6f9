package journaltest_test

import (
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/cutover/journaltest"
)

// The suites pass against the memory implementations; the file ones run
// them in package cutover.
func TestSuitesOnMemory(t *testing.T) {
	t.Run("Journal", func(t *testing.T) {
		journaltest.TestJournal(t, func(t *testing.T) cutover.Journal { return cutover.NewMemJournal() })
	})
	t.Run("Lease", func(t *testing.T) {
		journaltest.TestLease(t, func(t *testing.T, clock cutover.Clock) cutover.Lease { return cutover.NewMemLease(clock) })
	})
}

func TestManualClock(t *testing.T) {
	start := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	c := journaltest.NewManualClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", c.Now(), start)
	}
	now := c.After(0)
	soon, later := c.After(time.Second), c.After(time.Minute)
	select {
	case got := <-now:
		if !got.Equal(start) {
			t.Errorf("After(0) sent %v", got)
		}
	default:
		t.Errorf("After(0) did not fire at once")
	}
	c.Advance(999 * time.Millisecond)
	select {
	case <-soon:
		t.Fatal("After(1s) fired after 999ms")
	default:
	}
	c.Advance(-time.Hour) // ignored
	c.Advance(time.Millisecond)
	select {
	case got := <-soon:
		if want := start.Add(time.Second); !got.Equal(want) {
			t.Errorf("After(1s) sent %v, want %v", got, want)
		}
	default:
		t.Fatal("After(1s) did not fire after 1s")
	}
	c.Advance(time.Hour)
	select {
	case <-later:
	default:
		t.Fatal("After(1m) did not fire after an hour")
	}
	if want := start.Add(time.Hour + time.Second); !c.Now().Equal(want) {
		t.Errorf("Now = %v, want %v", c.Now(), want)
	}
	if journaltest.NewManualClock(time.Time{}).Now().IsZero() {
		t.Error("NewManualClock(zero) starts at the zero time")
	}
}
