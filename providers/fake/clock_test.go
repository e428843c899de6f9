package fake_test

import (
	"testing"
	"time"

	"github.com/safecutover/safecutover/providers/fake"
)

func TestManualClock(t *testing.T) {
	c := fake.NewManualClock(epoch)
	fired := func(ch <-chan time.Time) (time.Time, bool) {
		select {
		case at := <-ch:
			return at, true
		default:
			return time.Time{}, false
		}
	}
	now := c.After(0)
	soon, later := c.After(time.Minute), c.After(time.Hour)
	if at, ok := fired(now); !ok || !at.Equal(epoch) {
		t.Errorf("After(0): %v, %v; want %v at once", at, ok, epoch)
	}
	c.Advance(59 * time.Second)
	if _, ok := fired(soon); ok {
		t.Error("After(1m) fired after 59s")
	}
	c.Advance(time.Second)
	if at, ok := fired(soon); !ok || !at.Equal(epoch.Add(time.Minute)) {
		t.Errorf("After(1m) after 1m: %v, %v", at, ok)
	}
	c.Set(epoch) // backwards: ignored
	if !c.Now().Equal(epoch.Add(time.Minute)) {
		t.Errorf("Set to the past moved the clock to %v", c.Now())
	}
	c.Advance(-time.Hour) // ignored too
	c.Set(epoch.Add(2 * time.Hour))
	if at, ok := fired(later); !ok || !at.Equal(epoch.Add(2*time.Hour)) {
		t.Errorf("After(1h) after Set(+2h): %v, %v", at, ok)
	}
}
