package rolling_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/rolling"
)

// warmingFleets returns a fake cloud whose new members take 40 s to be
// healthy, with blue at 6 members and green at none.
func warmingFleets() (*fake.Cloud, *fake.Fleet, *fake.Fleet) {
	cloud := fake.MustNew(fake.Options{WarmUp: 40 * time.Second})
	return cloud, cloud.Fleet("blue", 6), cloud.Fleet("green", 0)
}

// backOnBlue checks that a rollback left blue at 6 healthy members and
// green at none.
func backOnBlue(t *testing.T, blue, green providers.Fleet) {
	t.Helper()
	b, _ := blue.Capacity(t.Context())
	g, _ := green.Capacity(t.Context())
	if b.Desired != 6 || b.Healthy != 6 || g.Desired != 0 {
		t.Errorf("after the rollback blue %+v, green %+v; want blue 6 healthy, green 0", b, g)
	}
}

// TestRollbackOnFakeCloud runs a rolling cutover through the runner on the
// fake cloud, with a warm-up for new members, fails a gate in the third
// batch and checks that the capacities and the weights end where they
// started. The gate fails as green reaches 6 during the third batch's
// Apply, while its new members warm up: the runner judges green as the
// Apply's waits add up, with the gates of the batch before, and cuts the
// Apply short.
func TestRollbackOnFakeCloud(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cloud, blue, green := warmingFleets()
		alb := cloud.Router("alb", "blue", "green")
		failAtThird := cutover.Named("third batch fails", cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
			if c, _ := green.Capacity(ctx); c.Desired >= 6 {
				return cutover.Verdict{Decision: cutover.Fail, Reason: "green 5xx"}, nil
			}
			return cutover.Verdict{Decision: cutover.Pass}, nil
		}))
		r, err := rolling.New(blue, green, 6, rolling.Options{BatchSize: 2, MaxUnavailable: 1, Router: alb, Gates: []cutover.Gate{failAtThird}, Bake: time.Minute, PollInterval: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		plan, _ := cutover.Sequence("roll", r)
		minHealthy := 6
		obs := cutover.ObserverFunc(func(cutover.Event) {
			b, _ := blue.Capacity(ctx)
			g, _ := green.Capacity(ctx)
			minHealthy = min(minHealthy, b.Healthy+g.Healthy)
		})
		_, err = cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: 10 * time.Second, Observer: obs}).Run(ctx, "roll-1", plan)
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrRolledBack) || errors.Is(err, cutover.ErrRollbackIncomplete) || !errors.As(err, &gf) || gf.Gate != "third batch fails" || gf.Stage != "batch 2/3" {
			t.Fatalf("Run error = %v, want a complete rollback for the gate, judging green during batch 3/3's Apply", err)
		}
		backOnBlue(t, blue, green)
		if w, _ := alb.Weights(ctx); !w.Equal(providers.Weights{"blue": 100}) {
			t.Errorf("after rollback weights %s", w)
		}
		if minHealthy < 5 {
			t.Errorf("healthy capacity fell to %d, below desired − max unavailable = 5", minHealthy)
		}
	})
}

// A batch whose Apply is cut short while new members warm up (an abort,
// the runner's deadline) can be reverted: Revert waits for the members
// still starting instead of refusing the move as one that would take
// healthy capacity below the floor.
func TestRevertAfterApplyCutDuringWarmUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		_, blue, green := warmingFleets()
		r, err := rolling.New(blue, green, 6, rolling.Options{BatchSize: 2, MaxUnavailable: 1, PollInterval: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		stages, err := r.Stages()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stages[:2] {
			if err := s.Apply(ctx); err != nil {
				t.Fatal(err)
			}
		}
		actx, cancel := context.WithTimeout(ctx, 10*time.Second) // cut while green warms up
		defer cancel()
		if err := stages[2].Apply(actx); err == nil {
			t.Fatal("the last batch's Apply finished within 10s; want it cut during the warm-up")
		}
		g, _ := green.Capacity(ctx)
		if g.Healthy >= g.Desired {
			t.Fatalf("green %+v after the cut; want members still warming up", g)
		}
		if err := stages[2].Revert(ctx); err != nil {
			t.Fatalf("Revert after the cut: %v", err)
		}
		b, _ := blue.Capacity(ctx)
		g, _ = green.Capacity(ctx)
		if b.Desired != 2 || b.Healthy != 2 || g.Desired != 4 {
			t.Errorf("after the revert blue %+v, green %+v; want blue 2 healthy, green 4 (the batch before)", b, g)
		}
	})
}

// An abort while a batch's new members warm up rolls the whole cutover
// back in the same Run: the batch's Apply is cut short, and its Revert
// waits for the members still starting.
func TestAbortDuringWarmUpRollsBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		_, blue, green := warmingFleets()
		r, err := rolling.New(blue, green, 6, rolling.Options{BatchSize: 2, MaxUnavailable: 1, Bake: time.Minute, PollInterval: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := cutover.Sequence("roll", r)
		if err != nil {
			t.Fatal(err)
		}
		j := cutover.NewMemJournal()
		done := make(chan error, 1)
		go func() {
			_, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: 10 * time.Second}).Run(ctx, "roll-1", plan)
			done <- err
		}()
		for range 3600 { // until the last batch's members are starting
			if g, _ := green.Capacity(ctx); g.Desired > 4 && g.Healthy < g.Desired {
				break
			}
			time.Sleep(time.Second)
		}
		if g, _ := green.Capacity(ctx); g.Desired <= 4 || g.Healthy >= g.Desired {
			t.Fatalf("green %+v: the last batch never started warming up", g)
		}
		if err := cutover.Send(ctx, j, "roll-1", cutover.CmdAbort, "ops", "stop the roll", ""); err != nil {
			t.Fatal(err)
		}
		err = <-done
		if !errors.Is(err, cutover.ErrRolledBack) || errors.Is(err, cutover.ErrRollbackIncomplete) || !errors.Is(err, cutover.ErrAborted) {
			t.Fatalf("Run error = %v, want a complete rollback for the abort", err)
		}
		backOnBlue(t, blue, green)
	})
}
