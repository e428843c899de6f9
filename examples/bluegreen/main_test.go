package main

import (
	"testing"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/examples/internal/demotest"
	"github.com/safecutover/safecutover/providers/fake"
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

func TestPlanAnalysis(t *testing.T) {
	t.Parallel()
	env := &demo.Env{Cloud: fake.MustNew(fake.Options{}), Clock: cutover.RealClock{}}
	plan, err := build(env)
	if err != nil {
		t.Fatal(err)
	}
	a := plan.Analyze()
	if a.PNRStage != "retire blue" || a.PNRIndex != 3 || len(a.Findings) != 0 {
		t.Errorf("Analyze: PNR %q at %d, findings %+v; want retire blue at 3, none", a.PNRStage, a.PNRIndex, a.Findings)
	}
}
