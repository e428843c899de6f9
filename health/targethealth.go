package health

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// TargetHealthOptions configure a target health gate. The zero value is
// valid.
type TargetHealthOptions struct {
	// Name names the gate in reports; default "<target> health".
	Name string
	// MinHealthy is how many members must be healthy; the zero value means
	// all of them (members draining or unused are not counted). ≥ 0.
	MinHealthy int
	// NoData says what a target with no members does: NoDataPending (the
	// default) or NoDataFail.
	NoData NoData
	// Deadline, if positive, fails the gate when it has been Pending that
	// long since its first evaluation (after Reset).
	Deadline time.Duration
	// Retry bounds the retries of a source that errors.
	Retry Retry
	// Clock defaults to cutover.RealClock.
	Clock cutover.Clock
}

type targetHealth struct {
	src    providers.TargetHealthSource
	target string
	opts   TargetHealthOptions
	dl     deadline
}

// NewTargetHealth returns a gate that passes when every member of target
// (or at least MinHealthy of them) is healthy, is Pending while enough of
// them are still in their initial checks, and fails otherwise.
func NewTargetHealth(src providers.TargetHealthSource, target string, opts TargetHealthOptions) (cutover.Gate, error) {
	const what = "target health"
	if src == nil {
		return nil, fmt.Errorf("%s: source is nil", what)
	}
	if target == "" {
		return nil, fmt.Errorf("%s: target must not be empty", what)
	}
	if opts.MinHealthy < 0 {
		return nil, fmt.Errorf("%s: MinHealthy %d must be ≥ 0", what, opts.MinHealthy)
	}
	switch opts.NoData {
	case NoDataDefault:
		opts.NoData = NoDataPending
	case NoDataPending, NoDataFail:
	default:
		return nil, fmt.Errorf("%s: NoData %v: want NoDataPending or NoDataFail", what, opts.NoData)
	}
	dl, err := sourceOptions(what, opts.Deadline, &opts.Retry, &opts.Clock)
	if err != nil {
		return nil, err
	}
	return &targetHealth{src: src, target: target, opts: opts, dl: dl}, nil
}

// Name returns the gate's name.
func (g *targetHealth) Name() string {
	if g.opts.Name != "" {
		return g.opts.Name
	}
	return g.target + " health"
}

// Reset restarts the gate's deadline.
func (g *targetHealth) Reset() { g.dl.reset() }

// Evaluate reads the members' health.
func (g *targetHealth) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	members, failed, err := fetch(ctx, g.opts.Retry, g.opts.Clock, g.Name(), func(ctx context.Context) ([]providers.TargetHealth, error) {
		return g.src.TargetHealth(ctx, g.target)
	})
	if failed != nil || err != nil {
		return verdictOr(failed), err
	}
	var healthy, initial, counted int
	var bad []string
	for _, m := range members {
		switch m.State {
		case providers.HealthDraining, providers.HealthUnused:
			continue
		case providers.HealthHealthy:
			healthy++
		case providers.HealthInitial:
			initial++
		default:
			s := m.ID + " " + m.State
			if m.Reason != "" {
				s += " (" + m.Reason + ")"
			}
			bad = append(bad, s)
		}
		counted++
	}
	sort.Strings(bad)
	need := g.opts.MinHealthy
	if need == 0 {
		need = counted
	}
	figures := map[string]float64{"members": float64(counted), "healthy": float64(healthy),
		"initial": float64(initial), "unhealthy": float64(len(bad)), "needed": float64(need)}
	v := cutover.Verdict{Figures: figures}
	status := fmt.Sprintf("%s: %d of %d members healthy, need %d", g.target, healthy, counted, need)
	switch {
	case counted == 0:
		v.Reason = g.target + ": no registered members; check that the target has capacity"
		if g.opts.NoData == NoDataFail {
			v = failClosed(v)
		}
	case healthy >= need:
		v.Decision = cutover.Pass
		v.Reason = status
	case healthy+initial >= need:
		v.Reason = fmt.Sprintf("%s; %d still in initial checks", status, initial)
	default:
		v.Decision = cutover.Fail
		v.Reason = status
		if len(bad) > 0 {
			v.Reason += "; not healthy: " + strings.Join(bad, ", ")
		}
	}
	return g.dl.check(v), nil
}
