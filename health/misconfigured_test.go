package health_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
)

// A decorator given an argument out of range cannot return an error (it
// returns a Gate, to compose), so Plan.Validate refuses the plan that
// holds it, naming the gate and the argument, before anything is
// applied; a well-formed decorator passes.
func TestMisconfiguredDecoratorRefusedByValidate(t *testing.T) {
	pass := cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
		return cutover.Verdict{Decision: cutover.Pass}, nil
	})
	tests := []struct {
		name string
		gate cutover.Gate
		want string // "" for valid
	}{
		{"valid", health.Consecutive(3, pass), ""},
		{"Consecutive n 0", health.Consecutive(0, pass), "Consecutive: n = 0, want ≥ 1"},
		{"inside All and Named", cutover.Named("errors", health.All(pass, health.FailureLimit(-1, pass))), "FailureLimit: n = -1, want ≥ 0"},
		{"WithTimeout d 0", health.WithTimeout(0, pass, nil), "WithTimeout: d: 0s: want > 0"},
		{"empty Any", health.Any(), "Any"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			applied := false
			p := cutover.Plan{Name: "p", Stages: []cutover.Stage{{
				Name:   "green-10",
				Apply:  func(context.Context) error { applied = true; return nil },
				Revert: func(context.Context) error { return nil },
				Bake:   time.Minute,
				Gates:  []cutover.Gate{pass, tt.gate},
			}}}
			err := p.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v; want nil", err)
				}
				return
			}
			if !errors.Is(err, cutover.ErrInvalidPlan) || !strings.Contains(err.Error(), "Gates[1]: misconfigured") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate: %v; want ErrInvalidPlan naming Gates[1] and %q", err, tt.want)
			}
			if _, err := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{}).Run(context.Background(), "c", p); !errors.Is(err, cutover.ErrInvalidPlan) || applied {
				t.Errorf("Run: %v, applied %v; want ErrInvalidPlan before anything is applied", err, applied)
			}
		})
	}
}
