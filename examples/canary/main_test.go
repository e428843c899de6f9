package main

import (
	"testing"

	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/examples/internal/demotest"
)

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	demotest.Run(t, scenario, []demotest.Case{
		{Name: "healthy green", Args: []string{"-approve", "ci"}, Want: demo.ExitCompleted,
			Output: []string{"✓ completed", "all traffic is on green"}},
		{Name: "bad green", Args: []string{"-bad-green", "-approve", "ci"}, Want: demo.ExitRolledBack,
			Output: []string{"rolling back", "all traffic is back on blue"}},
	})
}
