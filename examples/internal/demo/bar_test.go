package demo

import (
	"strings"
	"testing"

	"github.com/safecutover/safecutover/providers"
)

// A router that breaks its contract (weights outside 0–100) is drawn with a
// clamped bar, not a panic.
func TestBarClampsWeights(t *testing.T) {
	for _, w := range []providers.Weights{{"blue": 150, "green": -50}, {"blue": -10, "green": 110}, {"blue": 40, "green": 60}} {
		got := Bar(w)
		if n := strings.Count(got, "█") + strings.Count(got, "░"); n != 20 {
			t.Errorf("Bar(%v) = %q: %d cells, want 20", w, got, n)
		}
	}
}
