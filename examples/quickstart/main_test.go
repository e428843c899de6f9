package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The quickstart, built and run with -bad -report DIR, rolls back (exit 3)
// and leaves a report whose chart shows the failed verdict.
func TestQuickstartBadWritesReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "quickstart")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rep := filepath.Join(dir, "report")
	out, err := exec.Command(bin, "-bad", "-report", rep).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("quickstart -bad: %v, want exit status 3\n%s", err, out)
	}
	if !strings.Contains(string(out), "evidence: canary 10%: judge green vs blue: at 10% of 1000 req/s") {
		t.Errorf("output does not print how long the evidence takes:\n%s", out)
	}
	if !strings.Contains(string(out), "rolled back: blue=100 green=0") {
		t.Errorf("output does not say traffic is back on blue:\n%s", out)
	}
	svg, err := os.ReadFile(filepath.Join(rep, "report.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"judge green vs blue", "rolled back"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("report.svg does not mention %q", want)
		}
	}
	for _, f := range []string{"report.md", "report.txt"} {
		if _, err := os.Stat(filepath.Join(rep, f)); err != nil {
			t.Error(err)
		}
	}
}
