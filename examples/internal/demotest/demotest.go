package demotest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/examples/internal/demo"
)

// Fast are flags that run a scenario ten times faster than by default,
// with plain output.
var Fast = []string{"-speed", "3000", "-plain"}

// Case is one run of a scenario.
type Case struct {
	Name     string
	Args     []string // after Fast, so they may override it
	Stdin    string
	Terminal bool // whether stdin is a terminal
	Want     int  // exit status
	Output   []string
}

// Run runs each case as a parallel subtest of t and checks its exit status
// and that its output contains each of Output.
func Run(t *testing.T, s demo.Scenario, cases []Case) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			code, out := RunOnce(t, s, tt.Args, tt.Stdin, tt.Terminal)
			if code != tt.Want {
				t.Errorf("exit status %d, want %d; output:\n%s", code, tt.Want, out)
			}
			for _, want := range tt.Output {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// RunOnce runs s fast with args and returns its exit status and output.
func RunOnce(t *testing.T, s demo.Scenario, args []string, stdin string, terminal bool) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	return demo.RunCaptured(ctx, s, append(append([]string{}, Fast...), args...), stdin, terminal)
}
