package cutover

import (
	"fmt"
	"strings"
	"time"
)

// Finding is one lint finding of Analyze, naming the stage it concerns.
type Finding struct {
	Index   int    // stage index, or -1 for the plan
	Stage   string // stage name
	Code    string // stable identifier, e.g. "irreversible-too-early"
	Message string // what is wrong and how to fix it
}

// Analysis is what Analyze reports about a plan.
type Analysis struct {
	// PNRIndex and PNRStage name the point of no return, the first stage
	// that is irreversible or reversible only within a window. PNRIndex is
	// -1 when every stage is reversible.
	PNRIndex int
	PNRStage string
	// ReversibleStages counts the stages before the PNR; ReversibleBake is
	// their total bake time; TotalBake is the bake time of the whole plan.
	ReversibleStages int
	ReversibleBake   time.Duration
	TotalBake        time.Duration
	// Evidence is, for every comparative gate of a stage with a known
	// CanaryShare that can estimate it, how long its evidence takes.
	Evidence []StageEvidence
	Findings []Finding
}

// StageEvidence is how long a comparative gate's evidence is expected to
// take in one stage.
type StageEvidence struct {
	Index    int
	Stage    string
	Gate     string
	Share    float64 // the stage's CanaryShare
	Estimate EvidenceEstimate
}

// String renders e as "canary 1%: judge green vs blue: at 1% of 20 req/s
// …: fail ~2 min, pass ~47 min".
func (e StageEvidence) String() string {
	return fmt.Sprintf("%s: %s: %s: fail %s, pass %s", e.Stage, e.Gate, e.Estimate.Basis, approx(e.Estimate.Fail), approx(e.Estimate.Pass))
}

// The codes of Analyze's findings.
const (
	// FindingIrreversibleTooEarly: an irreversible stage comes before a
	// reversible one it could follow, so the PNR is earlier than needed.
	FindingIrreversibleTooEarly = "irreversible-too-early"
	// FindingNoGateBeforePNR: nothing judges the change before the PNR.
	FindingNoGateBeforePNR = "no-gate-before-pnr"
	// FindingGatesAfterPNROnly: every gate is judged after the PNR, when a
	// failure can no longer be rolled back.
	FindingGatesAfterPNROnly = "gates-after-pnr-only"
	// FindingSeveralPNRs: more than one stage is irreversible or reversible
	// only within a window; each needs its own approval.
	FindingSeveralPNRs = "several-pnrs"
	// FindingEvidenceSlow: a comparative gate is not expected to reach a
	// decision within the stage's bake.
	FindingEvidenceSlow = "evidence-slower-than-bake"
)

// Validate reports the first thing wrong with p as a *ValidationError that
// names the stage and field.
func (p Plan) Validate() error {
	if len(p.Stages) == 0 {
		return &ValidationError{Index: -1, Field: "Stages", Msg: "empty; want at least one stage"}
	}
	seen := make(map[string]int, len(p.Stages))
	for i := range p.Stages {
		s := &p.Stages[i]
		bad := func(field, format string, args ...any) error {
			return &ValidationError{Index: i, Stage: s.Name, Field: field, Msg: fmt.Sprintf(format, args...)}
		}
		if s.Name == "" {
			return bad("Name", "empty; want a name unique in the plan")
		}
		if j, dup := seen[s.Name]; dup {
			return bad("Name", "duplicate of stage %d; want names unique in the plan", j)
		}
		seen[s.Name] = i
		if s.Apply == nil {
			return bad("Apply", "nil; every stage needs an Apply func")
		}
		r := s.Reversibility
		switch r.Kind {
		case KindReversible, KindWindow, KindIrreversible:
		default:
			return bad("Reversibility.Kind", "%d unknown; want KindReversible, KindWindow or KindIrreversible", int(r.Kind))
		}
		if s.Revert == nil && r.Kind != KindIrreversible {
			return bad("Revert", "nil for a %s stage; want a Revert func, or Reversibility: Irreversible()", r.Kind)
		}
		if r.Window < 0 {
			return bad("Reversibility.Window", "%s negative; want > 0 for a window stage", r.Window)
		}
		if r.Kind == KindWindow && r.Window <= 0 {
			return bad("Reversibility.Window", "%s; want > 0 for a window stage", r.Window)
		}
		if s.Bake < 0 {
			return bad("Bake", "%s negative; want ≥ 0", s.Bake)
		}
		if s.MinBake < 0 || s.Bake > 0 && s.MinBake > s.Bake {
			return bad("MinBake", "%s; want 0–Bake (%s), 0 for no minimum", s.MinBake, s.Bake)
		}
		if s.MinBake > 0 && s.Bake == 0 {
			return bad("MinBake", "%s with no Bake; want Bake ≥ MinBake, or MinBake 0", s.MinBake)
		}
		if !(s.CanaryShare >= 0 && s.CanaryShare <= 1) {
			return bad("CanaryShare", "%v; want 0–1 (0: unknown)", s.CanaryShare)
		}
		if s.Deadline < 0 {
			return bad("Deadline", "%s negative; want ≥ 0 (0: Bake plus the runner's grace)", s.Deadline)
		}
		if s.Deadline > 0 && s.Deadline < s.Bake {
			return bad("Deadline", "%s shorter than Bake %s; want ≥ Bake, or 0", s.Deadline, s.Bake)
		}
		for g, gate := range s.Gates {
			if nilGate(gate) {
				return bad(fmt.Sprintf("Gates[%d]", g), "nil gate")
			}
			if err := misconfiguration(gate); err != nil {
				return bad(fmt.Sprintf("Gates[%d]", g), "misconfigured: %s", err)
			}
		}
	}
	return nil
}

// nilGate reports whether g is nil, a nil GateFunc, or a Named wrapper of
// one: a gate whose Evaluate would panic.
func nilGate(g Gate) bool {
	switch g := g.(type) {
	case nil:
		return true
	case GateFunc:
		return g == nil
	case namedGate:
		return nilGate(g.Gate)
	}
	return false
}

// Analyze reports where the PNR of p is, how much of p stays reversible, and
// lint findings about the order of its stages.
func (p Plan) Analyze() Analysis {
	a := Analysis{PNRIndex: pnrIndex(&p)}
	a.Evidence, a.Findings = evidence(&p)
	end := len(p.Stages)
	if a.PNRIndex >= 0 {
		a.PNRStage = p.Stages[a.PNRIndex].Name
		end = a.PNRIndex
	}
	a.ReversibleStages = end
	for i := range p.Stages {
		a.TotalBake += p.Stages[i].Bake
		if i < end {
			a.ReversibleBake += p.Stages[i].Bake
		}
	}
	if a.PNRIndex < 0 {
		return a
	}

	// Irreversible stages that a later reversible stage could precede.
	for i := range p.Stages {
		if p.Stages[i].Reversibility.Kind != KindIrreversible {
			continue
		}
		var later []string
		for j := i + 1; j < len(p.Stages); j++ {
			if p.Stages[j].Reversibility.Kind == KindReversible {
				later = append(later, fmt.Sprintf("%q", p.Stages[j].Name))
			}
		}
		if len(later) > 0 {
			a.Findings = append(a.Findings, Finding{Index: i, Stage: p.Stages[i].Name, Code: FindingIrreversibleTooEarly,
				Message: fmt.Sprintf("irreversible stage %q comes before reversible stage(s) %s; move it after them to keep the plan reversible longer",
					p.Stages[i].Name, strings.Join(later, ", "))})
		}
	}

	// Gates before the PNR. A window stage's own gates are judged while it
	// can still be reverted, so they count as before its PNR.
	pnr := &p.Stages[a.PNRIndex]
	before := false
	for i := 0; i < a.PNRIndex && !before; i++ {
		before = len(p.Stages[i].Gates) > 0
	}
	if pnr.Reversibility.Kind == KindWindow && len(pnr.Gates) > 0 {
		before = true
	}
	if !before {
		after := -1
		for i := a.PNRIndex; i < len(p.Stages) && after < 0; i++ {
			if len(p.Stages[i].Gates) > 0 {
				after = i
			}
		}
		if after >= 0 {
			a.Findings = append(a.Findings, Finding{Index: after, Stage: p.Stages[after].Name, Code: FindingGatesAfterPNROnly,
				Message: fmt.Sprintf("every gate is judged at or after the PNR %q (first at stage %q), when a failure can no longer be rolled back; add gates to a stage before it",
					pnr.Name, p.Stages[after].Name)})
		} else {
			a.Findings = append(a.Findings, Finding{Index: a.PNRIndex, Stage: pnr.Name, Code: FindingNoGateBeforePNR,
				Message: fmt.Sprintf("no stage before the PNR %q has a gate, so nothing judges the change while it can still be rolled back; add gates to an earlier stage",
					pnr.Name)})
		}
	}

	// More than one stage that is not fully reversible.
	for i := a.PNRIndex + 1; i < len(p.Stages); i++ {
		if k := p.Stages[i].Reversibility.Kind; k != KindReversible {
			a.Findings = append(a.Findings, Finding{Index: i, Stage: p.Stages[i].Name, Code: FindingSeveralPNRs,
				Message: fmt.Sprintf("stage %q is %s too, a second point of no return after %q that needs an approval of its own (or one naming no stage); keep such stages together at the end",
					p.Stages[i].Name, p.Stages[i].Reversibility, pnr.Name)})
		}
	}
	return a
}

// evidence estimates, for every comparative gate of a stage with a known
// canary share, how long its evidence takes, and finds the stages whose
// bake is too short for it.
func evidence(p *Plan) ([]StageEvidence, []Finding) {
	var es []StageEvidence
	var fs []Finding
	for i := range p.Stages {
		s := &p.Stages[i]
		if !(s.CanaryShare > 0 && s.CanaryShare < 1) {
			continue
		}
		for k, g := range s.Gates {
			for _, c := range Comparatives(g) {
				est, ok := c.ExpectEvidence(s.CanaryShare)
				if !ok {
					continue
				}
				name := GateName(g, k)
				if n, ok := c.(Namer); ok && n.Name() != "" {
					name = n.Name()
				}
				es = append(es, StageEvidence{Index: i, Stage: s.Name, Gate: name, Share: s.CanaryShare, Estimate: est})
				if s.Bake <= 0 {
					continue
				}
				var slow []string
				if est.Fail > s.Bake {
					slow = append(slow, "detecting the regression needs "+approx(est.Fail))
				}
				if est.Pass > s.Bake {
					slow = append(slow, "proving non-inferiority needs "+approx(est.Pass))
				}
				if len(slow) > 0 {
					fs = append(fs, Finding{Index: i, Stage: s.Name, Code: FindingEvidenceSlow,
						Message: fmt.Sprintf("%s: %s, %s; bake is %s: lengthen the bake, raise the share, or accept that the stage ends on its deadline inconclusive",
							name, est.Basis, strings.Join(slow, " and "), approx(s.Bake))})
				}
			}
		}
	}
	return es, fs
}
