package canary_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// TestPauseStepWaitsForResume runs a canary with a manual pause at 25 %
// through the runner: it holds there until a resume command arrives from a
// second journal handle, then goes on to the end.
func TestPauseStepWaitsForResume(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cloud := fake.MustNew(fake.Options{})
		alb := cloud.Router("alb", "blue", "green")
		c, err := canary.New(alb, canary.Options{Steps: canary.Weights(5, 25, 100), Bake: time.Minute, PauseAt: []int{25}})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := cutover.Sequence("pause", c)
		if err != nil {
			t.Fatal(err)
		}
		j := cutover.NewMemJournal()
		paused := make(chan struct{}, 1)
		r := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: 10 * time.Second, Observer: cutover.ObserverFunc(func(e cutover.Event) {
			if e.Type == cutover.EvPaused {
				paused <- struct{}{}
			}
		})})
		done := make(chan error, 1)
		go func() {
			_, err := r.Run(ctx, "c1", plan)
			done <- err
		}()
		<-paused
		// Held at 25 % for an hour: nothing moves.
		time.Sleep(time.Hour)
		if w, _ := alb.Weights(ctx); !w.Equal(providers.Weights{"blue": 75, "green": 25}) {
			t.Fatalf("while paused weights are %s", w)
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned while paused: %v", err)
		default:
		}
		if err := cutover.Send(ctx, j, "c1", cutover.CmdResume, "bob", "looks good", ""); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if w, _ := alb.Weights(ctx); !w.Equal(providers.Weights{"blue": 0, "green": 100}) {
			t.Errorf("at the end weights are %s", w)
		}
	})
}

// TestRollbackIsOneChange fails a gate at 50 % through the runner, with the
// router throttling the first rollback attempt, and checks that traffic
// ends all on blue and that the rollback made exactly one weight change
// that took effect.
func TestRollbackIsOneChange(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cloud := fake.MustNew(fake.Options{})
		alb := cloud.Router("alb", "blue", "green")
		bad := cutover.Named("bad at 50", cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
			if w, _ := alb.Weights(ctx); w["green"] >= 50 {
				// The router throttles the first call of the rollback.
				_ = cloud.InjectFault(fake.Fault{Op: fake.OpSetWeights, Nth: 1, Err: fake.ErrThrottled})
				return cutover.Verdict{Decision: cutover.Fail, Reason: "errors"}, nil
			}
			return cutover.Verdict{Decision: cutover.Pass}, nil
		}))
		c, err := canary.New(alb, canary.Options{Steps: canary.Weights(5, 25, 50, 100), Bake: time.Minute, Gates: []cutover.Gate{bad}})
		if err != nil {
			t.Fatal(err)
		}
		plan, _ := cutover.Sequence("rb", c)
		_, err = cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: 10 * time.Second}).Run(ctx, "c1", plan)
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.As(err, &gf) || gf.Stage != "canary 50%" {
			t.Fatalf("Run error = %v, want a rollback from canary 50%%", err)
		}
		var got []string
		for _, h := range alb.History() {
			got = append(got, h.Weights.String())
		}
		want := "blue=100 green=0,blue=95 green=5,blue=75 green=25,blue=50 green=50,blue=100 green=0"
		if strings.Join(got, ",") != want {
			t.Errorf("weight history %v, want %s", got, want)
		}
	})
}
