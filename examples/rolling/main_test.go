package main

import (
	"testing"

	"github.com/safecutover/safecutover/examples/internal/demotest"
)

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	demotest.Run(t, scenario, demotest.GreenOrBack())
}
