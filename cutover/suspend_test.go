package cutover_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// A Run cancelled with ErrSuspended stops without rolling back: it
// journals the suspension, releases its lease, and the next Run resumes
// where it stopped, applying no stage twice.
func TestSuspendAndResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(3, time.Hour)
		j := cutover.NewMemJournal()
		lease := cutover.NewMemLease(cutover.MemLeaseOptions{})
		opts := cutover.RunnerOptions{PollInterval: poll, Lease: lease}
		ctx, suspend := context.WithCancelCause(t.Context())
		done := startRun(ctx, j, opts, p)
		time.Sleep(90 * time.Minute) // s1 bakes
		suspend(cutover.ErrSuspended)
		o := <-done
		if !errors.Is(o.err, cutover.ErrSuspended) || errors.Is(o.err, cutover.ErrRolledBack) {
			t.Fatalf("suspended run: %v, want ErrSuspended", o.err)
		}
		st := foldAll(t, j, "c")
		if st.Phase != cutover.PhaseSuspended || st.Cause == "" {
			t.Fatalf("phase %s cause %q, want suspended with where it stands", st.Phase, st.Cause)
		}
		if len(c.Reverts()) != 0 || !c.applied["s1"] {
			t.Fatalf("cloud after the suspension: applied %v, reverts %v", c.Applied(), c.Reverts())
		}
		// The lease was released: another owner takes it at once.
		if err := lease.Acquire(context.Background(), "c", "probe", time.Minute); err != nil {
			t.Fatalf("lease after the suspension: %v", err)
		}
		if err := lease.Release(context.Background(), "c", "probe"); err != nil {
			t.Fatal(err)
		}
		st, err := cutover.MustNewRunner(j, opts).Run(t.Context(), "c", p)
		if err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("resumed run: %v %s", err, st.Phase)
		}
		applies := map[string]int{}
		for _, r := range readAll(t, j, "c") {
			if r.Type == cutover.RecIntent && r.Action == "apply" {
				applies[r.Stage]++
			}
		}
		for _, s := range []string{"s0", "s1", "s2"} {
			if applies[s] != 1 {
				t.Errorf("stage %s has %d apply intents, want 1", s, applies[s])
			}
		}
		if len(c.Reverts()) != 0 {
			t.Errorf("reverts: %v", c.Reverts())
		}
	})
}

// A restarted runner whose lease is still held by a runner that died waits
// for it to expire (bounded, reported) instead of exiting at once.
func TestRestartWaitsForHeldLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(1, time.Minute)
		lease := cutover.NewMemLease(cutover.MemLeaseOptions{})
		if err := lease.Acquire(context.Background(), "c", "dead-runner", 30*time.Second); err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		opts := cutover.RunnerOptions{PollInterval: poll, Lease: lease, LeaseTTL: 30 * time.Second, Observer: rec}
		start := time.Now()
		st, err := cutover.MustNewRunner(cutover.NewMemJournal(), opts).Run(t.Context(), "c", p)
		if err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("run: %v %s, want completed once the dead runner's lease expired", err, st.Phase)
		}
		if rec.Count(cutover.EvLeaseWait) != 1 {
			t.Errorf("lease_wait events: %d, want 1", rec.Count(cutover.EvLeaseWait))
		}
		if e, _ := rec.First(cutover.EvStarted); e.Time.Sub(start) < 30*time.Second {
			t.Errorf("started %s after the restart, before the lease expired", e.Time.Sub(start))
		}

		// A lease that stays held is given up on after its TTL and a poll.
		if err := lease.Acquire(context.Background(), "d", "alive", time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := cutover.MustNewRunner(cutover.NewMemJournal(), opts).Run(t.Context(), "d", p); !errors.Is(err, cutover.ErrLeaseHeld) {
			t.Fatalf("run on a held lease: %v, want ErrLeaseHeld", err)
		}
	})
}

// A Run given a context suspended before it begins (a SIGTERM between two
// Runs) journals the suspension where the cutover stands, and touches
// nothing: no stage applied, none reverted.
func TestSuspendedBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(3, time.Hour)
		j := cutover.NewMemJournal()
		opts := cutover.RunnerOptions{PollInterval: poll}
		ctx, suspend := context.WithCancelCause(t.Context())
		done := startRun(ctx, j, opts, p)
		time.Sleep(90 * time.Minute) // s1 bakes
		suspend(cutover.ErrSuspended)
		if o := <-done; !errors.Is(o.err, cutover.ErrSuspended) {
			t.Fatalf("first run: %v, want ErrSuspended", o.err)
		}
		if err := cutover.Send(t.Context(), j, "c", cutover.CmdPause, "ops", "hold", ""); err != nil {
			t.Fatal(err)
		}
		applied := c.Applied()
		_, err := cutover.MustNewRunner(j, opts).Run(ctx, "c", p)
		if !errors.Is(err, cutover.ErrSuspended) || errors.Is(err, cutover.ErrRolledBack) {
			t.Fatalf("run on a suspended context: %v, want ErrSuspended", err)
		}
		recs := readAll(t, j, "c")
		if last := recs[len(recs)-1]; last.Type != cutover.RecSuspended {
			t.Fatalf("journal ends with %s, want %s", last.Type, cutover.RecSuspended)
		}
		if len(c.Reverts()) != 0 || len(c.Applied()) != len(applied) {
			t.Errorf("cloud: applied %v (before %v), reverts %v", c.Applied(), applied, c.Reverts())
		}
	})
}
