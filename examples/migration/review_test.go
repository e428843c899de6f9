package main

import (
	"strings"
	"testing"

	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/examples/internal/demotest"
)

// TestPromptNoDeclines: at the approval prompt, "no" (or "n") is a refusal,
// not the name of an approver; a yes is not a name either, so the prompt
// asks for one.
func TestPromptNoDeclines(t *testing.T) {
	t.Parallel()
	demotest.Run(t, scenario, []demotest.Case{
		{Name: "no", Stdin: "no\n", Terminal: true, Want: demo.ExitWaiting,
			Output: []string{"stopped before the point of no return", "Blue is still warm"}},
		{Name: "N", Stdin: "N\n", Terminal: true, Want: demo.ExitWaiting,
			Output: []string{"stopped before the point of no return"}},
		{Name: "yes then a name", Stdin: "yes\nalice\n", Terminal: true, Want: demo.ExitCompleted,
			Output: []string{"approved by alice"}},
	})
	for _, stdin := range []string{"no\n", "yes\n"} {
		_, out := demotest.RunOnce(t, scenario, nil, stdin, true)
		if strings.Contains(out, "approved by no") || strings.Contains(out, "approved by yes") {
			t.Errorf("stdin %q recorded as the approver's name:\n%s", stdin, out)
		}
	}
}

// TestRolledBackSummarySaysSo: once the cutover has rolled back, the
// summary's PNR line must not say that a rollback is still possible, as if
// the cutover were still in flight.
func TestRolledBackSummarySaysSo(t *testing.T) {
	t.Parallel()
	code, out := demotest.RunOnce(t, scenario, []string{"-bad-green", "-approve", "ci"}, "", false)
	if code != demo.ExitRolledBack {
		t.Fatalf("exit %d, want %d:\n%s", code, demo.ExitRolledBack, out)
	}
	if strings.Contains(out, "rollback still possible") || !strings.Contains(out, `PNR:       "retire blue" not crossed; the cutover rolled back`) {
		t.Errorf("summary's PNR line is wrong after a rollback:\n%s", out)
	}
}
