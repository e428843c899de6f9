package rolling_test

import (
	"strings"
	"testing"

	"github.com/safecutover/safecutover/rolling"
)

// FuzzNew checks that New never panics, names what it rejects, and that
// the batches it accepts increase to desired.
func FuzzNew(f *testing.F) {
	f.Add(8, 2, 0, 1, 1)
	f.Add(5, 0, 30, 0, 0)
	f.Add(1, 0, 0, 0, 0)
	f.Add(4, -1, 0, 0, 4)
	f.Fuzz(func(t *testing.T, desired, size, pct, surge, unavail int) {
		w := newWorld(1, 0, 1<<30, 0)
		r, err := rolling.New(w.fleets["blue"], w.fleets["green"], desired, rolling.Options{BatchSize: size, BatchPercent: pct, MaxSurge: surge, MaxUnavailable: unavail})
		if err != nil {
			if !strings.Contains(err.Error(), "Options.") && !strings.Contains(err.Error(), "desired") {
				t.Errorf("error %q names no option", err)
			}
			return
		}
		prev := 0
		bs := r.Batches()
		for _, g := range bs {
			if g <= prev {
				t.Fatalf("batches %v do not increase", bs)
			}
			prev = g
		}
		if prev != desired {
			t.Fatalf("batches %v do not end at %d", bs, desired)
		}
	})
}
