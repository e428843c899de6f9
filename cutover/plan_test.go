package cutover_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/safecutover/safecutover/cutover"
)

func nopFunc(context.Context) error { return nil }

func mkStage(name string, mod ...func(*cutover.Stage)) cutover.Stage {
	s := cutover.Stage{Name: name, Apply: nopFunc, Revert: nopFunc}
	for _, m := range mod {
		m(&s)
	}
	return s
}

var (
	irreversible = func(s *cutover.Stage) { s.Reversibility = cutover.Irreversible(); s.Revert = nil }
	window       = func(s *cutover.Stage) { s.Reversibility = cutover.ReversibleWithin(time.Hour) }
	gated        = func(s *cutover.Stage) { s.Gates = []cutover.Gate{pass("g")} }
	bake         = func(d time.Duration) func(*cutover.Stage) { return func(s *cutover.Stage) { s.Bake = d } }
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		p     cutover.Plan
		index int
		field string // "" for a valid plan
	}{
		{"valid", cutover.Plan{Name: "p", Stages: []cutover.Stage{mkStage("a"), mkStage("b", irreversible)}}, 0, ""},
		{"empty plan", cutover.Plan{Name: "p"}, -1, "Stages"},
		{"empty name", cutover.Plan{Stages: []cutover.Stage{mkStage("a"), mkStage("")}}, 1, "Name"},
		{"duplicate name", cutover.Plan{Stages: []cutover.Stage{mkStage("a"), mkStage("a")}}, 1, "Name"},
		{"nil apply", cutover.Plan{Stages: []cutover.Stage{mkStage("a", func(s *cutover.Stage) { s.Apply = nil })}}, 0, "Apply"},
		{"reversible without revert", cutover.Plan{Stages: []cutover.Stage{mkStage("a", func(s *cutover.Stage) { s.Revert = nil })}}, 0, "Revert"},
		{"window without revert", cutover.Plan{Stages: []cutover.Stage{mkStage("a", window, func(s *cutover.Stage) { s.Revert = nil })}}, 0, "Revert"},
		{"negative bake", cutover.Plan{Stages: []cutover.Stage{mkStage("a", bake(-time.Second))}}, 0, "Bake"},
		{"negative deadline", cutover.Plan{Stages: []cutover.Stage{mkStage("a", func(s *cutover.Stage) { s.Deadline = -1 })}}, 0, "Deadline"},
		{"deadline shorter than bake", cutover.Plan{Stages: []cutover.Stage{mkStage("a", bake(time.Hour), func(s *cutover.Stage) { s.Deadline = time.Minute })}}, 0, "Deadline"},
		{"zero window", cutover.Plan{Stages: []cutover.Stage{mkStage("a", func(s *cutover.Stage) { s.Reversibility = cutover.ReversibleWithin(0) })}}, 0, "Reversibility.Window"},
		{"negative window", cutover.Plan{Stages: []cutover.Stage{mkStage("a", func(s *cutover.Stage) { s.Reversibility.Window = -time.Second })}}, 0, "Reversibility.Window"},
		{"unknown kind", cutover.Plan{Stages: []cutover.Stage{mkStage("a", func(s *cutover.Stage) { s.Reversibility.Kind = 7 })}}, 0, "Reversibility.Kind"},
		{"nil gate", cutover.Plan{Stages: []cutover.Stage{mkStage("a"), mkStage("b", func(s *cutover.Stage) { s.Gates = []cutover.Gate{pass("x"), nil} })}}, 1, "Gates[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.p.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *cutover.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, cutover.ErrInvalidPlan) {
				t.Fatalf("Validate: %v, want a *ValidationError", err)
			}
			if ve.Index != tt.index || ve.Field != tt.field {
				t.Errorf("error names stage %d field %q, want %d %q (%v)", ve.Index, ve.Field, tt.index, tt.field, err)
			}
			if tt.index >= 0 && ve.Stage != tt.p.Stages[tt.index].Name {
				t.Errorf("error names stage %q, want %q", ve.Stage, tt.p.Stages[tt.index].Name)
			}
		})
	}
}

func TestSequence(t *testing.T) {
	p, err := cutover.Sequence("p", cutover.Stages{mkStage("a")}, cutover.Stages{mkStage("b")})
	if err != nil || len(p.Stages) != 2 || p.Name != "p" {
		t.Fatalf("Sequence: %v %+v", err, p)
	}
	if _, err := cutover.Sequence("p", cutover.Stages{mkStage("a")}, cutover.Stages{mkStage("a")}); !errors.Is(err, cutover.ErrInvalidPlan) {
		t.Errorf("duplicate across strategies: %v", err)
	}
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name  string
		p     cutover.Plan
		want  cutover.Analysis
		codes []string // "code stage"
	}{
		{"all reversible", cutover.Plan{Stages: []cutover.Stage{mkStage("a", bake(time.Minute)), mkStage("b", bake(2*time.Minute))}},
			cutover.Analysis{PNRIndex: -1, ReversibleStages: 2, ReversibleBake: 3 * time.Minute, TotalBake: 3 * time.Minute}, nil},
		{"well ordered", cutover.Plan{Stages: []cutover.Stage{mkStage("a", gated, bake(time.Hour)), mkStage("b", gated, bake(time.Hour)), mkStage("retire", irreversible, bake(time.Minute))}},
			cutover.Analysis{PNRIndex: 2, PNRStage: "retire", ReversibleStages: 2, ReversibleBake: 2 * time.Hour, TotalBake: 2*time.Hour + time.Minute}, nil},
		{"irreversible too early", cutover.Plan{Stages: []cutover.Stage{mkStage("a", gated), mkStage("migrate", irreversible), mkStage("c", gated), mkStage("d")}},
			cutover.Analysis{PNRIndex: 1, PNRStage: "migrate", ReversibleStages: 1}, []string{"irreversible-too-early migrate"}},
		{"no gate before the PNR", cutover.Plan{Stages: []cutover.Stage{mkStage("a"), mkStage("retire", irreversible)}},
			cutover.Analysis{PNRIndex: 1, PNRStage: "retire", ReversibleStages: 1}, []string{"no-gate-before-pnr retire"}},
		{"gates only after the PNR", cutover.Plan{Stages: []cutover.Stage{mkStage("a"), mkStage("retire", irreversible), mkStage("watch", irreversible, gated)}},
			cutover.Analysis{PNRIndex: 1, PNRStage: "retire", ReversibleStages: 1}, []string{"gates-after-pnr-only watch", "several-pnrs watch"}},
		{"window with its own gates", cutover.Plan{Stages: []cutover.Stage{mkStage("a"), mkStage("keep-blue", window, gated)}},
			cutover.Analysis{PNRIndex: 1, PNRStage: "keep-blue", ReversibleStages: 1}, nil},
		{"window then irreversible", cutover.Plan{Stages: []cutover.Stage{mkStage("a", gated), mkStage("keep-blue", window), mkStage("retire", irreversible)}},
			cutover.Analysis{PNRIndex: 1, PNRStage: "keep-blue", ReversibleStages: 1}, []string{"several-pnrs retire"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.p.Analyze()
			var codes []string
			for _, f := range got.Findings {
				codes = append(codes, f.Code+" "+f.Stage)
				if f.Message == "" || !hasText(f.Message, f.Stage) {
					t.Errorf("finding %+v: message does not name its stage", f)
				}
			}
			if diff := cmp.Diff(tt.codes, codes); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(cutover.Analysis{}, "Findings")); diff != "" {
				t.Errorf("analysis (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(uint8(2), "a", "b", int64(0), int64(0), uint8(0), int64(0), uint8(0))
	f.Add(uint8(1), "", "", int64(-1), int64(0), uint8(1), int64(-5), uint8(1))
	f.Add(uint8(3), "x", "x", int64(time.Hour), int64(time.Minute), uint8(2), int64(0), uint8(3))
	f.Add(uint8(0), "a", "b", int64(0), int64(0), uint8(9), int64(1), uint8(7))
	f.Add(uint8(2), "a", "b", int64(1), int64(1), uint8(1), int64(time.Hour), uint8(2))
	f.Fuzz(func(t *testing.T, n uint8, name0, name1 string, bk, dl int64, kind uint8, win int64, flags uint8) {
		p := cutover.Plan{Name: name0}
		for i := range int(n % 5) {
			s := cutover.Stage{Name: name0, Bake: time.Duration(bk), Deadline: time.Duration(dl),
				Reversibility: cutover.Reversibility{Kind: cutover.ReversibilityKind(kind % 4), Window: time.Duration(win)}}
			if i%2 == 1 {
				s.Name = name1
			}
			if flags&1 == 0 {
				s.Apply = nopFunc
			}
			if flags&2 == 0 {
				s.Revert = nopFunc
			}
			if flags&4 != 0 {
				s.Gates = []cutover.Gate{nil}
			}
			p.Stages = append(p.Stages, s)
		}
		err := p.Validate()
		if err != nil {
			var ve *cutover.ValidationError
			if !errors.As(err, &ve) || ve.Field == "" || ve.Error() == "" {
				t.Fatalf("error %v is not a *ValidationError naming a field", err)
			}
			return
		}
		// A valid plan analyses without panicking, and its PNR is consistent.
		a := p.Analyze()
		if a.PNRIndex >= len(p.Stages) || a.ReversibleStages > len(p.Stages) {
			t.Fatalf("analysis %+v of %d stages", a, len(p.Stages))
		}
	})
}

// A gate that is a nil func or wraps a nil gate would panic in the runner:
// Validate rejects it, naming the stage and the field.
func TestValidateTypedNilGate(t *testing.T) {
	tests := []struct {
		name string
		gate cutover.Gate
	}{
		{"nil GateFunc", cutover.GateFunc(nil)},
		{"Named nil", cutover.Named("g", nil)},
		{"Named nil GateFunc", cutover.Named("g", cutover.GateFunc(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := cutover.Plan{Name: "p", Stages: []cutover.Stage{{
				Name:   "s0",
				Apply:  func(context.Context) error { return nil },
				Revert: func(context.Context) error { return nil },
				Gates:  []cutover.Gate{pass("ok"), tt.gate},
			}}}
			err := p.Validate()
			var ve *cutover.ValidationError
			if !errors.As(err, &ve) || ve.Field != "Gates[1]" || ve.Stage != "s0" {
				t.Fatalf("Validate: %v; want a *ValidationError for stage s0, field Gates[1]", err)
			}
		})
	}
}
