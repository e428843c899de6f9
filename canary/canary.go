package canary

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/internal/settle"
	"github.com/safecutover/safecutover/providers"
)

// DefaultWeights returns the schedule used when Options sets none of
// Steps, Linear and Factor: 1, 5, 25, 50 and 100 percent. It is a function,
// not a variable, so that no caller can change every canary's default.
func DefaultWeights() []int { return []int{1, 5, 25, 50, 100} }

// Step is one weight of the schedule and what happens while it bakes.
type Step struct {
	// Weight is the canary's share of traffic in percent, 1–100. Weights
	// must increase from step to step.
	Weight int
	// Bake overrides Options.Bake for this step when positive.
	Bake time.Duration
	// MinBake overrides Options.MinBake for this step when positive.
	MinBake time.Duration
	// Gates are judged in this step only, in addition to Options.Gates and
	// Options.Background.
	Gates []cutover.Gate
	// Pause makes the run wait after this step has baked until a resume or
	// promote command arrives (a manual step).
	Pause bool
}

// Weights returns one Step per weight, for Options.Steps.
func Weights(ws ...int) []Step {
	steps := make([]Step, len(ws))
	for i, w := range ws {
		steps[i] = Step{Weight: w}
	}
	return steps
}

// Options configure a Canary. The zero value is valid: the canary "green"
// takes 1, 5, 25, 50 and 100 percent of the traffic of "blue", with no bake
// and no gates.
type Options struct {
	// Name prefixes the stage names ("canary 5%"). Default "canary".
	Name string
	// Blue and Green are the router's target names: what runs now (the
	// baseline) and what should run next (the canary). Defaults "blue"
	// and "green".
	Blue, Green string

	// The schedule: set at most one of Steps, Linear and Factor.
	//
	// Steps is an explicit schedule.
	Steps []Step
	// Linear is the step size of a linear ramp: Start, Start+Linear, … up
	// to Cap. 1–100.
	Linear int
	// Factor is the growth factor of an exponential ramp: Start,
	// Start×Factor, … (each step at least one more than the last) up to Cap.
	// Greater than 1.
	Factor float64
	// Start is the first weight of a Linear or Factor ramp, 1–100. Default:
	// Linear for a linear ramp, 1 for an exponential one.
	Start int
	// Cap is the highest weight, 1–100. Default 100. Generated ramps end
	// exactly at Cap; explicit steps must not exceed it.
	Cap int

	// Bake is how long each step is observed. Zero means each step's
	// gates are judged until each has a verdict.
	Bake time.Duration
	// MinBake is the least time each step bakes: an early final Pass (the
	// sequential judge's) never ends a step before it. 0–Bake; zero means
	// none (see cutover.Stage.MinBake).
	MinBake time.Duration
	// Deadline bounds each step from the end of its weight change until its
	// gates pass (see cutover.Stage.Deadline). Zero: the runner's default.
	Deadline time.Duration
	// Gates are judged in every step and start afresh in each (they are
	// Reset when a step starts baking).
	Gates []cutover.Gate
	// Background gates are judged in every step for the whole run: they are
	// reset only when the first step starts baking, so evidence accumulates
	// across steps. Their verdicts never end a bake early.
	Background []cutover.Gate
	// Comparative gates compare the canary with blue (the
	// sequential judge does). They are judged, afresh, in every step in
	// which blue still takes traffic: every step below 100 %.
	Comparative []cutover.Gate
	// Propagation is how long after a weight change clients may still
	// follow the old weights: the TTL of Route 53 records
	// (awsprovider.Route53Router.TTL), zero for an ALB. Zero takes the
	// router's own if it has one (providers.Propagator, as a
	// Route53Router does), read when the first step is applied; the bake
	// check below then cannot be made up front, but the gates are still
	// held for it. Every step's bake
	// must be at least this long, and its gates (not background gates) are
	// held Pending for this long after the step begins baking, so that they
	// judge traffic that follows the new weights. A rollback takes as long
	// to reach every client: keep blue serving for at least
	// Propagation after it (bluegreen's Options.Propagation does). ≥ 0.
	Propagation time.Duration
	// Observe, if set, checks after each weight change that clients
	// follow it: the step does not begin to bake until the share of
	// requests the canary served since the change (after Propagation)
	// matches its weight within a 99.9 % binomial (Wilson) interval that
	// also rules out the previous step's share — the data plane, not the
	// router's word. If that has not happened by ObserveDeadline the step
	// fails closed with an error wrapping ErrTrafficNotMoved that names the
	// expected and observed shares. Stickiness pins clients to the target
	// they first reached: with it on, the share moves only as new clients
	// arrive, so keep the stickiness duration well below ObserveDeadline.
	Observe providers.RequestCounter
	// ObserveDeadline bounds the wait of Observe from the weight change.
	// Must exceed Propagation. Default 10 minutes.
	ObserveDeadline time.Duration
	// ObserveInterval is the wait between two reads of Observe. Default
	// 30s (CloudWatch publishes ALB counts a minute at a time).
	ObserveInterval time.Duration
	// TargetHealth, if set, is asked before each step: a step never puts
	// weight on the canary target, nor takes the last traffic off the
	// blue, while green has no healthy member (an error
	// wrapping ErrNoHealthyTarget).
	TargetHealth providers.TargetHealthSource
	// PauseAt lists weights after which the run pauses until a resume or
	// promote command arrives. Each must be a weight of the schedule.
	PauseAt []int

	// VerifyAttempts bounds how often the weights are read back after a
	// change before the step fails closed. Default 5.
	VerifyAttempts int
	// VerifyInterval is the wait between read-backs. Default 1s.
	VerifyInterval time.Duration
	// Clock times the read-back retries. Default cutover.RealClock.
	Clock cutover.Clock
}

// Canary is a traffic shift from blue to green in weight
// steps. It is a cutover.Strategy.
type Canary struct {
	router providers.TrafficRouter
	opts   Options
	steps  []Step

	prop *settle.Propagation // Options.Propagation or the router's
}

var _ cutover.Strategy = (*Canary)(nil)

// New returns a canary over router configured by opts, or an error naming
// the option that is wrong.
func New(router providers.TrafficRouter, opts Options) (*Canary, error) {
	if router == nil {
		return nil, errors.New("canary: router is nil")
	}
	if opts.Name == "" {
		opts.Name = "canary"
	}
	var err error
	if opts.Blue, opts.Green, err = providers.Sides(opts.Blue, opts.Green); err != nil {
		return nil, fmt.Errorf("canary: %w", err)
	}
	if opts.VerifyAttempts < 0 {
		return nil, fmt.Errorf("canary: Options.VerifyAttempts %d: must be ≥ 1 (0 means 5)", opts.VerifyAttempts)
	}
	if opts.VerifyAttempts == 0 {
		opts.VerifyAttempts = 5
	}
	if opts.VerifyInterval < 0 {
		return nil, fmt.Errorf("canary: Options.VerifyInterval %v: must not be negative", opts.VerifyInterval)
	}
	if opts.VerifyInterval == 0 {
		opts.VerifyInterval = time.Second
	}
	if opts.Clock == nil {
		opts.Clock = cutover.RealClock{}
	}
	if opts.Bake < 0 {
		return nil, fmt.Errorf("canary: Options.Bake %v: must not be negative", opts.Bake)
	}
	if opts.Deadline < 0 {
		return nil, fmt.Errorf("canary: Options.Deadline %v: must not be negative", opts.Deadline)
	}
	if opts.Propagation < 0 {
		return nil, fmt.Errorf("canary: Options.Propagation %v: must not be negative", opts.Propagation)
	}
	if opts.ObserveDeadline < 0 || opts.ObserveInterval < 0 {
		return nil, fmt.Errorf("canary: Options.ObserveDeadline %v, ObserveInterval %v: must not be negative (0: 10m, 30s)", opts.ObserveDeadline, opts.ObserveInterval)
	}
	if opts.ObserveDeadline == 0 {
		opts.ObserveDeadline = 10 * time.Minute
	}
	if opts.ObserveInterval == 0 {
		opts.ObserveInterval = 30 * time.Second
	}
	if opts.Observe != nil && opts.ObserveDeadline <= opts.Propagation {
		return nil, fmt.Errorf("canary: Options.ObserveDeadline %v: must exceed Options.Propagation %v", opts.ObserveDeadline, opts.Propagation)
	}
	if err := checkGates("Options.Gates", opts.Gates); err != nil {
		return nil, err
	}
	if err := checkGates("Options.Background", opts.Background); err != nil {
		return nil, err
	}
	if err := checkGates("Options.Comparative", opts.Comparative); err != nil {
		return nil, err
	}
	if err := checkNotComparative("Options.Gates", opts.Gates); err != nil {
		return nil, err
	}
	if err := checkNotComparative("Options.Background", opts.Background); err != nil {
		return nil, err
	}
	if opts.MinBake < 0 {
		return nil, fmt.Errorf("canary: Options.MinBake %v: want ≥ 0 (0: no minimum)", opts.MinBake)
	}
	steps, err := schedule(opts)
	if err != nil {
		return nil, err
	}
	if opts.Propagation > 0 {
		for i, s := range steps {
			bake := opts.Bake
			if s.Bake > 0 {
				bake = s.Bake
			}
			if bake < opts.Propagation {
				return nil, fmt.Errorf("canary: Options.Bake %v of step %d (%d%%) is shorter than Options.Propagation %v: its gates would judge traffic still on the old weights", bake, i, s.Weight, opts.Propagation)
			}
		}
	}
	if opts.Deadline > 0 {
		for i, s := range steps {
			bake := opts.Bake
			if s.Bake > 0 {
				bake = s.Bake
			}
			if bake > opts.Deadline {
				return nil, fmt.Errorf("canary: Options.Deadline %v is shorter than the bake %v of step %d (%d%%); it must be at least the bake", opts.Deadline, bake, i, s.Weight)
			}
		}
	}
	for _, w := range opts.PauseAt {
		i := slices.IndexFunc(steps, func(s Step) bool { return s.Weight == w })
		if i < 0 {
			return nil, fmt.Errorf("canary: Options.PauseAt %d: not a weight of the schedule %v", w, weightsOf(steps))
		}
		steps[i].Pause = true
	}
	// The schedule is in steps now: the canary does not keep the caller's
	// step and pause lists as well (thousands of canaries in one process).
	opts.Steps, opts.PauseAt = nil, nil
	return &Canary{router: router, opts: opts, steps: steps, prop: settle.NewPropagation(opts.Propagation, router)}, nil
}

func checkGates(field string, gs []cutover.Gate) error {
	for i, g := range gs {
		if g == nil {
			return fmt.Errorf("canary: %s[%d] is nil", field, i)
		}
	}
	return nil
}

// checkNotComparative refuses a comparative gate (the sequential judge)
// where blue may take no traffic.
func checkNotComparative(field string, gs []cutover.Gate) error {
	for i, g := range gs {
		if cs := cutover.Comparatives(g); len(cs) > 0 {
			base, can := cs[0].Compares()
			return fmt.Errorf("canary: %s[%d] %q compares %s with %s, which takes no traffic at 100%%: put it in Options.Comparative, which judges it in every step below 100%%",
				field, i, cutover.GateName(g, i), can, base)
		}
	}
	return nil
}

// schedule resolves the steps of opts and validates them.
func schedule(opts Options) ([]Step, error) {
	set := 0
	for _, b := range []bool{len(opts.Steps) > 0, opts.Linear != 0, opts.Factor != 0} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, errors.New("canary: set only one of Options.Steps, Options.Linear and Options.Factor")
	}
	if opts.Cap < 0 || opts.Cap > 100 {
		return nil, fmt.Errorf("canary: Options.Cap %d outside 1–100 (0 means 100)", opts.Cap)
	}
	capW := opts.Cap
	if capW == 0 {
		capW = 100
	}
	if opts.Start != 0 && opts.Linear == 0 && opts.Factor == 0 {
		return nil, errors.New("canary: Options.Start needs Options.Linear or Options.Factor")
	}
	if opts.Start < 0 || opts.Start > 100 {
		return nil, fmt.Errorf("canary: Options.Start %d outside 1–100", opts.Start)
	}
	var steps []Step
	switch {
	case len(opts.Steps) > 0:
		steps = slices.Clone(opts.Steps)
		for i := range steps {
			steps[i].Gates = slices.Clone(steps[i].Gates)
		}
	case opts.Linear != 0:
		if opts.Linear < 1 || opts.Linear > 100 {
			return nil, fmt.Errorf("canary: Options.Linear %d outside 1–100", opts.Linear)
		}
		start, from := opts.Start, "Options.Start"
		if start == 0 {
			start, from = opts.Linear, "Options.Linear: without a start, a linear ramp begins at its step size"
		}
		if start > capW {
			return nil, fmt.Errorf("canary: Options.Cap %d is below the first step %d (%s)", capW, start, from)
		}
		for w := start; w < capW; w += opts.Linear {
			steps = append(steps, Step{Weight: w})
		}
		steps = append(steps, Step{Weight: capW})
	case opts.Factor != 0:
		if !(opts.Factor > 1) || math.IsInf(opts.Factor, 0) {
			return nil, fmt.Errorf("canary: Options.Factor %v: must be a finite number greater than 1", opts.Factor)
		}
		start := opts.Start
		if start == 0 {
			start = 1
		}
		if start > capW {
			return nil, fmt.Errorf("canary: Options.Cap %d is below the first step %d (Options.Start)", capW, start)
		}
		for w := start; w < capW; {
			steps = append(steps, Step{Weight: w})
			next := math.Round(float64(w) * opts.Factor)
			if next > float64(capW) {
				break
			}
			w = max(w+1, int(next))
		}
		steps = append(steps, Step{Weight: capW})
	default:
		for _, w := range DefaultWeights() {
			if w < capW {
				steps = append(steps, Step{Weight: w})
			}
		}
		steps = append(steps, Step{Weight: capW})
	}
	prev := 0
	for i, s := range steps {
		if s.Weight < 1 || s.Weight > 100 {
			return nil, fmt.Errorf("canary: Options.Steps[%d].Weight %d outside 1–100", i, s.Weight)
		}
		if i == 0 && s.Weight > capW {
			return nil, fmt.Errorf("canary: Options.Cap %d is below the first step %d", capW, s.Weight)
		}
		if s.Weight <= prev {
			return nil, fmt.Errorf("canary: Options.Steps[%d].Weight %d does not increase on the step before (%d); the schedule must increase", i, s.Weight, prev)
		}
		if s.Weight > capW {
			return nil, fmt.Errorf("canary: Options.Steps[%d].Weight %d exceeds Options.Cap %d", i, s.Weight, capW)
		}
		if s.Bake < 0 {
			return nil, fmt.Errorf("canary: Options.Steps[%d].Bake %v: must not be negative", i, s.Bake)
		}
		if err := checkGates(fmt.Sprintf("Options.Steps[%d].Gates", i), s.Gates); err != nil {
			return nil, err
		}
		if s.MinBake < 0 {
			return nil, fmt.Errorf("canary: Options.Steps[%d].MinBake %v: want ≥ 0 (0: Options.MinBake)", i, s.MinBake)
		}
		if s.Weight == 100 {
			if err := checkNotComparative(fmt.Sprintf("Options.Steps[%d].Gates", i), s.Gates); err != nil {
				return nil, err
			}
		}
		prev = s.Weight
	}
	return steps, nil
}

func weightsOf(steps []Step) []int {
	ws := make([]int, len(steps))
	for i, s := range steps {
		ws[i] = s.Weight
	}
	return ws
}

// Schedule returns the canary's weights in order.
func (c *Canary) Schedule() []int { return weightsOf(c.steps) }

// StageName returns the name of the stage that sets the canary's weight to
// w, e.g. "canary 25%".
func (c *Canary) StageName(w int) string { return fmt.Sprintf("%s %d%%", c.opts.Name, w) }

// WeightsAt returns the router weights of the step at canary weight w.
func (c *Canary) WeightsAt(w int) providers.Weights {
	return providers.Weights{c.opts.Blue: 100 - w, c.opts.Green: w}
}

// Stages returns one reversible stage per step. Apply sets the step's
// weights (after checking the canary has a healthy member, with
// Options.TargetHealth), Verify reads them back (unless the router
// verifies its own writes, providers.WriteVerifier) and, with
// Options.Observe, waits until clients follow them; Revert puts all
// traffic on blue in one change.
func (c *Canary) Stages() ([]cutover.Stage, error) {
	stages := make([]cutover.Stage, len(c.steps))
	revert := c.revert // one method value for every stage
	for i, s := range c.steps {
		name := c.StageName(s.Weight)
		bake := c.opts.Bake
		if s.Bake > 0 {
			bake = s.Bake
		}
		minBake := c.opts.MinBake
		if s.MinBake > 0 {
			minBake = s.MinBake
		}
		gates := make([]cutover.Gate, 0, len(s.Gates)+len(c.opts.Gates)+len(c.opts.Comparative)+len(c.opts.Background))
		gates = append(gates, s.Gates...)
		gates = append(gates, c.opts.Gates...)
		if s.Weight < 100 {
			gates = append(gates, c.opts.Comparative...)
		}
		if c.prop.Dynamic() {
			for k, g := range gates {
				gates[k] = settle.Gate(g, cutover.GateName(g, k), c.prop, c.opts.Clock)
			}
		}
		prev, weight := 0, s.Weight // the closures hold these, not the step
		if i > 0 {
			prev = c.steps[i-1].Weight
		}
		for j, g := range c.opts.Background {
			gates = append(gates, background{g: g, index: j, first: i == 0})
		}
		stages[i] = cutover.Stage{
			Name: name,
			// The weights are made when needed, not held by the plan:
			// a fleet of cutovers holds many plans.
			Apply: func(ctx context.Context) error {
				if err := c.healthyGuard(ctx, c.opts.Green); err != nil {
					return err
				}
				want := c.WeightsAt(weight)
				if err := c.router.SetWeights(ctx, want); err != nil {
					return fmt.Errorf("set weights %s: %w", want, err)
				}
				_ = cutover.NoteTraffic(ctx, want) // for the report; see NoteTraffic
				_, err := c.propagation(ctx)
				return err
			},
			Verify: func(ctx context.Context) error {
				changed := c.opts.Clock.Now()
				if err := c.readBack(ctx, c.WeightsAt(weight)); err != nil {
					return err
				}
				if c.opts.Observe == nil {
					return nil
				}
				return c.observe(ctx, prev, weight, changed)
			},
			Revert:      revert,
			Bake:        bake,
			MinBake:     minBake,
			CanaryShare: float64(s.Weight) / 100,
			Gates:       gates,
			// Deadline is per stage; zero leaves the runner's default.
			Deadline: c.opts.Deadline,
			Pause:    s.Pause,
		}
	}
	return stages, nil
}

// revert puts all traffic on blue in one change, unless it is
// there already, and reads it back.
func (c *Canary) revert(ctx context.Context) error {
	stable := c.WeightsAt(0)
	if v, ok := c.router.(providers.WriteVerifier); !ok || !v.VerifiesWrites() {
		// A router that verifies its writes also skips a write to the
		// weights in force: no read needed first.
		if got, err := c.router.Weights(ctx); err == nil && got.Equal(stable) {
			return nil
		}
	}
	if err := c.router.SetWeights(ctx, stable); err != nil {
		return fmt.Errorf("set weights %s: %w", stable, err)
	}
	_ = cutover.NoteTraffic(ctx, stable)
	return c.readBack(ctx, stable)
}

// readBack reads the weights until they equal want, at most
// Options.VerifyAttempts times, and fails closed. A router that verifies
// its own writes (providers.WriteVerifier) is not read again.
func (c *Canary) readBack(ctx context.Context, want providers.Weights) error {
	if v, ok := c.router.(providers.WriteVerifier); ok && v.VerifiesWrites() {
		return nil
	}
	return providers.ReadBack(ctx, c.router, want, cutover.Poll{
		Interval: cutover.Backoff{Initial: c.opts.VerifyInterval},
		Attempts: c.opts.VerifyAttempts,
		Clock:    c.opts.Clock,
	})
}

// background wraps a gate judged across the whole run: only the first
// step's copy forwards Reset, and its verdicts are never final, so it does
// not end a bake early.
type background struct {
	g     cutover.Gate
	index int
	first bool
}

func (b background) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	v, err := b.g.Evaluate(ctx)
	v.Final = false
	return v, err
}

func (b background) Name() string {
	if n, ok := b.g.(cutover.Namer); ok && n.Name() != "" {
		return n.Name()
	}
	return fmt.Sprintf("background %d", b.index)
}

// Unwrap returns the wrapped gate.
func (b background) Unwrap() []cutover.Gate { return []cutover.Gate{b.g} }

func (b background) Reset() {
	if r, ok := b.g.(cutover.Resetter); ok && b.first {
		r.Reset()
	}
}
