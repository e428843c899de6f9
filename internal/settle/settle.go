package settle

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// Propagation is a strategy's propagation: the user's, when set (> 0),
// else that of the router or switcher (providers.Propagator), read once.
// Safe for concurrent use.
type Propagation struct {
	fixed time.Duration
	of    providers.Propagator // nil: none

	mu   sync.Mutex
	read bool
	d    time.Duration
}

// NewPropagation returns the propagation of a strategy whose option is
// fixed (0: none set) over traffic mover (a router or a switcher; it may
// implement providers.Propagator).
func NewPropagation(fixed time.Duration, mover any) *Propagation {
	p := &Propagation{fixed: fixed}
	if fixed <= 0 {
		p.of, _ = mover.(providers.Propagator)
	}
	return p
}

// Dynamic reports whether there is a propagation at all: a fixed one, or
// a mover that reports its own.
func (p *Propagation) Dynamic() bool { return p.fixed > 0 || p.of != nil }

// Read returns the propagation, reading the mover's the first time.
func (p *Propagation) Read(ctx context.Context) (time.Duration, error) {
	if p.fixed > 0 || p.of == nil {
		return max(p.fixed, 0), nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.read {
		return p.d, nil
	}
	d, err := p.of.Propagation(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the propagation of the traffic's router or switcher: %w", err)
	}
	if d < 0 {
		return 0, fmt.Errorf("propagation of the traffic's router or switcher: %v: negative, want ≥ 0", d)
	}
	p.read, p.d = true, d
	return d, nil
}

// Now is the propagation as last read (for gates, which have no error
// path of their own): the fixed one, or the mover's once Read has read
// it, else 0.
func (p *Propagation) Now() time.Duration {
	if p.fixed > 0 {
		return p.fixed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.d
}

// Gate wraps g, named name, so that it is Pending until p.Now() has passed
// since its first evaluation after Reset (the stage began baking), so
// that it judges traffic that follows the change.
func Gate(g cutover.Gate, name string, p *Propagation, clock cutover.Clock) cutover.Gate {
	if clock == nil {
		clock = cutover.RealClock{}
	}
	return &settling{g: g, name: name, p: p, clock: clock}
}

type settling struct {
	g     cutover.Gate
	name  string
	p     *Propagation
	clock cutover.Clock
	start time.Time
}

// Evaluate is Pending while clients may still follow the old traffic,
// then the gate's own verdict.
func (s *settling) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	now := s.clock.Now()
	if s.start.IsZero() {
		s.start = now
	}
	d := s.p.Now()
	if left := d - now.Sub(s.start); left > 0 {
		return cutover.Verdict{Decision: cutover.Pending,
			Reason: fmt.Sprintf("waiting %v more for clients to follow the change (propagation %v)", left.Round(time.Second), d)}, nil
	}
	return s.g.Evaluate(ctx)
}

// Name is the wrapped gate's name.
func (s *settling) Name() string { return s.name }

// Unwrap returns the wrapped gate.
func (s *settling) Unwrap() []cutover.Gate { return []cutover.Gate{s.g} }

// Reset starts the wait again and resets the wrapped gate.
func (s *settling) Reset() {
	s.start = time.Time{}
	if r, ok := s.g.(cutover.Resetter); ok {
		r.Reset()
	}
}
