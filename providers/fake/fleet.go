package fake

import (
	"context"
	"sync"
	"time"

	"github.com/safecutover/safecutover/providers"
)

// MaxFleetSize is the largest desired count a fleet accepts.
const MaxFleetSize = 10000

// Fleet is the capacity of one target (think ECS service). It implements
// providers.Fleet. Members added by SetDesired start in the "initial"
// state and turn healthy after the fleet's warm-up; members removed go at
// once, newest first. The fleet's name is a target name: its members are
// what Cloud.TargetHealth reports for it.
type Fleet struct {
	c    *Cloud
	name string
	err  error

	mu        sync.Mutex
	desired   int
	members   []member // oldest first
	next      int      // number of the next member
	warmUp    time.Duration
	unhealthy int // the oldest this many members fail health checks
}

type member struct {
	ID      string    `json:"id"`
	Started time.Time `json:"started"` // zero: running since before the cloud
}

var _ providers.Fleet = (*Fleet)(nil)

// Fleet returns the fleet called name, creating it with desired members
// that are healthy at once (they were running before the cloud was
// made) and Options.WarmUp for members added later. An existing fleet is
// returned as it is. A bad name or count gives a fleet whose every call
// returns the error.
func (c *Cloud) Fleet(name string, desired int) *Fleet {
	c.mu.Lock()
	if f := c.fleets[name]; f != nil {
		c.mu.Unlock()
		return f
	}
	f := &Fleet{c: c, name: name, warmUp: c.opts.WarmUp}
	switch {
	case name == "":
		f.err = invalid("fleet: empty name")
	case desired < 0 || desired > MaxFleetSize:
		f.err = invalid("fleet %q: desired %d outside 0–%d", name, desired, MaxFleetSize)
	}
	if f.err != nil {
		c.mu.Unlock()
		return f
	}
	f.resizeLocked(desired, time.Time{})
	c.fleets[name] = f
	c.targetLocked(name)
	c.mu.Unlock()
	c.changed()
	return f
}

// Name returns the fleet's name.
func (f *Fleet) Name() string { return f.name }

// resizeLocked adds or removes members to reach n. f.mu is held (or f is
// not shared yet).
func (f *Fleet) resizeLocked(n int, now time.Time) {
	f.desired = n
	for len(f.members) < n {
		f.next++
		f.members = append(f.members, member{ID: f.name + "-" + itoa(f.next), Started: now})
	}
	f.members = f.members[:n]
}

// SetDesired sets the desired count (0–MaxFleetSize). Running follows at
// once; Healthy after the warm-up.
func (f *Fleet) SetDesired(ctx context.Context, n int) error {
	return f.c.call(ctx, OpSetDesired, f.name, func() string { return itoa(n) }, func() error {
		if f.err != nil {
			return f.err
		}
		if n < 0 || n > MaxFleetSize {
			return invalid("desired %d outside 0–%d", n, MaxFleetSize)
		}
		f.mu.Lock()
		same := n == f.desired
		if !same {
			f.resizeLocked(n, f.c.clock.Now())
		}
		f.mu.Unlock()
		if same {
			return nil
		}
		return f.c.changed()
	})
}

// Capacity returns the desired, running and healthy counts now.
func (f *Fleet) Capacity(ctx context.Context) (providers.Capacity, error) {
	var cp providers.Capacity
	err := f.c.call(ctx, OpCapacity, f.name, nil, func() error {
		if f.err != nil {
			return f.err
		}
		cp = f.Current()
		return nil
	})
	return cp, err
}

// Current returns the capacity now without an API call: it is not
// recorded and no fault applies.
func (f *Fleet) Current() providers.Capacity {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := providers.Capacity{Desired: f.desired, Running: len(f.members)}
	for _, m := range f.healthLocked(f.c.clock.Now()) {
		if m.State == providers.HealthHealthy {
			cp.Healthy++
		}
	}
	return cp
}

// healthLocked returns the health of every member at now.
func (f *Fleet) healthLocked(now time.Time) []providers.TargetHealth {
	out := make([]providers.TargetHealth, len(f.members))
	for i, m := range f.members {
		th := providers.TargetHealth{ID: m.ID, State: providers.HealthHealthy}
		switch {
		case i < f.unhealthy:
			th.State, th.Reason = providers.HealthUnhealthy, "Target.FailedHealthChecks"
		case !m.Started.IsZero() && now.Before(m.Started.Add(f.warmUp)):
			th.State, th.Reason = providers.HealthInitial, "Elb.RegistrationInProgress"
		}
		out[i] = th
	}
	return out
}

// SetWarmUp sets how long members added from now on (and those still
// warming up) take to become healthy (≥ 0).
func (f *Fleet) SetWarmUp(d time.Duration) error {
	if f.err != nil {
		return &Error{Op: "SetWarmUp", Resource: f.name, Err: f.err}
	}
	if d < 0 {
		return &Error{Op: "SetWarmUp", Resource: f.name, Err: invalid("warm-up %s is negative", d)}
	}
	f.mu.Lock()
	f.warmUp = d
	f.mu.Unlock()
	return f.c.changed()
}

// SetUnhealthy makes the n oldest members fail their health checks (all of
// them if there are fewer); 0 heals them all. It models instances going bad
// and is not an API call.
func (f *Fleet) SetUnhealthy(n int) error {
	if f.err != nil {
		return &Error{Op: "SetUnhealthy", Resource: f.name, Err: f.err}
	}
	if n < 0 {
		return &Error{Op: "SetUnhealthy", Resource: f.name, Err: invalid("unhealthy count %d is negative", n)}
	}
	f.mu.Lock()
	f.unhealthy = n
	f.mu.Unlock()
	return f.c.changed()
}

// TargetHealth returns the health of the members of the fleet called
// target. A target that is not a fleet is an error.
func (c *Cloud) TargetHealth(ctx context.Context, target string) ([]providers.TargetHealth, error) {
	var out []providers.TargetHealth
	err := c.call(ctx, OpTargetHealth, target, nil, func() error {
		if target == "" {
			return invalid("target health: empty target")
		}
		c.mu.RLock()
		f := c.fleets[target]
		c.mu.RUnlock()
		if f == nil {
			return notFound("fleet", target)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		out = f.healthLocked(c.clock.Now())
		return nil
	})
	return out, err
}
