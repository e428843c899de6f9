package fake_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// TestMain runs the child of TestCrashAcrossProcesses instead of the tests
// when FAKE_CHILD_STATE names a state file, so that the child is not a test
// of its own (one that would be reported as skipped in every other run).
func TestMain(m *testing.M) {
	if path := os.Getenv("FAKE_CHILD_STATE"); path != "" {
		if err := crashChild(path); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild opens the state at path, makes changes, and then waits to be
// killed (it gives up after a minute).
func crashChild(path string) error {
	c, err := fake.Open(path, fake.Options{})
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := c.Fleet("green", 0).SetDesired(ctx, 3); err != nil {
		return err
	}
	r := c.Router("alb", "blue", "green")
	for _, g := range []int{10, 25, 50} {
		if err := r.SetWeights(ctx, providers.Weights{"blue": 100 - g, "green": g}); err != nil {
			return err
		}
	}
	time.Sleep(time.Minute) // killed long before this ends
	return fmt.Errorf("not killed within a minute")
}
