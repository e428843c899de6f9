package reliability_test

// The stage at the point of no return, when its Apply fails. Rollback is
// impossible there (the stage is irreversible), and Apply is idempotent, so
// the only way to the end the runner promises ("completed" or "rolled back",
// never half-done) is forward: a later Run must be able to apply the stage
// again. These tests show whether it can.

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
)

// TestPNRStageApplyFailureIsResumable: the migration reaches "retire blue"
// with an approval; its Apply fails once — a throttled call, or the
// caller's context cancelled in the middle. The stage cannot be reverted,
// so the runner must finish it forward: in the same Run (it applies it
// again, as it retries a revert), or, if that Run stops, in a later one.
func TestPNRStageApplyFailureIsResumable(t *testing.T) {
	for _, tc := range []struct {
		name string
		// throttle makes the retire's call to blue's fleet fail once;
		// cancel cancels the runner's context as the retire starts.
		throttle, cancel bool
	}{
		{name: "throttled once", throttle: true},
		{name: "context cancelled", cancel: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cloud, led, w, mem := bubbleWorld()
				p, err := buildPlan(planConfig{sc: scMigration, timing: bubbleTiming}, w)
				if err != nil {
					t.Fatal(err)
				}
				opts := runnerOptions(bubbleTiming, nil)
				if _, err := cutover.MustNewRunner(mem, opts).Run(t.Context(), cutoverID, p); err == nil {
					t.Fatal("the first Run did not stop at the PNR")
				}
				if err := cutover.Send(t.Context(), mem, cutoverID, cutover.CmdApprove, approver, "green healthy", ""); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tc.throttle {
					cloud.InjectFault(fake.Fault{Op: fake.OpSetDesired, Resource: "blue", Nth: 1, Err: fake.ErrThrottled})
				}
				ropts := opts
				if tc.cancel {
					ropts.Observer = cutover.ObserverFunc(func(e cutover.Event) {
						if e.Type == cutover.EvStageStarted && e.Stage == "retire blue" {
							cancel()
						}
					})
				}
				st, err := cutover.MustNewRunner(mem, ropts).Run(ctx, cutoverID, p)
				t.Logf("the Run whose retire failed: %s: %v", st.Phase, err)
				if st.Phase != cutover.PhaseCompleted {
					// The cloud is healthy again; a later runner resumes.
					cloud.ClearFaults()
					st, err = cutover.MustNewRunner(mem, opts).Run(t.Context(), cutoverID, p)
				}
				if st.Phase != cutover.PhaseCompleted {
					t.Errorf("the cutover ended %s: %v;\nwant completed: the retire is idempotent and an irreversible stage "+
						"that failed to apply can only be finished forward, or the cutover is stuck half-done for good", st.Phase, err)
					return
				}
				recs, err := mem.Read(t.Context(), cutoverID, 0)
				if err != nil {
					t.Fatal(err)
				}
				if err := verify(scMigration, cloud, led, recs, p, cutover.PhaseCompleted); err != nil {
					t.Error(err)
				}
			})
		})
	}
}
