package awsdemo

import (
	"context"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/providers"
)

// renamedRouter presents a router whose targets have names of their own
// (Route 53 SetIdentifiers) as a router of "blue" and "green", so the
// examples' plans and progress display are the same on every router.
type renamedRouter struct {
	r     providers.TrafficRouter
	names map[string]string // example's name → the router's
}

var _ providers.TrafficRouter = renamedRouter{}

func (r renamedRouter) SetWeights(ctx context.Context, w providers.Weights) error {
	out := make(providers.Weights, len(w))
	for name, v := range w {
		n, ok := r.names[name]
		if !ok {
			return fmt.Errorf("set weights: unknown target %q; want \"blue\" and \"green\"", name)
		}
		out[n] = v
	}
	return r.r.SetWeights(ctx, out)
}

func (r renamedRouter) Weights(ctx context.Context) (providers.Weights, error) {
	w, err := r.r.Weights(ctx)
	if err != nil {
		return nil, err
	}
	out := make(providers.Weights, len(w))
	for name, n := range r.names {
		if v, ok := w[n]; ok {
			out[name] = v
		}
	}
	return out, nil
}

func (r renamedRouter) String() string { return fmt.Sprint(r.r) }

// Propagation passes the router's own on (providers.Propagator), so that
// the canary holds its gates for the Route 53 TTL.
func (r renamedRouter) Propagation(ctx context.Context) (time.Duration, error) {
	p, ok := r.r.(providers.Propagator)
	if !ok {
		return 0, nil
	}
	return p.Propagation(ctx)
}

// renamedSwitcher presents a switcher whose targets have names of their
// own (Beanstalk environments) as a switcher of "blue" and "green".
type renamedSwitcher struct {
	s     providers.Switcher
	names map[string]string // example's name → the switcher's
}

var _ providers.Switcher = renamedSwitcher{}

func (s renamedSwitcher) Switch(ctx context.Context, target string) error {
	n, ok := s.names[target]
	if !ok {
		return fmt.Errorf("switch: unknown target %q; want \"blue\" or \"green\"", target)
	}
	return s.s.Switch(ctx, n)
}

func (s renamedSwitcher) Active(ctx context.Context) (string, error) {
	a, err := s.s.Active(ctx)
	if err != nil {
		return "", err
	}
	for name, n := range s.names {
		if n == a {
			return name, nil
		}
	}
	return "", fmt.Errorf("active target %q is neither blue nor green", a)
}

// Propagation passes the switcher's own on (providers.Propagator: the
// Beanstalk CNAME's TTL), so that the blue/green strategy holds its gates
// until clients follow the swap.
func (s renamedSwitcher) Propagation(ctx context.Context) (time.Duration, error) {
	p, ok := s.s.(providers.Propagator)
	if !ok {
		return 0, nil
	}
	return p.Propagation(ctx)
}
