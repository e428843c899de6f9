package bluegreen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/internal/settle"
	"github.com/safecutover/safecutover/providers"
)

// The stage names.
const (
	StagePrepare  = "prepare green"
	StageSwitch   = "switch to green"
	StageKeepWarm = "keep blue warm"
	StageRetire   = "retire blue"
)

// Options configure a BlueGreen. The zero value is valid for the Prepare and
// Finish parts; switching needs a Switcher or a Router.
type Options struct {
	// Blue and Green are the target names the Switcher or Router knows.
	// Defaults "blue" and "green".
	Blue, Green string

	// BlueFleet and GreenFleet are the capacities of blue and green. With
	// GreenFleet, "prepare green" scales green to Capacity, or to blue's
	// desired count when Capacity is zero, and waits until it is healthy;
	// reverting scales green to zero. With BlueFleet, "retire blue" scales
	// blue to zero.
	BlueFleet, GreenFleet providers.Fleet
	// Capacity is green's desired count; 0 means blue's.
	Capacity int
	// ReadyTimeout bounds the wait for green to be healthy. Default 10m.
	ReadyTimeout time.Duration
	// PollInterval is how often green's capacity is polled. Default 5s.
	PollInterval time.Duration

	// Switcher or Router switches the traffic; set at most one. A Router
	// moves green from 0 to 100 in one change. Finish also uses whichever
	// is set to confirm that all traffic is on green before blue is
	// retired.
	Switcher providers.Switcher
	Router   providers.TrafficRouter

	// PreSwitchGates judge green alone during "prepare green", for
	// PreSwitchBake.
	PreSwitchGates []cutover.Gate
	PreSwitchBake  time.Duration
	// Gates are judged after the switch, for Bake, and again while blue is
	// kept warm.
	Gates []cutover.Gate
	Bake  time.Duration
	// MinBake is the least time the switched stage bakes: an early final
	// Pass never ends it before. 0–Bake; zero means none.
	MinBake time.Duration
	// Window is how long blue is kept warm, with Gates judged, before
	// it may be retired. Default 1h.
	Window time.Duration
	// Propagation is how long after a switch clients may still reach the
	// old target: a DNS TTL. Zero means the Switcher's or Router's own
	// when it reports one (providers.Propagator: a Beanstalk swap's CNAME
	// TTL, a Route 53 router's record TTL), else none (an ALB). The
	// switched stage's gates are Pending until it has passed, so that
	// they judge traffic that reaches green. A rollback reaches every
	// client only after it too, so Window must be at least this long
	// (a rollback window can never be shorter than the TTL), and so must
	// Bake when Gates are set; a propagation read from the Switcher or
	// Router is checked before the switch, which fails without switching
	// when either is shorter. ≥ 0.
	Propagation time.Duration

	// Retire retires blue. Default: scale BlueFleet to zero. Without
	// either, the plan ends with blue still warm and has no retire stage.
	Retire func(ctx context.Context) error

	// VerifyAttempts bounds the read-backs of a switch before it fails
	// closed (default 5), VerifyInterval is the wait between them (default
	// 1s).
	VerifyAttempts int
	VerifyInterval time.Duration
	// Clock times the waits. Default cutover.RealClock.
	Clock cutover.Clock
}

// BlueGreen is a blue/green cutover. It is a cutover.Strategy; Prepare,
// Switch and Finish are its parts.
type BlueGreen struct {
	opts Options
	prop *settle.Propagation // Options.Propagation or the mover's
}

var _ cutover.Strategy = (*BlueGreen)(nil)

// New returns a blue/green cutover configured by opts, or an error naming
// the option that is wrong.
func New(opts Options) (*BlueGreen, error) {
	var err error
	if opts.Blue, opts.Green, err = providers.Sides(opts.Blue, opts.Green); err != nil {
		return nil, fmt.Errorf("bluegreen: %w", err)
	}
	if opts.Switcher != nil && opts.Router != nil {
		return nil, errors.New("bluegreen: set only one of Options.Switcher and Options.Router")
	}
	if opts.Capacity < 0 {
		return nil, fmt.Errorf("bluegreen: Options.Capacity %d: must be ≥ 1 (0 means blue's)", opts.Capacity)
	}
	if opts.GreenFleet != nil && opts.BlueFleet == nil && opts.Capacity == 0 {
		return nil, errors.New("bluegreen: Options.GreenFleet needs Options.BlueFleet or Options.Capacity to size it")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ReadyTimeout", &opts.ReadyTimeout, 10 * time.Minute},
		{"PollInterval", &opts.PollInterval, 5 * time.Second},
		{"PreSwitchBake", &opts.PreSwitchBake, 0},
		{"Bake", &opts.Bake, 0},
		{"Window", &opts.Window, time.Hour},
		{"Propagation", &opts.Propagation, 0},
		{"VerifyInterval", &opts.VerifyInterval, time.Second},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("bluegreen: Options.%s %v: must not be negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if opts.Window < opts.Propagation {
		return nil, fmt.Errorf("bluegreen: Options.Window %v is shorter than Options.Propagation %v: a rollback would not reach every client before blue could be retired", opts.Window, opts.Propagation)
	}
	if len(opts.Gates) > 0 && opts.Bake < opts.Propagation {
		return nil, fmt.Errorf("bluegreen: Options.Bake %v is shorter than Options.Propagation %v: the gates would judge traffic still reaching blue", opts.Bake, opts.Propagation)
	}
	if opts.VerifyAttempts < 0 {
		return nil, fmt.Errorf("bluegreen: Options.VerifyAttempts %d: must be ≥ 1 (0 means 5)", opts.VerifyAttempts)
	}
	if opts.VerifyAttempts == 0 {
		opts.VerifyAttempts = 5
	}
	for i, g := range opts.PreSwitchGates {
		if g == nil {
			return nil, fmt.Errorf("bluegreen: Options.PreSwitchGates[%d] is nil", i)
		}
	}
	for i, g := range opts.Gates {
		if g == nil {
			return nil, fmt.Errorf("bluegreen: Options.Gates[%d] is nil", i)
		}
	}
	for _, f := range []struct {
		field string
		gs    []cutover.Gate
	}{{"PreSwitchGates", opts.PreSwitchGates}, {"Gates", opts.Gates}} {
		for i, g := range f.gs {
			if cs := cutover.Comparatives(g); len(cs) > 0 {
				base, can := cs[0].Compares()
				return nil, fmt.Errorf("bluegreen: Options.%s[%d] %q compares %s with %s, but a blue/green switch never has both serve at once: compare them in a canary before the switch (canary.Options.Comparative)",
					f.field, i, cutover.GateName(g, i), can, base)
			}
		}
	}
	if opts.MinBake < 0 || opts.MinBake > opts.Bake {
		return nil, fmt.Errorf("bluegreen: Options.MinBake %v: want 0–Bake (%v), 0 for no minimum", opts.MinBake, opts.Bake)
	}
	if opts.Clock == nil {
		opts.Clock = cutover.RealClock{}
	}
	var mover any = opts.Router
	if opts.Switcher != nil {
		mover = opts.Switcher
	}
	return &BlueGreen{opts: opts, prop: settle.NewPropagation(opts.Propagation, mover)}, nil
}

// part is a Strategy made by a function.
type part func() ([]cutover.Stage, error)

func (p part) Stages() ([]cutover.Stage, error) { return p() }

// Prepare returns the "prepare green" part: green scaled up and healthy,
// pre-switch gates passed.
func (b *BlueGreen) Prepare() cutover.Strategy {
	return part(func() ([]cutover.Stage, error) { return []cutover.Stage{b.prepare()}, nil })
}

// Switch returns the "switch to green" part: all traffic to green at once,
// post-switch gates. Its Stages fails when neither Options.Switcher nor
// Options.Router is set.
func (b *BlueGreen) Switch() cutover.Strategy {
	return part(func() ([]cutover.Stage, error) {
		s, err := b.switchStage()
		if err != nil {
			return nil, err
		}
		return []cutover.Stage{s}, nil
	})
}

// Finish returns the "keep blue warm" and "retire blue" part. Composed after
// a canary it needs no Switcher; with Options.Router or Options.Switcher set
// it first confirms that all traffic is on green.
func (b *BlueGreen) Finish() cutover.Strategy {
	return part(func() ([]cutover.Stage, error) { return b.finish(), nil })
}

// Stages returns prepare, switch, keep warm and retire. It fails when
// neither Options.Switcher nor Options.Router is set.
func (b *BlueGreen) Stages() ([]cutover.Stage, error) {
	sw, err := b.switchStage()
	if err != nil {
		return nil, err
	}
	return append([]cutover.Stage{b.prepare(), sw}, b.finish()...), nil
}

func (b *BlueGreen) prepare() cutover.Stage {
	o := b.opts
	return cutover.Stage{
		Name: StagePrepare,
		Apply: func(ctx context.Context) error {
			if o.GreenFleet == nil {
				return nil
			}
			n := o.Capacity
			if n == 0 {
				c, err := o.BlueFleet.Capacity(ctx)
				if err != nil {
					return fmt.Errorf("read %s capacity: %w", o.Blue, err)
				}
				if c.Desired < 1 {
					return fmt.Errorf("%s has desired capacity %d; nothing to match (set Options.Capacity)", o.Blue, c.Desired)
				}
				n = c.Desired
			}
			if err := o.GreenFleet.SetDesired(ctx, n); err != nil {
				return fmt.Errorf("scale %s to %d: %w", o.Green, n, err)
			}
			return providers.WaitHealthy(ctx, o.GreenFleet, n, b.ready())
		},
		Revert: func(ctx context.Context) error {
			if o.GreenFleet == nil {
				return nil
			}
			if err := o.GreenFleet.SetDesired(ctx, 0); err != nil {
				return fmt.Errorf("scale %s to 0: %w", o.Green, err)
			}
			return nil
		},
		Bake:  o.PreSwitchBake,
		Gates: o.PreSwitchGates,
	}
}

func (b *BlueGreen) switchStage() (cutover.Stage, error) {
	o := b.opts
	if o.Switcher == nil && o.Router == nil {
		return cutover.Stage{}, errors.New("bluegreen: switching needs Options.Switcher or Options.Router")
	}
	gates := o.Gates
	if b.prop.Dynamic() {
		gates = make([]cutover.Gate, len(o.Gates))
		for k, g := range o.Gates {
			gates[k] = settle.Gate(g, cutover.GateName(g, k), b.prop, o.Clock)
		}
	}
	return cutover.Stage{
		Name: StageSwitch,
		Apply: func(ctx context.Context) error {
			if err := b.checkPropagation(ctx); err != nil {
				return err
			}
			return b.sendTo(ctx, o.Green)
		},
		Verify: func(ctx context.Context) error { return b.confirm(ctx, o.Green) },
		Revert: func(ctx context.Context) error {
			if err := b.sendTo(ctx, o.Blue); err != nil {
				return err
			}
			return b.confirm(ctx, o.Blue)
		},
		Bake:    o.Bake,
		MinBake: o.MinBake,
		Gates:   gates,
	}, nil
}

// checkPropagation reads the propagation (the Switcher's or Router's own
// unless Options.Propagation is set) and refuses to switch when a
// rollback would not reach every client within Window, or the gates
// would judge traffic still reaching blue for all of Bake: the checks New
// makes of Options.Propagation.
func (b *BlueGreen) checkPropagation(ctx context.Context) error {
	o := b.opts
	p, err := b.prop.Read(ctx)
	if err != nil {
		return err
	}
	if o.Window < p {
		return fmt.Errorf("bluegreen: Options.Window %v is shorter than the propagation %v (the switch's DNS TTL): a rollback would not reach every client before blue could be retired; want Window ≥ %v", o.Window, p, p)
	}
	if len(o.Gates) > 0 && o.Bake < p {
		return fmt.Errorf("bluegreen: Options.Bake %v is shorter than the propagation %v (the switch's DNS TTL): the gates would judge traffic still reaching blue; want Bake ≥ %v", o.Bake, p, p)
	}
	return nil
}

func (b *BlueGreen) finish() []cutover.Stage {
	o := b.opts
	stages := []cutover.Stage{{
		Name:   StageKeepWarm,
		Apply:  func(context.Context) error { return nil },
		Verify: func(ctx context.Context) error { return b.confirm(ctx, o.Green) },
		// Blue was never touched; reverting the traffic is the job of
		// the stage that moved it.
		Revert: func(context.Context) error { return nil },
		Bake:   o.Window,
		Gates:  o.Gates,
	}}
	retire := o.Retire
	if retire == nil && o.BlueFleet != nil {
		retire = func(ctx context.Context) error {
			if err := o.BlueFleet.SetDesired(ctx, 0); err != nil {
				return fmt.Errorf("scale %s to 0: %w", o.Blue, err)
			}
			return nil
		}
	}
	if retire != nil {
		stages = append(stages, cutover.Stage{
			Name: StageRetire,
			Apply: func(ctx context.Context) error {
				// Fail closed: never retire blue while it serves traffic.
				if err := b.confirm(ctx, o.Green); err != nil {
					return fmt.Errorf("not retiring %s: %w", o.Blue, err)
				}
				return retire(ctx)
			},
			Reversibility: cutover.Irreversible(),
			Approval:      true,
		})
	}
	return stages
}

// sendTo moves all traffic to target.
func (b *BlueGreen) sendTo(ctx context.Context, target string) error {
	o := b.opts
	if o.Switcher != nil {
		if err := o.Switcher.Switch(ctx, target); err != nil {
			return fmt.Errorf("switch to %s: %w", target, err)
		}
		_ = cutover.NoteTraffic(ctx, b.all(target)) // for the report; see NoteTraffic
		return nil
	}
	w := b.all(target)
	if err := o.Router.SetWeights(ctx, w); err != nil {
		return fmt.Errorf("set weights %s: %w", w, err)
	}
	_ = cutover.NoteTraffic(ctx, w)
	return nil
}

// confirm checks, with bounded retries, that all traffic goes to target.
// Without a Switcher or Router there is nothing to read and it returns nil.
func (b *BlueGreen) confirm(ctx context.Context, target string) error {
	o := b.opts
	p := cutover.Poll{Interval: cutover.Backoff{Initial: o.VerifyInterval}, Attempts: o.VerifyAttempts, Clock: o.Clock}
	switch {
	case o.Router != nil:
		return providers.ReadBack(ctx, o.Router, b.all(target), p)
	case o.Switcher != nil:
		return providers.ReadBackActive(ctx, o.Switcher, target, p)
	}
	return nil
}

// ready bounds the wait for green's capacity to be healthy.
func (b *BlueGreen) ready() cutover.Poll {
	return cutover.Poll{Interval: cutover.Backoff{Initial: b.opts.PollInterval}, Timeout: b.opts.ReadyTimeout, Clock: b.opts.Clock}
}

func (b *BlueGreen) all(target string) providers.Weights {
	w := providers.Weights{b.opts.Blue: 0, b.opts.Green: 0}
	w[target] = 100
	return w
}
