package reliability_test

// The child programs: the test binary, started again with envChild set,
// runs one of them instead of the tests (see TestMain). They talk to the
// parent through their environment, files in a directory, and one line of
// JSON on stdout.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
)

// envChild, set in a child's environment, names the child program the test
// binary runs instead of the tests.
const envChild = "SAFECUTOVER_RELIABILITY_CHILD"

// The rest of a child's environment.
const (
	envDir      = "SC_DIR"      // the directory of the cutover's files
	envScenario = "SC_SCENARIO" // a scenario
	envBad      = "SC_BAD"      // "1": a bad green
	envKill     = "SC_KILL"     // "append:N:before", "call:N:after", ...: SIGKILL there
	envOwner    = "SC_OWNER"    // a controller's lease owner name
	envStore    = "SC_STORE"    // a controller's journal and lease: "file" or "dynamodb"
	envTable    = "SC_TABLE"    // the DynamoDB table
)

// childResult is what a child prints on stdout when it ends by itself.
type childResult struct {
	Phase string `json:"phase"`
	Err   string `json:"err,omitempty"`
	// Appends and Calls count the journal appends and cloud calls the
	// child made; Mut says which calls changed the cloud, Run in which Run
	// of the life cycle each came.
	Appends int64   `json:"appends"`
	Mut     []bool  `json:"mut,omitempty"`
	Run     []int64 `json:"run,omitempty"`
	// LeaseHeld counts the Runs that found the lease held by another.
	LeaseHeld int `json:"lease_held,omitempty"`
	// Batches are the batches of a rolling cutover (rolling-batches).
	Batches []int `json:"batches,omitempty"`
	// Suspended: the run stopped on SIGTERM with cutover.ErrSuspended.
	Suspended bool `json:"suspended,omitempty"`
}

// childMain runs the child program named role and returns its exit code.
func childMain(role string) int {
	var (
		res childResult
		err error
	)
	switch role {
	case "crash":
		res, err = crashChild()
	case "controller":
		res, err = controllerChild()
	case "rolling-batches":
		res, err = rollingBatchesChild()
	default:
		err = fmt.Errorf("unknown child %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
		return 1
	}
	return 0
}

// childPaths are the files of a cutover shared by the processes on it.
type childPaths struct{ dir string }

func (p childPaths) journal() string { return filepath.Join(p.dir, "journal") }
func (p childPaths) lease() string   { return filepath.Join(p.dir, "lease") }
func (p childPaths) cloud() string   { return filepath.Join(p.dir, "cloud.json") }
func (p childPaths) tickets() string { return filepath.Join(p.dir, "tickets") }
func (p childPaths) applies() string { return filepath.Join(p.dir, "applies") }

// parseKill arms k from a kill spec "append:N:before" / "call:N:after".
func parseKill(k *killSwitch, spec string) error {
	if spec == "" {
		return nil
	}
	parts := strings.Split(spec, ":")
	if len(parts) != 3 {
		return fmt.Errorf("%s=%q: want KIND:N:before|after", envKill, spec)
	}
	n, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || n < 1 {
		return fmt.Errorf("%s=%q: N must be a positive number", envKill, spec)
	}
	p := crashPoint{kind: parts[0], n: n, after: parts[2] == "after"}
	if p.kind != "append" && p.kind != "call" || parts[2] != "before" && parts[2] != "after" {
		return fmt.Errorf("%s=%q: want append|call:N:before|after", envKill, spec)
	}
	p.arm(k)
	return nil
}

// killSpec renders p for envKill.
func killSpec(p crashPoint) string {
	when := "before"
	if p.after {
		when = "after"
	}
	return fmt.Sprintf("%s:%d:%s", p.kind, p.n, when)
}

// sigkillSelf ends the process at once, as a power cut or the OOM killer
// would: no deferred function, no flush, no lease release.
func sigkillSelf(bool) {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; this is never reached
}

// crashChild drives a cutover on the file journal and the fake cloud's
// state file, as an operator would (approving at the PNR), and SIGKILLs
// itself at the point envKill names, if any. On SIGTERM it suspends the
// cutover (cutover.ErrSuspended), as a controller being redeployed does.
func crashChild() (childResult, error) {
	var res childResult
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	base, suspend := context.WithCancelCause(context.Background())
	defer suspend(nil)
	go func() {
		if _, ok := <-term; ok {
			suspend(cutover.ErrSuspended)
		}
	}()
	paths := childPaths{os.Getenv(envDir)}
	sc := scenario(os.Getenv(envScenario))
	cloud, err := fake.Open(paths.cloud(), fake.Options{Seed: 1, MaxCalls: -1})
	if err != nil {
		return res, err
	}
	w := newWorld(cloud, fileLedger{paths.tickets()})
	fj, err := cutover.NewFileJournal(paths.journal(), cutover.FileJournalOptions{})
	if err != nil {
		return res, err
	}
	k := newKillSwitch()
	if err := parseKill(k, os.Getenv(envKill)); err != nil {
		return res, err
	}
	k.onAppend, k.onCall = sigkillSelf, sigkillSelf
	p, err := buildPlan(planConfig{sc: sc, bad: os.Getenv(envBad) == "1", timing: childTiming}, w.wrap(k))
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(base, time.Minute)
	defer cancel()
	st, err := drive(ctx, kJournal{k, fj}, runnerOptions(childTiming, nil), p, k, nil)
	res.Phase = string(st.Phase)
	if err != nil {
		res.Err = err.Error()
		res.Suspended = errors.Is(err, cutover.ErrSuspended)
	}
	res.Appends = k.appends.Load()
	for _, c := range k.kinds {
		res.Mut = append(res.Mut, c.mut)
		res.Run = append(res.Run, c.run)
	}
	return res, nil
}

// child is a child process the parent started.
type child struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
}

// startChild starts the test binary as child program role with env added
// to the environment. It is killed if ctx ends first.
func startChild(ctx context.Context, role string, env map[string]string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: exec.CommandContext(ctx, exe)}
	// A race-enabled child would sleep a second at exit for reports of
	// late races (GORACE atexit_sleep_ms defaults to 1000).
	c.cmd.Env = append(os.Environ(), envChild+"="+role, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	c.cmd.WaitDelay = time.Second
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	return c, nil
}

// wait waits for the child and returns its result if it ended by itself,
// or whether it was killed by SIGKILL.
func (c *child) wait() (res childResult, killed bool, err error) {
	werr := c.cmd.Wait()
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return res, true, nil
	}
	if werr != nil {
		return res, false, fmt.Errorf("child: %w; stderr: %s", werr, strings.TrimSpace(c.stderr.String()))
	}
	if err := json.Unmarshal(c.stdout.Bytes(), &res); err != nil {
		return res, false, fmt.Errorf("child output %q: %w", c.stdout.String(), err)
	}
	return res, false, nil
}

// runChild starts child program role and waits for it.
func runChild(ctx context.Context, role string, env map[string]string) (childResult, bool, error) {
	c, err := startChild(ctx, role, env)
	if err != nil {
		return childResult{}, false, err
	}
	return c.wait()
}

// errNotKilled says a child meant to SIGKILL itself ended by itself.
var errNotKilled = errors.New("the child was not killed: it made fewer appends or calls than the reference")
