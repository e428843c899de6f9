package cutover

import (
	"errors"
	"fmt"
)

// outline returns what the journal keeps of each stage of p.
func outline(p *Plan) []StageOutline {
	out := make([]StageOutline, len(p.Stages))
	for i := range p.Stages {
		s := &p.Stages[i]
		o := StageOutline{
			Reversibility: s.Reversibility.Kind.String(),
			Bake:          s.Bake,
			Approval:      needsApproval(s),
			Pause:         s.Pause,
		}
		if s.Reversibility.Kind == KindWindow {
			o.Window = s.Reversibility.Window
		}
		for k, g := range s.Gates {
			o.Gates = append(o.Gates, GateName(g, k))
		}
		out[i] = o
	}
	return out
}

// ErrNoOutline is returned by JournalPlan for a journal whose start record
// has no outline of the plan (written before outlines were journaled).
var ErrNoOutline = errors.New("the start record has no outline of the plan")

// JournalPlan rebuilds, from a cutover's records, the plan its runner
// declared: names, reversibility, bake times and approvals, with no Apply,
// Revert or gates. It is what a tool that only reads the journal passes to
// Track to know whether, and until when, the cutover can be rolled back.
//
// A journal with no records, or whose first record is not a start record,
// is an error wrapping ErrCorruptJournal; one whose start record has no
// outline wraps ErrNoOutline, and the plan returned still has the stage
// names (every stage taken as reversible).
func JournalPlan(recs []Record) (Plan, error) {
	if len(recs) == 0 || recs[0].Type != RecStart {
		return Plan{}, fmt.Errorf("journal plan: first record is not %q: %w", RecStart, ErrCorruptJournal)
	}
	start := &recs[0]
	p := Plan{Name: start.Plan, Stages: make([]Stage, len(start.Stages))}
	for i, n := range start.Stages {
		p.Stages[i].Name = n
	}
	if len(start.Outline) == 0 {
		return p, fmt.Errorf("journal plan %q: %w", start.Plan, ErrNoOutline)
	}
	if len(start.Outline) != len(start.Stages) {
		return p, fmt.Errorf("journal plan %q: outline has %d stages, the start record names %d: %w", start.Plan, len(start.Outline), len(start.Stages), ErrCorruptJournal)
	}
	for i, o := range start.Outline {
		s := &p.Stages[i]
		switch o.Reversibility {
		case "reversible":
			s.Reversibility = Reversible()
		case "window":
			if o.Window <= 0 {
				return p, fmt.Errorf("journal plan %q: stage %q: window %v: want > 0: %w", start.Plan, s.Name, o.Window, ErrCorruptJournal)
			}
			s.Reversibility = ReversibleWithin(o.Window)
		case "irreversible":
			s.Reversibility = Irreversible()
		default:
			return p, fmt.Errorf("journal plan %q: stage %q: reversibility %q: want reversible, window or irreversible: %w", start.Plan, s.Name, o.Reversibility, ErrCorruptJournal)
		}
		s.Bake, s.Approval, s.Pause = o.Bake, o.Approval, o.Pause
	}
	return p, nil
}

// index returns the index of the stage named name, or -1.
func (p *Plan) index(name string) int {
	for i := range p.Stages {
		if p.Stages[i].Name == name {
			return i
		}
	}
	return -1
}

// names returns the names of p's stages, in order.
func (p *Plan) names() []string {
	out := make([]string, len(p.Stages))
	for i := range p.Stages {
		out[i] = p.Stages[i].Name
	}
	return out
}
