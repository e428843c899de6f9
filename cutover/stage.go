package cutover

import (
	"context"
	"fmt"
	"time"
)

// ReversibilityKind says whether, and for how long, a stage can be undone.
type ReversibilityKind int

const (
	// KindReversible stages can be reverted at any time. It is the zero value.
	KindReversible ReversibilityKind = iota
	// KindWindow stages can be reverted only within a window that starts when
	// the stage has been applied (blue kept warm for an hour, a CodeDeploy
	// termination wait). Letting the window close needs an approval.
	KindWindow
	// KindIrreversible stages can never be reverted (retire blue, a one-way
	// data migration). Applying one needs an approval.
	KindIrreversible
)

// String returns "reversible", "window" or "irreversible".
func (k ReversibilityKind) String() string {
	switch k {
	case KindReversible:
		return "reversible"
	case KindWindow:
		return "window"
	case KindIrreversible:
		return "irreversible"
	}
	return fmt.Sprintf("ReversibilityKind(%d)", int(k))
}

// Reversibility declares how reversible a stage is. The zero value is
// Reversible.
type Reversibility struct {
	Kind ReversibilityKind
	// Window is how long after the stage was applied Revert still works.
	// Only meaningful for KindWindow, where it must be positive.
	Window time.Duration
}

// Reversible returns the reversibility of a stage that can always be
// reverted (the zero Reversibility). It is a function, not a variable, so
// that no importer can change what it means.
func Reversible() Reversibility { return Reversibility{Kind: KindReversible} }

// Irreversible returns the reversibility of a stage that can never be
// reverted.
func Irreversible() Reversibility { return Reversibility{Kind: KindIrreversible} }

// ReversibleWithin returns the reversibility of a stage that can be reverted
// for d after it was applied.
func ReversibleWithin(d time.Duration) Reversibility {
	return Reversibility{Kind: KindWindow, Window: d}
}

// String describes r, e.g. "reversible within 1h0m0s".
func (r Reversibility) String() string {
	if r.Kind == KindWindow {
		return "reversible within " + r.Window.String()
	}
	return r.Kind.String()
}

// Stage is one step of a plan.
//
// Apply and Revert must be idempotent: a resumed runner may call either
// again after a crash. Both must honour ctx and return when it is done:
// the runner cancels a reversible stage's Apply or Verify when an abort
// arrives while it runs, and waits for it to return before rolling back.
type Stage struct {
	// Name identifies the stage in the plan, the journal, events and errors.
	// Names are unique within a plan.
	Name string
	// Apply makes the change. Required.
	Apply func(ctx context.Context) error
	// Revert undoes Apply. Required unless the stage is Irreversible.
	Revert func(ctx context.Context) error
	// Verify, if set, is called after Apply and must confirm the change took
	// effect (read back the weights, say). An error fails the stage.
	Verify func(ctx context.Context) error
	// Reversibility says whether and for how long Revert works.
	Reversibility Reversibility
	// StillRevertible, optional for a stage with a window, reports whether
	// Revert still works although the declared window has closed (a
	// CodeDeploy deployment still in its termination wait, the window
	// having been declared with a margin). A runner that finds the window
	// closed unapproved — its process died — asks it, and reverts the
	// stage when it says yes; otherwise the window counts as crossed. Its
	// ctx is like Revert's (Recall works).
	StillRevertible func(ctx context.Context) (bool, error)
	// Bake is how long the stage is observed after Apply while its gates are
	// polled. Zero means the gates are judged until each has a verdict.
	Bake time.Duration
	// MinBake is the least time the stage bakes: a final Pass (a
	// sequential judge that concluded early) never ends the bake before
	// it. 0–Bake; zero means a final Pass may end the bake at once.
	MinBake time.Duration
	// CanaryShare is the share of traffic, 0–1, the canary receives while
	// the stage bakes (the canary strategy sets it). Plan.Analyze uses it
	// to estimate how long the stage's comparative gates take; zero means
	// unknown.
	CanaryShare float64
	// Gates are judged while the stage bakes. Any Fail reverts the cutover.
	Gates []Gate
	// Deadline bounds how long the stage may take from the end of Apply
	// until every gate passes; a gate still Pending then fails closed.
	// Zero means Bake plus the runner's default grace.
	Deadline time.Duration
	// Approval, when true, makes the runner wait for an approve command for
	// this stage before applying it. Irreversible stages always need one.
	Approval bool
	// Pause, when true, makes the runner pause after the stage has baked
	// until a resume or promote command arrives (a manual step).
	Pause bool
}

// Plan is a named, ordered list of stages.
type Plan struct {
	Name   string
	Stages []Stage
}

// Strategy is anything that yields stages: the canary, bluegreen and rolling
// packages, or user code.
type Strategy interface {
	// Stages returns the stages of the strategy in order. It returns an
	// error when the strategy was configured wrongly.
	Stages() ([]Stage, error)
}

// Stages is a Strategy made of hand-written stages.
type Stages []Stage

// Stages returns s.
func (s Stages) Stages() ([]Stage, error) { return s, nil }

var _ Strategy = Stages(nil)

// Sequence composes strategies into one plan named name and validates it.
func Sequence(name string, strategies ...Strategy) (Plan, error) {
	p := Plan{Name: name}
	for i, s := range strategies {
		if s == nil {
			return Plan{}, fmt.Errorf("sequence %q: strategy %d is nil", name, i)
		}
		st, err := s.Stages()
		if err != nil {
			return Plan{}, fmt.Errorf("sequence %q: strategy %d: %w", name, i, err)
		}
		p.Stages = append(p.Stages, st...)
	}
	if err := p.Validate(); err != nil {
		return Plan{}, err
	}
	return p, nil
}
