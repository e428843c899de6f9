package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/awsdemo"
	"github.com/safecutover/safecutover/providers"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	rolledBackWaiting := fmt.Errorf("%w: %w", cutover.ErrRolledBack, cutover.ErrPNRNotApproved)
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitCompleted},
		{fmt.Errorf("run: %w", cutover.ErrRolledBack), ExitRolledBack},
		{fmt.Errorf("run: %w", cutover.ErrPNRNotApproved), ExitWaiting},
		// A window that closed without approval rolled back: that is a
		// rollback, not a wait.
		{rolledBackWaiting, ExitRolledBack},
		{cutover.ErrRollbackIncomplete, ExitError},
		{errors.New("boom"), ExitError},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		want    Flags
		wantErr string
		aws     bool // the scenario has a -aws mode
	}{
		{nil, Flags{Seed: 1, Speed: DefaultSpeed}, "", false},
		{nil, Flags{Seed: 1, Speed: DefaultSpeed}, "", true},
		{[]string{"-bad-green", "-approve", "ci", "-journal", "d", "-seed", "7", "-speed", "10", "-plain"},
			Flags{BadGreen: true, Approve: "ci", Journal: "d", Seed: 7, Speed: 10, Plain: true}, "", false},
		{[]string{"-bad-green", "-approve", "ci", "-journal", "d", "-seed", "7", "-speed", "10", "-plain"},
			Flags{BadGreen: true, Approve: "ci", Journal: "d", Seed: 7, Speed: 10, Plain: true}, "", true},
		{[]string{"-speed", "0"}, Flags{}, "-speed 0: want a number in (0, 1000000]", false},
		{[]string{"-speed", "NaN"}, Flags{}, "-speed NaN", false},
		{[]string{"-approve", " ci"}, Flags{}, "without leading or trailing spaces", false},
		{[]string{"extra"}, Flags{}, `unexpected argument "extra"`, false},
		{[]string{"-nope"}, Flags{}, "flag provided but not defined: -nope", false},
		// Only a scenario with a -aws mode takes its flags.
		{[]string{"-aws"}, Flags{}, "flag provided but not defined: -aws", false},
		{[]string{"-listener-arn", "x"}, Flags{}, "flag provided but not defined: -listener-arn", false},
		{[]string{"-aws", "-alarms", "a", "-plain"},
			Flags{Seed: 1, Speed: DefaultSpeed, Plain: true, Journal: AWSJournal, AWS: awsdemo.Flags{On: true, Alarms: "a"}}, "", true},
		{[]string{"-aws", "-journal", "dynamodb:cutovers", "-create-table", "-approve", "ci"},
			Flags{Seed: 1, Speed: DefaultSpeed, Approve: "ci", Journal: "dynamodb:cutovers", AWS: awsdemo.Flags{On: true, CreateTable: true}}, "", true},
		{[]string{"-aws", "-dynamodb-table", "t"}, Flags{}, "retired: use -journal dynamodb:t", true},
		{[]string{"-dynamodb-table", "t"}, Flags{}, "retired: use -journal dynamodb:t", false},
		{[]string{"-aws", "-journal", "dynamodb:"}, Flags{}, `-journal: "dynamodb:": names no table`, true},
		{[]string{"-aws", "-create-table"}, Flags{}, `-journal: ".safecutover": creating a table is for dynamodb:TABLE`, true},
		{[]string{"-journal", "dynamodb:cutovers"}, Flags{}, "dynamodb:TABLE is for -aws", true},
		{[]string{"-aws", "-seed", "2"}, Flags{}, "-seed is for the fake cloud", true},
		{[]string{"-listener-arn", "x"}, Flags{}, "-listener-arn needs -aws", true},
	}
	for _, tt := range tests {
		got, err := ParseFlags(Scenario{ID: "x", AWS: tt.aws}, tt.args, io.Discard)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFlags(%q, aws %v) error = %v, want %q", tt.args, tt.aws, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFlags(%q, aws %v) = %+v, %v; want %+v", tt.args, tt.aws, got, err, tt.want)
		}
	}
}

func TestBarAndOffset(t *testing.T) {
	t.Parallel()
	if got, want := Bar(providers.Weights{"blue": 75, "green": 25}), "blue  75% ███████████████░░░░░ 25% green"; got != want {
		t.Errorf("Bar = %q, want %q", got, want)
	}
	if got, want := Bar(providers.Weights{"blue": 0, "green": 100}), "blue   0% ░░░░░░░░░░░░░░░░░░░░ 100% green"; got != want {
		t.Errorf("Bar = %q, want %q", got, want)
	}
	if got, want := offset(time.Hour+2*time.Minute+3*time.Second+400*time.Millisecond), "+01:02:03"; got != want {
		t.Errorf("offset = %q, want %q", got, want)
	}
	if got, want := figures(map[string]float64{"requests": 1200, "value": 0.0125, "log_e_fail": 3, "points": 4}), "requests=1200 value=1.25%"; got != want {
		t.Errorf("figures = %q, want %q", got, want)
	}
}

// TestBadJournalNamesTheFlag: a -journal that cannot hold a journal (here a
// file, not a directory) is an error that names the flag.
func TestBadJournalNamesTheFlag(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := Scenario{ID: "review", Build: func(*Env) (cutover.Plan, error) {
		t.Error("Build called despite a bad -journal")
		return cutover.Plan{}, nil
	}}
	code, out := RunCaptured(context.Background(), s, []string{"-journal", file}, "", false)
	if code != ExitError || !strings.Contains(out, "-journal") {
		t.Errorf("exit %d, output %q: want exit %d and an error naming -journal", code, out, ExitError)
	}
}
