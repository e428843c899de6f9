package rolling

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// DefaultBatchPercent is the batch size when Options sets neither BatchSize
// nor BatchPercent.
const DefaultBatchPercent = 25

// Limits of New's arguments.
const (
	MaxDesired = 1000000 // the largest desired capacity
	MaxBatches = 1000    // the most batches a rolling cutover may have
)

// Options configure a Rolling. The zero value is valid: batches of 25 %,
// each surging by a whole batch, with no gates.
type Options struct {
	// Blue and Green name the fleets in stage names, errors and the
	// Router's weights. Defaults "blue" and "green".
	Blue, Green string
	// BatchSize is how many members move per batch, or BatchPercent what
	// percentage of desired (rounded up). Set at most one.
	BatchSize    int
	BatchPercent int
	// MaxSurge is how many members blue and green together may have
	// above desired; MaxUnavailable how many below desired may be
	// unhealthy. When both are zero, MaxSurge is the batch size.
	// MaxUnavailable must leave at least one member.
	MaxSurge       int
	MaxUnavailable int
	// Router, if set, splits traffic between Blue and Green in proportion
	// to their healthy capacity.
	Router providers.TrafficRouter
	// Gates are judged for Bake after each batch, afresh in each.
	Gates []cutover.Gate
	Bake  time.Duration
	// ReadyTimeout bounds each wait for new members to be healthy
	// (default 10m); PollInterval is how often capacity is polled then
	// (default 5s).
	ReadyTimeout time.Duration
	PollInterval time.Duration
	// VerifyAttempts bounds the read-backs of the weights (default 5),
	// VerifyInterval is the wait between them (default 1s).
	VerifyAttempts int
	VerifyInterval time.Duration
	// Clock times the waits. Default cutover.RealClock.
	Clock cutover.Clock
}

// Rolling moves desired capacity from a blue fleet to a green fleet in
// batches. It is a cutover.Strategy.
type Rolling struct {
	blue, green    providers.Fleet
	desired, batch int
	surge, unavail int
	opts           Options
}

var _ cutover.Strategy = (*Rolling)(nil)

// New returns a rolling cutover of desired members from blue to green, or an
// error naming the option that is wrong. Blue is expected to hold desired
// members and green none when the first batch starts.
func New(blue, green providers.Fleet, desired int, opts Options) (*Rolling, error) {
	if blue == nil || green == nil {
		return nil, errors.New("rolling: blue and green fleets must not be nil")
	}
	if desired < 1 || desired > MaxDesired {
		return nil, fmt.Errorf("rolling: desired %d outside 1–%d", desired, MaxDesired)
	}
	var err error
	if opts.Blue, opts.Green, err = providers.Sides(opts.Blue, opts.Green); err != nil {
		return nil, fmt.Errorf("rolling: %w", err)
	}
	if opts.BatchSize != 0 && opts.BatchPercent != 0 {
		return nil, errors.New("rolling: set only one of Options.BatchSize and Options.BatchPercent")
	}
	if opts.BatchSize < 0 {
		return nil, fmt.Errorf("rolling: Options.BatchSize %d: must be ≥ 1", opts.BatchSize)
	}
	if opts.BatchPercent < 0 || opts.BatchPercent > 100 {
		return nil, fmt.Errorf("rolling: Options.BatchPercent %d outside 1–100", opts.BatchPercent)
	}
	batch := opts.BatchSize
	if batch == 0 {
		pct := opts.BatchPercent
		if pct == 0 {
			pct = DefaultBatchPercent
		}
		batch = (desired*pct + 99) / 100 // no overflow: desired ≤ MaxDesired
	}
	batch = min(batch, desired)
	if n := (desired + batch - 1) / batch; n > MaxBatches {
		return nil, fmt.Errorf("rolling: batches of %d make %d batches for desired %d; at most %d (raise Options.BatchSize or Options.BatchPercent)", batch, n, desired, MaxBatches)
	}
	if opts.MaxSurge < 0 || opts.MaxSurge > desired {
		return nil, fmt.Errorf("rolling: Options.MaxSurge %d outside 0–%d (desired)", opts.MaxSurge, desired)
	}
	if opts.MaxUnavailable < 0 {
		return nil, fmt.Errorf("rolling: Options.MaxUnavailable %d: must not be negative", opts.MaxUnavailable)
	}
	if opts.MaxUnavailable >= desired {
		return nil, fmt.Errorf("rolling: Options.MaxUnavailable %d would take healthy capacity to zero; it must be below desired %d", opts.MaxUnavailable, desired)
	}
	surge := opts.MaxSurge
	if surge == 0 && opts.MaxUnavailable == 0 {
		surge = batch
	}
	for i, g := range opts.Gates {
		if g == nil {
			return nil, fmt.Errorf("rolling: Options.Gates[%d] is nil", i)
		}
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Bake", &opts.Bake, 0},
		{"ReadyTimeout", &opts.ReadyTimeout, 10 * time.Minute},
		{"PollInterval", &opts.PollInterval, 5 * time.Second},
		{"VerifyInterval", &opts.VerifyInterval, time.Second},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("rolling: Options.%s %v: must not be negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if opts.VerifyAttempts < 0 {
		return nil, fmt.Errorf("rolling: Options.VerifyAttempts %d: must be ≥ 1 (0 means 5)", opts.VerifyAttempts)
	}
	if opts.VerifyAttempts == 0 {
		opts.VerifyAttempts = 5
	}
	if opts.Clock == nil {
		opts.Clock = cutover.RealClock{}
	}
	return &Rolling{blue: blue, green: green, desired: desired, batch: batch, surge: surge, unavail: opts.MaxUnavailable, opts: opts}, nil
}

// Batches returns green's desired capacity after each batch; blue's is
// desired minus that.
func (r *Rolling) Batches() []int {
	var out []int
	for g := r.batch; ; g += r.batch {
		g = min(g, r.desired)
		out = append(out, g)
		if g == r.desired {
			return out
		}
	}
}

// Stages returns one reversible stage per batch, named "batch k/n".
func (r *Rolling) Stages() ([]cutover.Stage, error) {
	batches := r.Batches()
	stages := make([]cutover.Stage, len(batches))
	prev := 0
	for i, g := range batches {
		g, before := g, prev
		stages[i] = cutover.Stage{
			Name:   fmt.Sprintf("batch %d/%d", i+1, len(batches)),
			Apply:  func(ctx context.Context) error { return r.move(ctx, r.desired-g, g) },
			Verify: func(ctx context.Context) error { return r.verify(ctx, r.desired-g, g) },
			Revert: func(ctx context.Context) error {
				if err := r.move(ctx, r.desired-before, before); err != nil {
					return err
				}
				return r.verify(ctx, r.desired-before, before)
			},
			Bake:  r.opts.Bake,
			Gates: r.opts.Gates,
		}
		prev = g
	}
	return stages, nil
}

// side is one fleet during a move, with its target.
type side struct {
	name   string
	fleet  providers.Fleet
	target int
	c      providers.Capacity
}

// move brings blue to wantBlue and green to wantGreen members: the fleets
// that must grow grow first (within the surge), the runner waits until they
// are healthy, the weights follow, and then the fleets that must shrink
// shrink (within the unavailability budget). It repeats until both are at
// their targets, and fails when no step can be made without breaking the
// invariant.
func (r *Rolling) move(ctx context.Context, wantBlue, wantGreen int) error {
	sides := []*side{
		{name: r.opts.Blue, fleet: r.blue, target: wantBlue},
		{name: r.opts.Green, fleet: r.green, target: wantGreen},
	}
	floor := r.desired - r.unavail
	for iter := 0; iter < 4*(r.desired+r.surge)+8; iter++ {
		if err := r.read(ctx, sides); err != nil {
			return err
		}
		progress := false
		// Grow within the surge.
		for _, s := range sides {
			if s.c.Desired >= s.target {
				continue
			}
			room := r.desired + r.surge - (sides[0].c.Desired + sides[1].c.Desired)
			n := min(s.target, s.c.Desired+room)
			if n > s.c.Desired {
				if err := s.fleet.SetDesired(ctx, n); err != nil {
					return fmt.Errorf("scale %s to %d: %w", s.name, n, err)
				}
				s.c.Desired = n
				progress = true
			}
		}
		// Wait until what grew is healthy.
		for _, s := range sides {
			if s.c.Desired > s.c.Healthy && s.c.Desired <= s.target {
				if err := providers.WaitHealthy(ctx, s.fleet, s.c.Desired, r.ready()); err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
			}
		}
		if err := r.read(ctx, sides); err != nil {
			return err
		}
		// Shrink within the unavailability budget. Count the worst case:
		// every member removed was a healthy one.
		for i, s := range sides {
			if s.c.Desired <= s.target {
				continue
			}
			o := sides[1-i]
			n := max(s.target, floor-o.c.Healthy-s.c.Healthy+s.c.Desired)
			if n >= s.c.Desired {
				continue
			}
			if err := r.follow(ctx, sides, i, n); err != nil {
				return err
			}
			if err := s.fleet.SetDesired(ctx, n); err != nil {
				return fmt.Errorf("scale %s to %d: %w", s.name, n, err)
			}
			s.c.Healthy -= s.c.Desired - n
			s.c.Desired = n
			progress = true
		}
		if sides[0].c.Desired == wantBlue && sides[1].c.Desired == wantGreen {
			for _, s := range sides {
				if s.c.Healthy < s.target {
					if err := providers.WaitHealthy(ctx, s.fleet, s.target, r.ready()); err != nil {
						return fmt.Errorf("%s: %w", s.name, err)
					}
				}
			}
			w := r.weights(wantBlue, wantGreen)
			if err := r.setWeights(ctx, w); err != nil {
				return err
			}
			if r.opts.Router == nil {
				// No router: traffic follows capacity.
				_ = cutover.NoteTraffic(ctx, w) // for the report; see NoteTraffic
			}
			return nil
		}
		if !progress {
			// Members still starting (a move cut short while they warm
			// up, then reverted) count as unavailable: wait for them,
			// within the ready bound, and try again.
			if s := warming(sides); s != nil {
				if err := providers.WaitHealthy(ctx, s.fleet, s.c.Desired, r.ready()); err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
				continue
			}
			return fmt.Errorf("cannot move %s %d→%d and %s %d→%d without healthy capacity falling below %d (desired %d − max unavailable %d) or desired rising above %d: %s %d/%d healthy, %s %d/%d healthy",
				sides[0].name, sides[0].c.Desired, wantBlue, sides[1].name, sides[1].c.Desired, wantGreen,
				floor, r.desired, r.unavail, r.desired+r.surge,
				sides[0].name, sides[0].c.Healthy, sides[0].c.Desired, sides[1].name, sides[1].c.Healthy, sides[1].c.Desired)
		}
	}
	return fmt.Errorf("move %s to %d and %s to %d: no end after many steps", r.opts.Blue, wantBlue, r.opts.Green, wantGreen)
}

// warming returns a side with members that are not healthy yet, or nil.
func warming(sides []*side) *side {
	for _, s := range sides {
		if s.c.Healthy < s.c.Desired {
			return s
		}
	}
	return nil
}

func (r *Rolling) read(ctx context.Context, sides []*side) error {
	for _, s := range sides {
		c, err := s.fleet.Capacity(ctx)
		if err != nil {
			return fmt.Errorf("read %s capacity: %w", s.name, err)
		}
		s.c = c
	}
	return nil
}

// follow sets the weights for the healthy capacity that remains once side i
// has shrunk to n members.
func (r *Rolling) follow(ctx context.Context, sides []*side, i, n int) error {
	if r.opts.Router == nil {
		return nil
	}
	h := [2]int{sides[0].c.Healthy, sides[1].c.Healthy}
	h[i] = min(h[i], n)
	if h[0]+h[1] == 0 {
		return nil
	}
	return r.setWeights(ctx, r.weights(h[0], h[1]))
}

// weights splits traffic in proportion to the blue and green capacities.
func (r *Rolling) weights(blue, green int) providers.Weights {
	g := int(math.Round(100 * float64(green) / float64(blue+green)))
	return providers.Weights{r.opts.Blue: 100 - g, r.opts.Green: g}
}

func (r *Rolling) setWeights(ctx context.Context, w providers.Weights) error {
	if r.opts.Router == nil {
		return nil
	}
	if err := r.opts.Router.SetWeights(ctx, w); err != nil {
		return fmt.Errorf("set weights %s: %w", w, err)
	}
	_ = cutover.NoteTraffic(ctx, w) // for the report; see NoteTraffic
	return nil
}

// verify confirms the capacities and, with a router, the weights.
func (r *Rolling) verify(ctx context.Context, wantBlue, wantGreen int) error {
	for _, s := range []struct {
		name  string
		fleet providers.Fleet
		want  int
	}{{r.opts.Blue, r.blue, wantBlue}, {r.opts.Green, r.green, wantGreen}} {
		c, err := s.fleet.Capacity(ctx)
		if err != nil {
			return fmt.Errorf("read %s capacity: %w", s.name, err)
		}
		if c.Desired != s.want {
			return fmt.Errorf("%s desired capacity is %d, want %d", s.name, c.Desired, s.want)
		}
	}
	if r.opts.Router == nil {
		return nil
	}
	return providers.ReadBack(ctx, r.opts.Router, r.weights(wantBlue, wantGreen), cutover.Poll{
		Interval: cutover.Backoff{Initial: r.opts.VerifyInterval},
		Attempts: r.opts.VerifyAttempts,
		Clock:    r.opts.Clock,
	})
}

// ready bounds each wait for new members to be healthy.
func (r *Rolling) ready() cutover.Poll {
	return cutover.Poll{Interval: cutover.Backoff{Initial: r.opts.PollInterval}, Timeout: r.opts.ReadyTimeout, Clock: r.opts.Clock}
}
