package reliability_test

// Crash anywhere, across processes: the runner is a child process on the
// file journal and the fake cloud's state file (fake.Open), SIGKILLed at
// every journal append and cloud call (it kills itself there, so the point
// is exact) and, in the full form, at random moments by the parent. A new
// process resumes each time.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/reliability"
)

// verifyFiles checks the cutover a child process left in paths.
func verifyFiles(ctx context.Context, c crashCase, paths childPaths, want cutover.Phase) error {
	cloud, err := fake.Load(paths.cloud(), fake.Options{MaxCalls: -1})
	if err != nil {
		return err
	}
	fj, err := cutover.NewFileJournal(paths.journal(), cutover.FileJournalOptions{})
	if err != nil {
		return err
	}
	recs, err := fj.Read(ctx, cutoverID, 0)
	if err != nil {
		return err
	}
	// The plan, for its stages' reversibility: built over a scratch cloud.
	p, err := buildPlan(planConfig{sc: c.sc, bad: c.bad, timing: childTiming}, newWorld(fake.MustNew(fake.Options{}), newMemLedger()))
	if err != nil {
		return err
	}
	return verify(c.sc, cloud, fileLedger{paths.tickets()}, recs, p, want)
}

func crashEnv(c crashCase, dir string) map[string]string {
	bad := "0"
	if c.bad {
		bad = "1"
	}
	return map[string]string{envDir: dir, envScenario: string(c.sc), envBad: bad}
}

// checkSuspended checks what a child that suspended the cutover left: the
// suspension is the journal's last record, and nothing was rolled back
// that a good green did not call for.
func checkSuspended(ctx context.Context, c crashCase, paths childPaths) error {
	fj, err := cutover.NewFileJournal(paths.journal(), cutover.FileJournalOptions{})
	if err != nil {
		return err
	}
	recs, err := fj.Read(ctx, cutoverID, 0)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil // suspended before it began: nothing journaled
	}
	if recs[len(recs)-1].Type != cutover.RecSuspended {
		return fmt.Errorf("the suspended child's journal does not end with a %s record: %s", cutover.RecSuspended, journalStory(recs))
	}
	st, err := cutover.Fold(cutoverID, recs)
	if err != nil {
		return err
	}
	if !c.bad && (st.Phase == cutover.PhaseRollingBack || st.Phase == cutover.PhaseRolledBack) {
		return fmt.Errorf("a good green suspended is %s: %s", st.Phase, journalStory(recs))
	}
	return nil
}

// resume runs a new child on the cutover in dir until it ends and checks
// what it left.
func resume(ctx context.Context, c crashCase, dir string) error {
	res, killed, err := runChild(ctx, "crash", crashEnv(c, dir))
	if err != nil {
		return err
	}
	if killed {
		return fmt.Errorf("the resuming child was killed")
	}
	if err := verifyFiles(ctx, c, childPaths{dir}, c.want()); err != nil {
		return fmt.Errorf("%w (resumed run: phase %s, %s)", err, res.Phase, res.Err)
	}
	return nil
}

// TestCrashChildProcess SIGKILLs a child process at every crash point of
// every scenario (a sample in the short form) and lets a new one resume.
func TestCrashChildProcess(t *testing.T) {
	step := pick(12, 1)
	timed := pick(0, 12)
	for _, c := range crashCases() {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
			defer cancel()
			base := t.TempDir()
			newDir := func() string {
				d, err := os.MkdirTemp(base, "run")
				if err != nil {
					t.Fatal(err)
				}
				return d
			}

			// The reference run: no kill; it counts appends and calls.
			dir := newDir()
			start := time.Now()
			ref, killed, err := runChild(ctx, "crash", crashEnv(c, dir))
			took := time.Since(start)
			if err != nil || killed {
				t.Fatalf("reference child: %v (killed %v)", err, killed)
			}
			if err := verifyFiles(ctx, c, childPaths{dir}, c.want()); err != nil {
				t.Fatalf("reference child: %v", err)
			}
			kinds := make([]callKind, len(ref.Mut))
			for i := range ref.Mut {
				kinds[i] = callKind{mut: ref.Mut[i], run: ref.Run[i]}
			}
			points := sample(crashPointsOf(ref.Appends, kinds, false), step)

			var fails failures
			var s reliability.Summary
			for _, p := range points {
				dir := newDir()
				env := crashEnv(c, dir)
				env[envKill] = killSpec(p)
				_, killed, err := runChild(ctx, "crash", env)
				if err != nil || !killed {
					fails.add("%s: SIGKILL at %s: %v (killed %v)", c, p, err, killed)
					if err == nil {
						fails.add("%s: %s: %v", c, p, errNotKilled)
					}
					continue
				}
				s.CrashPoints++
				if err := resume(ctx, c, dir); err != nil {
					fails.add("%s: SIGKILL at %s, then a new process: %v", c, p, err)
					continue
				}
				s.Converged++
			}

			// Kills at random moments, from outside.
			rng := rand.New(rand.NewPCG(uint64(len(c.String())), 7))
			for i := 0; i < timed; i++ {
				dir := newDir()
				ch, err := startChild(ctx, "crash", crashEnv(c, dir))
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(rng.Int64N(int64(took))))
				ch.cmd.Process.Kill() // SIGKILL
				_, killed, _ := ch.wait()
				if !killed {
					continue // it finished first
				}
				s.CrashPoints++
				if err := resume(ctx, c, dir); err != nil {
					fails.add("%s: SIGKILL at a random moment, then a new process: %v", c, err)
					continue
				}
				s.Converged++
			}
			// SIGTERM at random moments: the child suspends the cutover
			// (journaled, nothing rolled back) and a new process carries
			// it to the same end.
			suspended := 0
			for i := 0; i < pick(3, 12); i++ {
				dir := newDir()
				ch, err := startChild(ctx, "crash", crashEnv(c, dir))
				if err != nil {
					t.Fatal(err)
				}
				// Once the cutover has begun (its journal is written),
				// at a random moment of what is left of it.
				for begun := time.Now().Add(10 * time.Second); time.Now().Before(begun); time.Sleep(5 * time.Millisecond) {
					if fi, err := os.Stat(childPaths{dir}.journal()); err == nil && fi.Size() > 0 {
						break
					}
				}
				time.Sleep(time.Duration(rng.Int64N(int64(took) / 2)))
				ch.cmd.Process.Signal(syscall.SIGTERM)
				res, _, err := ch.wait()
				if ws, ok := ch.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					continue // before the child took the signal in hand
				}
				if err != nil {
					fails.add("%s: SIGTERM: %v", c, err)
					continue
				}
				if !res.Suspended {
					continue // it finished first
				}
				if err := checkSuspended(ctx, c, childPaths{dir}); err != nil {
					fails.add("%s: SIGTERM: %v", c, err)
					continue
				}
				if err := resume(ctx, c, dir); err != nil {
					fails.add("%s: SIGTERM, then a new process: %v", c, err)
					continue
				}
				suspended++
			}
			collected.count("suspend_child_process_converged", float64(suspended))
			collected.add(s)
			collected.count("crash_child_process_points", float64(s.CrashPoints))
			collected.count("crash_child_process_converged", float64(s.Converged))
			t.Logf("%s: reference run %v, %d appends, %d calls; %d processes killed, %d converged; %d suspended and resumed", c, took.Round(time.Millisecond), ref.Appends, len(kinds), s.CrashPoints, s.Converged, suspended)
			fails.report(t, "crash child process "+c.String())
		})
	}
}
