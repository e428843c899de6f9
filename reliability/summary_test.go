package reliability_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/reliability"
)

func ExampleSummary_Line() {
	var s reliability.Summary
	s.Add(reliability.Summary{CrashPoints: 120, Converged: 120})
	s.Add(reliability.Summary{FaultRuns: 3000, FuzzExecs: 5000})
	fmt.Println(s.Line())
	fmt.Println(s.Check())
	// Output:
	// reliability: crash_points=120 converged=120 fault_runs=3000 stuck=0 traffic_on_failed_green=0 split_brain_runs=0 double_driven=0 fuzz_execs=5000 panics=0 good_green_rollback_1pct=0.00% good_green_rollback_10pct=0.00% good_green_rollback_30pct=0.00%
	// <nil>
}

func TestSummaryCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    reliability.Summary
		want []string // substrings of the error; none: nil
	}{
		{"all hold", reliability.Summary{CrashPoints: 3, Converged: 3, FaultRuns: 9}, nil},
		{"not converged", reliability.Summary{CrashPoints: 3, Converged: 2}, []string{"converged=2, want crash_points=3"}},
		{"stuck and panics", reliability.Summary{Stuck: 1, Panics: 2}, []string{"stuck=1", "panics=2"}},
		{"traffic and double", reliability.Summary{TrafficOnFailedGreen: 1, DoubleDriven: 1}, []string{"traffic_on_failed_green=1", "double_driven=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Check()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check = nil, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check = %q, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestParseFuzzExecs(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      int64
		err       bool
	}{
		{"progress lines", "warming up\nfuzz: elapsed: 0s, gathering baseline coverage: 0/12 completed\n" +
			"fuzz: elapsed: 3s, execs: 12345 (4115/sec), new interesting: 2 (total: 14)\n" +
			"fuzz: elapsed: 10s, execs: 40321 (3991/sec), new interesting: 3 (total: 15)\nPASS\nok  x 10.1s\n", 40321, false},
		{"indented", "  fuzz: elapsed: 1s, execs: 7 (7/sec), new interesting: 0 (total: 1)\n", 7, false},
		{"no progress", "PASS\nok  x 0.1s\n", 0, true},
		{"empty", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := reliability.ParseFuzzExecs(tc.out)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ParseFuzzExecs = %d, %v; want %d, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// The toolchain's stop race is told apart from a finding by what the run
// wrote: a failing input or a panic is a finding, whatever else it says.
func TestFuzzStopRace(t *testing.T) {
	progress := "fuzz: elapsed: 10s, execs: 31366 (3397/sec), new interesting: 2 (total: 165)\n"
	for _, tc := range []struct {
		name, out string
		want      bool
	}{
		{"deadline at the end", progress + "--- FAIL: FuzzFileJournalMutation (10.15s)\n    context deadline exceeded\nFAIL\n", true},
		{"failing input", progress + "--- FAIL: FuzzX (2.01s)\n    x_test.go:12: bad\n\n    Failing input written to testdata/fuzz/FuzzX/0a1b\n" +
			"    To re-run:\n    go test -run=FuzzX/0a1b\n    context deadline exceeded\nFAIL\n", false},
		{"panic", progress + "--- FAIL: FuzzX (1.00s)\n    panic: runtime error: index out of range\n    context deadline exceeded\n", false},
		{"another failure", progress + "--- FAIL: FuzzX (1.00s)\n    x_test.go:9: journal lost a record\nFAIL\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reliability.FuzzStopRace(tc.out); got != tc.want {
				t.Errorf("FuzzStopRace = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReportRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	r := reliability.Report{Summary: reliability.Summary{CrashPoints: 5, Converged: 5, FuzzExecs: 9},
		Figures: map[string]float64{"load_p99_ms": 0.25}, Failures: []string{"x broke"}}
	if err := reliability.WriteReport(path, r); err != nil {
		t.Fatal(err)
	}
	got, err := reliability.ReadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("report round trip (-want +got):\n%s", diff)
	}
	var total reliability.Report
	total.Merge(got)
	total.Merge(reliability.Report{Summary: reliability.Summary{CrashPoints: 1}, Figures: map[string]float64{"a": 1}})
	if total.CrashPoints != 6 || total.FuzzExecs != 9 || len(total.Failures) != 1 || !cmp.Equal(total.FigureNames(), []string{"a", "load_p99_ms"}) {
		t.Errorf("merged report %+v", total)
	}
	if _, err := reliability.ReadReport(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("ReadReport of a missing file: nil error")
	}
}
