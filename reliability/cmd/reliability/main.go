package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/safecutover/safecutover/reliability"
)

// fuzzTarget is a fuzz target of the module and the package it is in.
type fuzzTarget struct{ pkg, name string }

// fuzzTargets are the hostile-input fuzz targets the command runs.
var fuzzTargets = []fuzzTarget{
	{"./cutover", "FuzzValidate"},
	{"./cutover", "FuzzFileJournalRead"},
	{"./cutover", "FuzzFileJournalMutation"},
	{"./cutover", "FuzzFileJournalRoundTrip"},
	{"./canary", "FuzzNew"},
	{"./rolling", "FuzzNew"},
	{"./providers/awsprovider", "FuzzParseELBARN"},
	{"./reliability", "FuzzALBWeights"},
	{"./reliability", "FuzzDynamoDBJournalItems"},
	{"./reliability", "FuzzJournalFold"},
}

func main() {
	fuzztime := flag.Duration("fuzztime", 10*time.Second, "how long to run each fuzz target (0: skip fuzzing)")
	fuzz := flag.Bool("fuzz", true, "run the fuzz targets")
	run := flag.String("run", ".", "which tests of ./reliability to run (a go test -run pattern)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(mainErr(ctx, os.Stdout, *run, *fuzz && *fuzztime > 0, *fuzztime))
}

// mainErr runs the suite and returns the exit code.
func mainErr(ctx context.Context, out io.Writer, run string, fuzz bool, fuzztime time.Duration) int {
	root, err := moduleRoot(ctx)
	if err != nil {
		fmt.Fprintln(out, "reliability:", err)
		return 1
	}
	var (
		total    reliability.Report
		failures []string
	)
	tmp, err := os.MkdirTemp("", "reliability-report-")
	if err != nil {
		fmt.Fprintln(out, "reliability:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	report := filepath.Join(tmp, "report.json")

	start := time.Now()
	fmt.Fprintf(out, "== go test ./reliability (full form)\n")
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-timeout=20m", "-v", "-run", run, "./reliability")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), reliability.EnvMode+"=full", reliability.EnvReport+"="+report)
	testErr := runFiltered(cmd, out)
	if testErr != nil {
		failures = append(failures, "go test ./reliability: "+testErr.Error())
	}
	if r, err := reliability.ReadReport(report); err != nil {
		failures = append(failures, err.Error())
	} else {
		total.Merge(r)
	}
	fmt.Fprintf(out, "== tests took %v\n", time.Since(start).Round(time.Second))

	if fuzz {
		for _, ft := range fuzzTargets {
			execs, panicked, err := runFuzz(ctx, root, ft, fuzztime)
			total.FuzzExecs += execs
			if panicked {
				total.Panics++
			}
			status := "ok"
			if err != nil {
				status = "FAIL: " + err.Error()
				failures = append(failures, fmt.Sprintf("fuzz %s %s: %v", ft.pkg, ft.name, err))
			}
			fmt.Fprintf(out, "== fuzz %-24s %-26s %10d execs in %v: %s\n", ft.pkg, ft.name, execs, fuzztime, status)
			if ctx.Err() != nil {
				break
			}
		}
	}

	if len(total.Figures) > 0 {
		fmt.Fprintln(out, "== figures")
		for _, k := range total.FigureNames() {
			fmt.Fprintf(out, "   %-48s %g\n", k, total.Figures[k])
		}
	}
	failures = append(failures, total.Failures...)
	if err := total.Summary.Check(); err != nil {
		failures = append(failures, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	for _, f := range failures {
		fmt.Fprintln(out, "FAIL:", f)
	}
	fmt.Fprintf(out, "== took %v\n", time.Since(start).Round(time.Second))
	fmt.Fprintln(out, total.Summary.Line())
	if len(failures) > 0 {
		return 1
	}
	return 0
}

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the safecutover module; run from its root")
	}
	return filepath.Dir(gomod), nil
}

// runFiltered runs cmd, copying its output to out without go test -v's
// "=== RUN", "=== PAUSE" and "=== CONT" lines.
func runFiltered(cmd *exec.Cmd, out io.Writer) error {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "=== ") {
				continue
			}
			fmt.Fprintln(out, line)
		}
		io.Copy(io.Discard, pr)
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	return err
}

// runFuzz runs one fuzz target for d and returns the inputs it tried and
// whether it found a panic.
func runFuzz(ctx context.Context, root string, ft fuzzTarget, d time.Duration) (int64, bool, error) {
	pattern := "^" + ft.name + "$"
	cmd := exec.CommandContext(ctx, "go", "test", "-run", pattern, "-fuzz", pattern, "-fuzztime", d.String(), ft.pkg)
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	runErr := cmd.Run()
	output := buf.String()
	execs, perr := reliability.ParseFuzzExecs(output)
	panicked := strings.Contains(output, "panic: ")
	if runErr != nil && perr == nil && reliability.FuzzStopRace(output) {
		runErr = nil // the toolchain's stop race, not a finding (see FuzzStopRace)
	}
	if runErr != nil {
		return execs, panicked, fmt.Errorf("%w:\n%s", runErr, tail(output, 30))
	}
	if perr != nil {
		return execs, panicked, perr
	}
	return execs, panicked, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
