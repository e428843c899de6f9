package cutover_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// NewRunner refuses a nil journal and every option out of range, naming
// the field and what 0 means; the zero options are valid.
func TestNewRunnerChecksAtConstruction(t *testing.T) {
	j := cutover.NewMemJournal()
	tests := []struct {
		name string
		j    cutover.Journal
		opts cutover.RunnerOptions
		want []string // texts the error names; none: valid
	}{
		{"zero options", j, cutover.RunnerOptions{}, nil},
		{"nil journal", nil, cutover.RunnerOptions{}, []string{"journal: nil"}},
		{"negative LeaseTTL", j, cutover.RunnerOptions{LeaseTTL: -time.Second}, []string{"LeaseTTL: -1s", "0: default 30s"}},
		{"negative PollInterval", j, cutover.RunnerOptions{PollInterval: -1}, []string{"PollInterval: -1ns", "0: default 10s"}},
		{"negative Grace", j, cutover.RunnerOptions{Grace: -time.Minute}, []string{"Grace: -1m0s", "0: default 5m0s"}},
		{"negative RevertTimeout", j, cutover.RunnerOptions{RevertTimeout: -time.Second}, []string{"RevertTimeout: -1s", "0: default 10m0s"}},
		{"negative RetryBackoff", j, cutover.RunnerOptions{RetryBackoff: -time.Second}, []string{"RetryBackoff: -1s", "0: default 1s"}},
		{"negative PNRWarning", j, cutover.RunnerOptions{PNRWarning: -time.Second}, []string{"PNRWarning: -1s", "0: default 10m0s"}},
		{"negative ApplyAttempts", j, cutover.RunnerOptions{ApplyAttempts: -1}, []string{"ApplyAttempts: -1", "0: default 30"}},
		{"TwoPerson without Actor", j, cutover.RunnerOptions{TwoPerson: true}, []string{"Actor: empty"}},
		{"empty Approvers", j, cutover.RunnerOptions{Actor: "alice", Approvers: &cutover.Approvers{}}, []string{"Entries: empty"}},
		{"Approvers without Signer", j, cutover.RunnerOptions{Actor: "alice", Approvers: &cutover.Approvers{
			Entries:   []cutover.Approver{{Key: "k", Principals: []string{"alice"}, Roles: cutover.RoleAll}},
			Verifiers: []cutover.KeyVerifier{nil},
		}}, []string{"Signer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := cutover.NewRunner(tt.j, tt.opts)
			if tt.want == nil {
				if err != nil || r == nil {
					t.Fatalf("NewRunner: %v, %v; want a runner", r, err)
				}
				if _, err := r.Run(context.Background(), "c", newCloud().plan(1, 0)); err != nil {
					t.Fatalf("Run with zero options: %v", err)
				}
				return
			}
			if err == nil || r != nil {
				t.Fatalf("NewRunner: %v, %v; want an error naming %q", r, err, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q, want it to name %q", err, w)
				}
			}
			func() {
				defer func() {
					if p := recover(); p == nil || !strings.Contains(p.(error).Error(), tt.want[0]) {
						t.Errorf("MustNewRunner recovered %v; want a panic naming %q", p, tt.want[0])
					}
				}()
				cutover.MustNewRunner(tt.j, tt.opts)
			}()
		})
	}
}

// A Runner not made by NewRunner refuses to run instead of panicking.
func TestRunnerNotFromNewRunner(t *testing.T) {
	for name, r := range map[string]*cutover.Runner{"nil": nil, "zero": new(cutover.Runner)} {
		st, err := r.Run(context.Background(), "c", newCloud().plan(1, 0))
		if err == nil || !strings.Contains(err.Error(), "NewRunner") || st.Phase != cutover.PhaseNew {
			t.Errorf("%s runner: %v, %v; want an error pointing to NewRunner", name, st.Phase, err)
		}
	}
}
