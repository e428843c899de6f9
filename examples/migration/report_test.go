package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/examples/internal/demotest"
)

// TestReport: -report DIR writes the report drawn from the journal, for a
// cutover that completed, rolled back or stopped before the PNR; the
// chart of the rollback shows the failed verdict and the rollback.
func TestReport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want int
		svg  []string // what report.svg must hold
		md   []string // what report.md must hold
	}{
		{name: "completed", args: []string{"-approve", "ci"}, want: demo.ExitCompleted,
			svg: []string{">approved by ci<", ">PNR crossed: retire blue<", "traffic to green"},
			md:  []string{"# Cutover migration: completed", "| 7 | retire blue ⚑ PNR | irreversible |", "| ci | “retire blue” |"}},
		{name: "bad green", args: []string{"-bad-green", "-approve", "ci"}, want: demo.ExitRolledBack,
			// The failed verdict's vermillion triangle, whichever gate saw
			// the bad green first, and the rollback's line and band.
			svg: []string{`<g class="verdict fail"><title>canary 5% · `, `fill="#D55E00"`, `<g class="rollback">`, ">rollback: ", " failed<", ">rollback<"},
			md:  []string{"# Cutover migration: rolled back", "**fail", "| reverted |"}},
		{name: "waiting", want: demo.ExitWaiting,
			svg: []string{"report at +", ">waiting<"},
			md:  []string{"# Cutover migration: waiting for an approval", "waiting for an approval |"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "report")
			code, out := demotest.RunOnce(t, scenario, append([]string{"-report", dir}, tt.args...), "", false)
			if code != tt.want {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.want, out)
			}
			if !strings.Contains(out, "report: "+filepath.Join(dir, "report.md")) {
				t.Errorf("output does not name the report:\n%s", out)
			}
			for file, wants := range map[string][]string{"report.svg": tt.svg, "report.md": tt.md, "report.txt": {"cutover migration · plan “ec2-to-fargate”"}} {
				b, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range wants {
					if !strings.Contains(string(b), want) {
						t.Errorf("%s lacks %q:\n%s", file, want, b)
					}
				}
			}
		})
	}
}
