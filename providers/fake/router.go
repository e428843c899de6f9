package fake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/safecutover/safecutover/providers"
)

// Router is a weighted router (think ALB forward action) over named
// targets. It implements providers.TrafficRouter; changes take effect at
// once. Its traffic feeds the metrics of its targets.
type Router struct {
	c    *Cloud
	name string
	d    *door // nil when err is set
	err  error
}

// Switcher sends all of its traffic to one target at a time (think
// Beanstalk CNAME swap). It implements providers.Switcher.
type Switcher struct {
	c    *Cloud
	name string
	d    *door
	err  error
}

var (
	_ providers.TrafficRouter = (*Router)(nil)
	_ providers.Switcher      = (*Switcher)(nil)
)

// WeightChange is one entry of a router's or switcher's history: the
// weights and request rate in force from At on.
type WeightChange struct {
	At      time.Time
	Weights providers.Weights
	Rate    float64
}

// Router returns the router called name, creating it over targets with all
// traffic on the first target and Options.Rate requests per second. If the
// router exists, it is returned as it is and targets are ignored. A bad
// name or target list (empty, duplicate or empty target names) gives a
// router whose every call returns the error.
func (c *Cloud) Router(name string, targets ...string) *Router {
	c.mu.Lock()
	if r := c.routers[name]; r != nil {
		c.mu.Unlock()
		return r
	}
	d, err := c.newDoorLocked("router", name, targets)
	if err != nil {
		c.mu.Unlock()
		return &Router{c: c, name: name, err: err}
	}
	r := &Router{c: c, name: name, d: d}
	c.routers[name] = r
	c.mu.Unlock()
	c.changed()
	return r
}

// Switcher returns the switcher called name, creating it over targets
// with the first one active. Like Router, an existing switcher is returned
// as it is, and bad arguments give a switcher whose calls fail.
func (c *Cloud) Switcher(name string, targets ...string) *Switcher {
	c.mu.Lock()
	if s := c.switchers[name]; s != nil {
		c.mu.Unlock()
		return s
	}
	d, err := c.newDoorLocked("switcher", name, targets)
	if err != nil {
		c.mu.Unlock()
		return &Switcher{c: c, name: name, err: err}
	}
	s := &Switcher{c: c, name: name, d: d}
	c.switchers[name] = s
	c.mu.Unlock()
	c.changed()
	return s
}

// newDoorLocked checks the arguments and creates a door fed at the
// default rate, all traffic on targets[0]. c.mu is held.
func (c *Cloud) newDoorLocked(kind, name string, targets []string) (*door, error) {
	if name == "" {
		return nil, invalid("%s: empty name", kind)
	}
	if len(targets) == 0 {
		return nil, invalid("%s %q: no targets", kind, name)
	}
	d := &door{name: name, targets: slices.Clip(slices.Clone(targets))}
	for i, t := range targets {
		if t == "" {
			return nil, invalid("%s %q: target %d: empty name", kind, name, i)
		}
		if d.indexOf(t) != i {
			return nil, invalid("%s %q: target %q listed twice", kind, name, t)
		}
	}
	now := c.clock.Now()
	w := make([]int, len(targets))
	w[0] = 100
	d.hist = []doorState{{at: now, from: ceilSecond(now), rate: c.opts.Rate, w: w}}
	c.attachLocked(d)
	return d, nil
}

// attachLocked makes d feed its targets. c.mu is held.
func (c *Cloud) attachLocked(d *door) {
	for i, t := range d.targets {
		tg := c.targetLocked(t)
		tg.mu.Lock()
		tg.feeds = append(tg.feeds, feed{d: d, idx: i})
		tg.mu.Unlock()
	}
}

// Name returns the router's name.
func (r *Router) Name() string { return r.name }

// Targets returns the router's targets in the order they were given.
func (r *Router) Targets() []string {
	if r.d == nil {
		return nil
	}
	return append([]string(nil), r.d.targets...)
}

// SetWeights replaces the weights. Targets missing from w get 0; a target
// the router does not know, or weights that fail Validate, are an error
// and change nothing.
func (r *Router) SetWeights(ctx context.Context, w providers.Weights) error {
	arg := maps.Clone(w) // the record shows w as it was
	return r.c.call(ctx, OpSetWeights, r.name, arg.String, func() error {
		if r.err != nil {
			return r.err
		}
		if err := w.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		for t := range w {
			if r.d.indexOf(t) < 0 {
				return notFound("target", t)
			}
		}
		if r.d.change(r.c.clock.Now, func(st *doorState) {
			for i, t := range r.d.targets {
				st.w[i] = w[t]
			}
		}) {
			return r.c.changed()
		}
		return nil
	})
}

// Weights returns the weights in force now, every target included.
func (r *Router) Weights(ctx context.Context) (providers.Weights, error) {
	var w providers.Weights
	err := r.c.call(ctx, OpWeights, r.name, nil, func() error {
		if r.err != nil {
			return r.err
		}
		w = r.d.weights(r.d.current())
		return nil
	})
	return w, err
}

// SetRate sets the requests per second the router receives from now on
// (≥ 0). Not an API call: it is neither recorded nor subject to faults.
func (r *Router) SetRate(rps float64) error {
	if r.err != nil {
		return &Error{Op: "SetRate", Resource: r.name, Err: r.err}
	}
	return r.c.setRate(r.d, rps)
}

// Rate returns the requests per second the router receives now.
func (r *Router) Rate() float64 {
	if r.err != nil {
		return 0
	}
	return r.d.current().rate
}

// History returns every change of weights or rate, oldest first, starting
// with the router's creation.
func (r *Router) History() []WeightChange {
	if r.err != nil {
		return nil
	}
	return r.d.history()
}

func (c *Cloud) setRate(d *door, rps float64) error {
	if !(rps >= 0 && rps <= 1e9) {
		return &Error{Op: "SetRate", Resource: d.name, Err: invalid("rate %g outside 0–1e9 requests per second", rps)}
	}
	if d.change(c.clock.Now, func(st *doorState) { st.rate = rps }) {
		return c.changed()
	}
	return nil
}

func (d *door) history() []WeightChange {
	h := d.snapshot()
	out := make([]WeightChange, len(h))
	for i, st := range h {
		out[i] = WeightChange{At: st.at, Weights: d.weights(st), Rate: st.rate}
	}
	return out
}

// Name returns the switcher's name.
func (s *Switcher) Name() string { return s.name }

// Targets returns the switcher's targets in the order they were given.
func (s *Switcher) Targets() []string {
	if s.d == nil {
		return nil
	}
	return append([]string(nil), s.d.targets...)
}

// Switch sends all traffic to target. Switching to the active target does
// nothing; an unknown target is an error and changes nothing.
func (s *Switcher) Switch(ctx context.Context, target string) error {
	return s.c.call(ctx, OpSwitch, s.name, func() string { return target }, func() error {
		if s.err != nil {
			return s.err
		}
		if target == "" {
			return invalid("switch: empty target")
		}
		i := s.d.indexOf(target)
		if i < 0 {
			return notFound("target", target)
		}
		if s.d.change(s.c.clock.Now, func(st *doorState) {
			clear(st.w)
			st.w[i] = 100
		}) {
			return s.c.changed()
		}
		return nil
	})
}

// Active returns the target receiving traffic now.
func (s *Switcher) Active(ctx context.Context) (string, error) {
	var active string
	err := s.c.call(ctx, OpActive, s.name, nil, func() error {
		if s.err != nil {
			return s.err
		}
		active = s.d.active(s.d.current())
		return nil
	})
	return active, err
}

func (d *door) active(st doorState) string {
	for i, v := range st.w {
		if v == 100 {
			return d.targets[i]
		}
	}
	return ""
}

// SetRate sets the requests per second the switcher receives from now on
// (≥ 0). Not an API call: neither recorded nor subject to faults.
func (s *Switcher) SetRate(rps float64) error {
	if s.err != nil {
		return &Error{Op: "SetRate", Resource: s.name, Err: s.err}
	}
	return s.c.setRate(s.d, rps)
}

// History returns every switch or rate change, oldest first, starting with
// the switcher's creation; Weights give the active target 100.
func (s *Switcher) History() []WeightChange {
	if s.err != nil {
		return nil
	}
	return s.d.history()
}

// itoa is strconv.Itoa, short.
func itoa(n int) string { return strconv.Itoa(n) }

// Current returns the weights in force now without an API call: it is not
// recorded and no fault applies. For tests asserting where traffic ended.
func (r *Router) Current() providers.Weights {
	if r.err != nil {
		return nil
	}
	return r.d.weights(r.d.current())
}

// Current returns the active target without an API call (not recorded, no
// fault applies).
func (s *Switcher) Current() string {
	if s.err != nil {
		return ""
	}
	return s.d.active(s.d.current())
}
