package reliability

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// Environment variables the suite reads.
const (
	// EnvMode selects the form of the suite: "full" runs it in full; any
	// other value, or none, runs the short form `make test` runs.
	EnvMode = "SAFECUTOVER_RELIABILITY"
	// EnvReport names a file the tests write their Report to, as JSON.
	EnvReport = "SAFECUTOVER_RELIABILITY_REPORT"
	// EnvDynamoDB is the endpoint of a local DynamoDB-compatible server
	// (dynalite), e.g. http://127.0.0.1:8000; without it the DynamoDB parts
	// are skipped. It is awstest.EnvDynamoDBEndpoint, whose LocalDynamoDB
	// checks it.
	EnvDynamoDB = awstest.EnvDynamoDBEndpoint
)

// Summary holds the figures of the summary line.
type Summary struct {
	// CrashPoints counts the runs in which the runner was killed (at a
	// journal append, in the middle of Apply or Revert, in-process or as a
	// child process); Converged those of them that a new runner brought to
	// completed or rolled back (or to waiting for an approval at the PNR)
	// with the cloud matching the journal and no effect done twice.
	CrashPoints int64 `json:"crash_points"`
	Converged   int64 `json:"converged"`
	// FaultRuns counts the seeded runs with provider faults; Stuck those
	// that did not end within their bound; TrafficOnFailedGreen those that
	// ended with traffic on a green whose gate failed (or that was bad).
	FaultRuns            int64 `json:"fault_runs"`
	Stuck                int64 `json:"stuck"`
	TrafficOnFailedGreen int64 `json:"traffic_on_failed_green"`
	// SplitBrainRuns counts the runs with two controller processes on one
	// cutover; DoubleDriven those in which both drove it at once or a stage
	// was applied by both (other than the one the killed owner was applying).
	SplitBrainRuns int64 `json:"split_brain_runs"`
	DoubleDriven   int64 `json:"double_driven"`
	// FuzzExecs counts the hostile inputs tried; Panics the panics they
	// (or anything else in the suite) caused.
	FuzzExecs int64 `json:"fuzz_execs"`
	Panics    int64 `json:"panics"`
	// GoodGreens counts the fault runs with a good green at each rate of
	// FaultRates; GoodGreensRolledBack those of them that ended rolled
	// back (a failed deployment someone must redo).
	GoodGreens           [3]int64 `json:"good_greens"`
	GoodGreensRolledBack [3]int64 `json:"good_greens_rolled_back"`
}

// FaultRates are the shares of provider calls failing in the fault runs,
// and GoodGreenRollbackTargets the most of their good greens that may be
// rolled back at each (a fraction): 0.1 % at 1 % faults, 1 % at 10 %,
// 10 % at 30 %.
var (
	FaultRates               = [3]float64{0.01, 0.10, 0.30}
	GoodGreenRollbackTargets = [3]float64{0.001, 0.01, 0.10}
)

// GoodGreenRollback returns the share of good greens rolled back at
// FaultRates[i] (0 when there were none).
func (s Summary) GoodGreenRollback(i int) float64 {
	if s.GoodGreens[i] == 0 {
		return 0
	}
	return float64(s.GoodGreensRolledBack[i]) / float64(s.GoodGreens[i])
}

// Line renders s as the summary line, exactly:
//
//	reliability: crash_points=<n> converged=<n> fault_runs=<n> stuck=<n> traffic_on_failed_green=<n> split_brain_runs=<n> double_driven=<n> fuzz_execs=<n> panics=<n> good_green_rollback_1pct=<p>% good_green_rollback_10pct=<p>% good_green_rollback_30pct=<p>%
//
// where each <p> is the percentage of good greens rolled back at that
// rate of provider faults.
func (s Summary) Line() string {
	return fmt.Sprintf("reliability: crash_points=%d converged=%d fault_runs=%d stuck=%d traffic_on_failed_green=%d split_brain_runs=%d double_driven=%d fuzz_execs=%d panics=%d good_green_rollback_1pct=%.2f%% good_green_rollback_10pct=%.2f%% good_green_rollback_30pct=%.2f%%",
		s.CrashPoints, s.Converged, s.FaultRuns, s.Stuck, s.TrafficOnFailedGreen, s.SplitBrainRuns, s.DoubleDriven, s.FuzzExecs, s.Panics,
		100*s.GoodGreenRollback(0), 100*s.GoodGreenRollback(1), 100*s.GoodGreenRollback(2))
}

// Add adds the figures of o to s.
func (s *Summary) Add(o Summary) {
	s.CrashPoints += o.CrashPoints
	s.Converged += o.Converged
	s.FaultRuns += o.FaultRuns
	s.Stuck += o.Stuck
	s.TrafficOnFailedGreen += o.TrafficOnFailedGreen
	s.SplitBrainRuns += o.SplitBrainRuns
	s.DoubleDriven += o.DoubleDriven
	s.FuzzExecs += o.FuzzExecs
	s.Panics += o.Panics
	for i := range s.GoodGreens {
		s.GoodGreens[i] += o.GoodGreens[i]
		s.GoodGreensRolledBack[i] += o.GoodGreensRolledBack[i]
	}
}

// Check reports, in one error, every property the figures break: converged
// must equal crash_points, and stuck, traffic_on_failed_green,
// double_driven and panics must be zero, and the share of good greens
// rolled back at each fault rate at most its GoodGreenRollbackTargets. It
// returns nil when all hold.
func (s Summary) Check() error {
	var errs []error
	if s.Converged != s.CrashPoints {
		errs = append(errs, fmt.Errorf("converged=%d, want crash_points=%d", s.Converged, s.CrashPoints))
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"stuck", s.Stuck}, {"traffic_on_failed_green", s.TrafficOnFailedGreen}, {"double_driven", s.DoubleDriven}, {"panics", s.Panics}} {
		if f.v != 0 {
			errs = append(errs, fmt.Errorf("%s=%d, want 0", f.name, f.v))
		}
	}
	for i, rate := range FaultRates {
		if got, want := s.GoodGreenRollback(i), GoodGreenRollbackTargets[i]; got > want {
			errs = append(errs, fmt.Errorf("good_green_rollback_%gpct=%.2f%% (%d of %d), want ≤ %g%%", rate*100, 100*got, s.GoodGreensRolledBack[i], s.GoodGreens[i], want*100))
		}
	}
	return errors.Join(errs...)
}

// Report is what the tests write to the file named by EnvReport: the
// summary figures, other figures by name (throughput, peak memory,
// latencies, for docs/reliability.md) and the properties that failed.
type Report struct {
	Summary
	Figures  map[string]float64 `json:"figures,omitempty"`
	Failures []string           `json:"failures,omitempty"`
}

// Merge adds o's summary to r's, takes o's figures (o's win) and appends
// o's failures.
func (r *Report) Merge(o Report) {
	r.Summary.Add(o.Summary)
	for k, v := range o.Figures {
		if r.Figures == nil {
			r.Figures = map[string]float64{}
		}
		r.Figures[k] = v
	}
	r.Failures = append(r.Failures, o.Failures...)
}

// FigureNames returns the names of r's figures, sorted.
func (r Report) FigureNames() []string {
	names := make([]string, 0, len(r.Figures))
	for k := range r.Figures {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// WriteReport writes r to path as JSON.
func WriteReport(path string, r Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// ReadReport reads a Report written by WriteReport.
func ReadReport(path string) (Report, error) {
	var r Report
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("read report: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("read report %s: %w", path, err)
	}
	return r, nil
}

// fuzzProgress matches the progress lines of `go test -fuzz`, e.g.
// "fuzz: elapsed: 3s, execs: 12345 (4115/sec), new interesting: 2 (total: 9)".
var fuzzProgress = regexp.MustCompile(`^fuzz: elapsed: [^,]+, execs: ([0-9]+) `)

// FuzzStopRace reports whether a failed `go test -fuzz` run failed only
// because its -fuzztime ran out while a worker was mid-input: the run
// ends with "context deadline exceeded" and wrote no failing input and no
// panic. That is a race in the Go toolchain's fuzzing coordinator
// (Go issue 75804, fixed in Go 1.27), not a finding: the target ran
// its time and no input failed it.
func FuzzStopRace(output string) bool {
	return strings.Contains(output, "context deadline exceeded") &&
		!strings.Contains(output, "Failing input written to") &&
		!strings.Contains(output, "panic: ")
}

// ParseFuzzExecs returns the number of inputs a `go test -fuzz` run tried,
// from its output: the execs of its last progress line. Output without a
// progress line is an error that says so.
func ParseFuzzExecs(output string) (int64, error) {
	var (
		last  int64
		found bool
	)
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		m := fuzzProgress.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("fuzz output: execs %q: %w", m[1], err)
		}
		last, found = n, true
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("fuzz output: %w", err)
	}
	if !found {
		return 0, errors.New("fuzz output: no \"fuzz: elapsed: …, execs: …\" progress line")
	}
	return last, nil
}
