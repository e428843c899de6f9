package providertest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/safecutover/safecutover/providers"
)

// Router is an in-memory TrafficRouter that records the weights it is
// given, for tests of code that drives a router: a strategy, a simulation
// whose traffic a router follows, a router that writes where no client
// looks. Changes take effect at once and move no simulated traffic (a
// fake.Cloud's router does that). It keeps the TrafficRouter contract
// (TestTrafficRouter passes on it) and is safe for concurrent use.
type Router struct {
	targets []string

	mu      sync.Mutex
	w       providers.Weights
	history []providers.Weights
}

var _ providers.TrafficRouter = (*Router)(nil)

// NewRouter returns a Router over targets (at least two, distinct and
// not empty) with all traffic on the first. Bad targets fail the test t.
func NewRouter(t testing.TB, targets ...string) *Router {
	t.Helper()
	if len(targets) < 2 {
		t.Fatalf("providertest.NewRouter: targets: %q: want at least two", targets)
	}
	for i, tg := range targets {
		if tg == "" || slices.Contains(targets[:i], tg) {
			t.Fatalf("providertest.NewRouter: targets[%d]: %q: want a name, not empty and not repeated", i, tg)
		}
	}
	return &Router{targets: slices.Clone(targets), w: providers.Weights{targets[0]: 100}}
}

// SetWeights sets the weights in force and records them. Invalid weights,
// a target the router does not have or a cancelled ctx are an error and
// change nothing.
func (r *Router) SetWeights(ctx context.Context, w providers.Weights) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("set weights: %w", err)
	}
	if err := w.Validate(); err != nil {
		return fmt.Errorf("set weights: %w", err)
	}
	for tg := range w {
		if !slices.Contains(r.targets, tg) {
			return fmt.Errorf("set weights: target %q: want one of %q", tg, r.targets)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w = maps.Clone(w)
	r.history = append(r.history, maps.Clone(w))
	return nil
}

// Weights returns a copy of the weights in force.
func (r *Router) Weights(ctx context.Context) (providers.Weights, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.w), nil
}

// Share returns the weight in force of target, 0 for one it does not have.
func (r *Router) Share(target string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.w[target]
}

// History returns a copy of the weights SetWeights accepted, oldest
// first (the initial weights are not in it).
func (r *Router) History() []providers.Weights {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := make([]providers.Weights, len(r.history))
	for i, w := range r.history {
		h[i] = maps.Clone(w)
	}
	return h
}
