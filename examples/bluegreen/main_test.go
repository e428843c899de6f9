package main

import (
	"testing"

	"github.com/safecutover/safecutover/examples/internal/demotest"
)

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	demotest.Run(t, scenario, demotest.GreenOrBack())
}

func TestPlanAnalysis(t *testing.T) {
	t.Parallel()
	plan := demotest.FakePlan(t, scenario)
	a := plan.Analyze()
	if a.PNRStage != "retire blue" || a.PNRIndex != 3 || len(a.Findings) != 0 {
		t.Errorf("Analyze: PNR %q at %d, findings %+v; want retire blue at 3, none", a.PNRStage, a.PNRIndex, a.Findings)
	}
}
