package main

// The end-to-end tests build the real binaries, cutoverctl and the
// examples/operated runner, start the runner as a process of its own on a
// journal and steer it with cutoverctl, as an operator would from another
// terminal.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/internal/syncbuf"
)

// bins are the binaries TestMain builds.
var bins struct {
	ctl, runner string
}

// Bounds of the end-to-end tests: generous, for a loaded machine running
// the tests under -race.
const (
	condTimeout = 2 * time.Minute // a journal condition to hold
	exitTimeout = 2 * time.Minute // a process to exit
)

func TestMain(m *testing.M) {
	// go test puts its own go command first on PATH.
	dir, err := os.MkdirTemp("", "cutoverctl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cutoverctl tests:", err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		exe := ""
		if runtime.GOOS == "windows" {
			exe = ".exe"
		}
		bins.ctl = filepath.Join(dir, "cutoverctl"+exe)
		bins.runner = filepath.Join(dir, "operated"+exe)
		for _, b := range []struct{ out, pkg string }{{bins.ctl, "."}, {bins.runner, "../../examples/operated"}} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			out, err := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg).CombinedOutput()
			cancel()
			if err != nil {
				fmt.Fprintf(os.Stderr, "cutoverctl tests: go build %s: %v\n%s", b.pkg, err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// backend is where a test's cutovers are journaled: a file journal, or a
// DynamoDB table.
type backend struct {
	// args select the journal on the command line of both binaries.
	args []string
	// env is added to the environment of both binaries.
	env []string
	// j reads the journal from the test.
	j cutover.Journal
}

// runner is a process started by a test: the examples/operated runner, or
// a long-running cutoverctl.
type runner struct {
	cmd  *exec.Cmd
	out  syncbuf.Buffer
	done chan struct{}
	code int
}

// startRunner starts examples/operated on b's journal with args; it is
// killed when the test ends.
func startRunner(t *testing.T, b backend, args ...string) *runner {
	t.Helper()
	return start(t, b, bins.runner, append(append([]string{}, b.args...), args...))
}

// startCtl starts cutoverctl with args on b's journal; it is killed when
// the test ends.
func startCtl(t *testing.T, b backend, args ...string) *runner {
	t.Helper()
	return start(t, b, bins.ctl, append(append([]string{}, args...), b.args...))
}

func start(t *testing.T, b backend, bin string, args []string) *runner {
	t.Helper()
	r := &runner{done: make(chan struct{})}
	r.cmd = exec.Command(bin, args...)
	r.cmd.Env = append(os.Environ(), b.env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", filepath.Base(bin), err)
	}
	go func() {
		_ = r.cmd.Wait()
		r.code = r.cmd.ProcessState.ExitCode()
		close(r.done)
	}()
	t.Cleanup(func() {
		r.kill(t)
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), r.out.String())
		}
	})
	return r
}

// kill kills the runner and waits for it to exit.
func (r *runner) kill(t *testing.T) {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Kill()
	select {
	case <-r.done:
	case <-time.After(exitTimeout):
		t.Errorf("runner did not exit within %v of being killed", exitTimeout)
	}
}

// wait waits for the runner to exit by itself and returns its status.
func (r *runner) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(exitTimeout):
		t.Fatalf("runner did not exit within %v; output:\n%s", exitTimeout, r.out.String())
		return -1
	}
}

// ctl runs cutoverctl on b's journal with args and returns its exit status
// and output.
func ctl(t *testing.T, b backend, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.ctl, append(append([]string{}, args...), b.args...)...)
	cmd.Env = append(os.Environ(), b.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("cutoverctl %q: %v", args, err)
	}
	t.Logf("cutoverctl %s → exit %d\n%s%s", strings.Join(args, " "), cmd.ProcessState.ExitCode(), out.String(), errb.String())
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// waitFor polls the journal of cutover id until cond holds.
func waitFor(t *testing.T, b backend, id, what string, cond func(st cutover.State, recs []cutover.Record) bool) (cutover.State, []cutover.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), condTimeout)
	defer cancel()
	var lastErr error
	for {
		recs, err := b.j.Read(ctx, id, 0)
		if err == nil && len(recs) > 0 {
			st, ferr := cutover.Fold(id, recs)
			if ferr == nil && cond(st, recs) {
				return st, recs
			}
			err = ferr
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("cutover %s: %s: not within %v (last error: %v)", id, what, condTimeout, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stageIs returns a condition: stage name has status want.
func stageIs(name string, want cutover.StageStatus) func(cutover.State, []cutover.Record) bool {
	return func(st cutover.State, _ []cutover.Record) bool {
		for _, s := range st.Stages {
			if s.Name == name {
				return s.Status == want
			}
		}
		return false
	}
}

// phaseIs returns a condition: the cutover is in phase p.
func phaseIs(p cutover.Phase) func(cutover.State, []cutover.Record) bool {
	return func(st cutover.State, _ []cutover.Record) bool { return st.Phase == p }
}

// lastTraffic returns the weights of the last traffic note in recs.
func lastTraffic(t *testing.T, recs []cutover.Record) map[string]int {
	t.Helper()
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Type == cutover.RecData && recs[i].Key == cutover.DataTraffic {
			w, err := cutover.ParseTraffic(recs[i].Value)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
	}
	t.Fatal("no traffic note in the journal")
	return nil
}

// wantIn fails the test unless s contains each of subs.
func wantIn(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

// wantCode fails the test unless got is want.
func wantCode(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s: exit status %d, want %d", what, got, want)
	}
}
