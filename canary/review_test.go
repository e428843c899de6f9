package canary_test

import (
	"strings"
	"testing"

	"github.com/safecutover/safecutover/canary"
)

// TestCapBelowDerivedStartNamesLinear: a linear ramp without Start starts
// at Linear, so a Cap below it is a conflict of Cap and Linear; the error
// must not blame Options.Start, which the caller never set.
func TestCapBelowDerivedStartNamesLinear(t *testing.T) {
	t.Parallel()
	_, err := canary.New(newRouter(), canary.Options{Linear: 50, Cap: 30})
	if err == nil {
		t.Fatal("New accepted Linear 50 with Cap 30")
	}
	if msg := err.Error(); !strings.Contains(msg, "Options.Linear") || strings.Contains(msg, "Options.Start") {
		t.Errorf("error %q: want it to name Options.Linear and not Options.Start", msg)
	}
}
