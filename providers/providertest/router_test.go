package providertest_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/providertest"
)

// The recording router keeps the contract it stands in for.
func TestRouterConformance(t *testing.T) {
	providertest.TestTrafficRouter(t, func(t *testing.T) (providers.TrafficRouter, []string) {
		targets := []string{"blue", "green", "grey"}
		return providertest.NewRouter(t, targets...), targets
	})
}

// TestRouterRecords: the router starts with all traffic on its first
// target, Share reads the weight in force, and History lists what
// SetWeights accepted and nothing it refused.
func TestRouterRecords(t *testing.T) {
	ctx := context.Background()
	r := providertest.NewRouter(t, "blue", "green")
	if got := r.Share("blue"); got != 100 {
		t.Errorf("initial blue share %d, want 100", got)
	}
	for _, w := range []providers.Weights{{"blue": 90, "green": 10}, {"blue": 50, "green": 60}, {"green": 100}} {
		_ = r.SetWeights(ctx, w)
	}
	want := []providers.Weights{{"blue": 90, "green": 10}, {"green": 100}}
	if diff := cmp.Diff(want, r.History()); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	if got := r.Share("green"); got != 100 {
		t.Errorf("green share %d, want 100", got)
	}
}
