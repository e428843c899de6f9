package providertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// Settle bounds how long the suite polls for a change to show in a read
// (weights, active target, capacity); PollEvery is the pause between reads.
const (
	Settle    = 10 * time.Second
	PollEvery = 10 * time.Millisecond
)

// Unknown is the name the suite uses for a target, alarm or metric that
// the provider must not know.
const Unknown = "providertest-unknown"

// eventually polls check until it reports done, for at most Settle
// (cutover.Poll on the real clock), and fails the test with check's last
// message if it never does.
func eventually(t *testing.T, what string, check func(ctx context.Context) (done bool, msg string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Settle)
	defer cancel()
	p := cutover.Poll{What: what, Interval: cutover.Backoff{Initial: PollEvery}, Timeout: Settle}
	err := p.Until(ctx, func(ctx context.Context) (bool, string, error) {
		done, msg := check(ctx)
		return done, msg, nil
	})
	if err != nil {
		t.Fatalf("not within %s: %v", Settle, err)
	}
}

// cancelled returns a context that is already cancelled.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// prompt runs call with a cancelled context and fails unless it returns an
// error within Settle.
func prompt(t *testing.T, what string, call func(ctx context.Context) error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call(cancelled()) }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("%s with a cancelled context: got nil error, want one", what)
		}
	case <-time.After(Settle):
		t.Fatalf("%s with a cancelled context: no return within %s", what, Settle)
	}
}

// TestTrafficRouter checks the TrafficRouter contract. newRouter returns a
// fresh router over targets (at least two, all distinct), in any valid
// state. The suite checks that:
//   - Weights returns valid weights over the router's targets;
//   - SetWeights followed by Weights reads back equal weights (polled for
//     at most Settle), for all traffic on one target, splits and 1 %
//     steps; setting the same weights again succeeds and changes nothing;
//   - invalid weights (sum ≠ 100, a weight below 0 or above 100, an
//     unknown or empty target name, no targets) are rejected with an error
//     and leave the weights in force unchanged;
//   - a call with a cancelled context returns an error promptly, and
//     SetWeights then changes nothing;
//   - concurrent SetWeights and Weights calls are safe and the router ends
//     on one of the weights set.
func TestTrafficRouter(t *testing.T, newRouter func(t *testing.T) (providers.TrafficRouter, []string)) {
	t.Helper()
	setup := func(t *testing.T) (providers.TrafficRouter, []string) {
		t.Helper()
		r, targets := newRouter(t)
		if r == nil || len(targets) < 2 {
			t.Fatalf("harness: want a router and at least two targets, got %v, %q", r, targets)
		}
		return r, targets
	}
	t.Run("InitialWeightsValid", func(t *testing.T) {
		r, targets := setup(t)
		w, err := r.Weights(context.Background())
		if err != nil {
			t.Fatalf("Weights: %v", err)
		}
		if err := w.Validate(); err != nil {
			t.Errorf("Weights returned invalid weights %v: %v", w, err)
		}
		for tg := range w {
			if !contains(targets, tg) {
				t.Errorf("Weights returned target %q, not one of %q", tg, targets)
			}
		}
	})
	t.Run("SetThenReadBack", func(t *testing.T) {
		r, targets := setup(t)
		for _, w := range weightCases(targets) {
			setWeights(t, r, w)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		r, targets := setup(t)
		w := providers.Weights{targets[0]: 25, targets[1]: 75}
		setWeights(t, r, w)
		for i := range 2 {
			if err := r.SetWeights(context.Background(), w); err != nil {
				t.Fatalf("SetWeights(%v) again (%d): %v", w, i+1, err)
			}
		}
		expectWeights(t, r, w)
	})
	t.Run("InvalidRejected", func(t *testing.T) {
		r, targets := setup(t)
		a, b := targets[0], targets[1]
		before := providers.Weights{a: 70, b: 30}
		setWeights(t, r, before)
		cases := []struct {
			name string
			w    providers.Weights
		}{
			{"SumBelow100", providers.Weights{a: 70, b: 29}},
			{"SumAbove100", providers.Weights{a: 70, b: 31}},
			{"Negative", providers.Weights{a: 110, b: -10}},
			{"Above100", providers.Weights{a: 101, b: -1}},
			{"UnknownTarget", providers.Weights{a: 50, Unknown: 50}},
			{"EmptyTargetName", providers.Weights{a: 50, "": 50}},
			{"NoTargets", providers.Weights{}},
			{"Nil", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := r.SetWeights(context.Background(), tc.w); err == nil {
					t.Errorf("SetWeights(%v): got nil error, want one", tc.w)
				}
				got, err := r.Weights(context.Background())
				if err != nil {
					t.Fatalf("Weights: %v", err)
				}
				if !got.Equal(before) {
					t.Errorf("after rejected SetWeights(%v): weights %v, want unchanged %v", tc.w, got, before)
				}
			})
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		r, targets := setup(t)
		before := providers.Weights{targets[0]: 100}
		setWeights(t, r, before)
		prompt(t, "SetWeights", func(ctx context.Context) error {
			return r.SetWeights(ctx, providers.Weights{targets[1]: 100})
		})
		prompt(t, "Weights", func(ctx context.Context) error {
			_, err := r.Weights(ctx)
			return err
		})
		expectWeights(t, r, before)
	})
	t.Run("Concurrent", func(t *testing.T) {
		r, targets := setup(t)
		cases := weightCases(targets)
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(cases))
		for _, w := range cases {
			wg.Go(func() {
				if err := r.SetWeights(context.Background(), w); err != nil {
					errs <- fmt.Errorf("SetWeights(%v): %w", w, err)
				}
			})
			wg.Go(func() {
				if got, err := r.Weights(context.Background()); err != nil {
					errs <- fmt.Errorf("Weights: %w", err)
				} else if err := got.Validate(); err != nil {
					errs <- fmt.Errorf("Weights returned invalid %v: %w", got, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		eventually(t, "weights settle on one that was set", func(ctx context.Context) (bool, string) {
			got, err := r.Weights(ctx)
			if err != nil {
				return false, err.Error()
			}
			for _, w := range cases {
				if got.Equal(w) {
					return true, ""
				}
			}
			return false, fmt.Sprintf("weights %v are none of %v", got, cases)
		})
	})
}

// weightCases returns valid weights over targets: all on the first, a
// split, 1 % steps, all on the last, an even split of every target.
func weightCases(targets []string) []providers.Weights {
	a, b, z := targets[0], targets[1], targets[len(targets)-1]
	even := providers.Weights{}
	for i, tg := range targets {
		even[tg] = 100 / len(targets)
		if i == 0 {
			even[tg] += 100 % len(targets)
		}
	}
	return []providers.Weights{
		{a: 100}, {a: 99, b: 1}, {a: 50, b: 50}, {a: 1, b: 99}, {z: 100}, even, {a: 100},
	}
}

func setWeights(t *testing.T, r providers.TrafficRouter, w providers.Weights) {
	t.Helper()
	if err := r.SetWeights(context.Background(), w); err != nil {
		t.Fatalf("SetWeights(%v): %v", w, err)
	}
	expectWeights(t, r, w)
}

func expectWeights(t *testing.T, r providers.TrafficRouter, w providers.Weights) {
	t.Helper()
	eventually(t, fmt.Sprintf("Weights reads back %v", w), func(ctx context.Context) (bool, string) {
		got, err := r.Weights(ctx)
		if err != nil {
			return false, err.Error()
		}
		return got.Equal(w), fmt.Sprintf("got %v", got)
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSwitcher checks the Switcher contract. newSwitcher returns a fresh
// switcher over targets (at least two, distinct). The suite checks that:
//   - Active names one of the targets;
//   - Switch to each target is followed by Active naming it (polled for at
//     most Settle), and back again;
//   - Switch to the active target succeeds and changes nothing, however
//     often it is repeated;
//   - Switch to an unknown or empty target is an error and changes
//     nothing;
//   - a call with a cancelled context returns an error promptly, and
//     Switch then changes nothing;
//   - concurrent Switch calls to one target all succeed.
func TestSwitcher(t *testing.T, newSwitcher func(t *testing.T) (providers.Switcher, []string)) {
	t.Helper()
	setup := func(t *testing.T) (providers.Switcher, []string) {
		t.Helper()
		s, targets := newSwitcher(t)
		if s == nil || len(targets) < 2 {
			t.Fatalf("harness: want a switcher and at least two targets, got %v, %q", s, targets)
		}
		return s, targets
	}
	t.Run("InitialActiveKnown", func(t *testing.T) {
		s, targets := setup(t)
		got, err := s.Active(context.Background())
		if err != nil {
			t.Fatalf("Active: %v", err)
		}
		if !contains(targets, got) {
			t.Errorf("Active = %q, not one of %q", got, targets)
		}
	})
	t.Run("SwitchAndBack", func(t *testing.T) {
		s, targets := setup(t)
		for _, tg := range append(append([]string(nil), targets[1:]...), targets[0], targets[1], targets[0]) {
			switchTo(t, s, tg)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		s, targets := setup(t)
		switchTo(t, s, targets[1])
		for i := range 3 {
			if err := s.Switch(context.Background(), targets[1]); err != nil {
				t.Fatalf("Switch(%q) to the active target (%d): %v", targets[1], i+1, err)
			}
		}
		expectActive(t, s, targets[1])
	})
	t.Run("UnknownRejected", func(t *testing.T) {
		s, targets := setup(t)
		switchTo(t, s, targets[0])
		for _, tg := range []string{Unknown, ""} {
			if err := s.Switch(context.Background(), tg); err == nil {
				t.Errorf("Switch(%q): got nil error, want one", tg)
			}
			expectActive(t, s, targets[0])
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		s, targets := setup(t)
		switchTo(t, s, targets[0])
		prompt(t, "Switch", func(ctx context.Context) error { return s.Switch(ctx, targets[1]) })
		prompt(t, "Active", func(ctx context.Context) error {
			_, err := s.Active(ctx)
			return err
		})
		expectActive(t, s, targets[0])
	})
	t.Run("Concurrent", func(t *testing.T) {
		s, targets := setup(t)
		switchTo(t, s, targets[0])
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				if err := s.Switch(context.Background(), targets[1]); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent Switch(%q): %v", targets[1], err)
		}
		expectActive(t, s, targets[1])
	})
}

func switchTo(t *testing.T, s providers.Switcher, target string) {
	t.Helper()
	if err := s.Switch(context.Background(), target); err != nil {
		t.Fatalf("Switch(%q): %v", target, err)
	}
	expectActive(t, s, target)
}

func expectActive(t *testing.T, s providers.Switcher, target string) {
	t.Helper()
	eventually(t, fmt.Sprintf("Active reads back %q", target), func(ctx context.Context) (bool, string) {
		got, err := s.Active(ctx)
		if err != nil {
			return false, err.Error()
		}
		return got == target, fmt.Sprintf("got %q", got)
	})
}

// TestFleet checks the Fleet contract. newFleet returns a fresh fleet whose
// members become healthy well within Settle. The suite checks that:
//   - Capacity is consistent: counts ≥ 0 and Healthy ≤ Running;
//   - after SetDesired(n), Capacity reaches Desired = Running = Healthy = n
//     within Settle, scaling up, down and to zero;
//   - SetDesired with the current count succeeds and changes nothing;
//   - a negative count is rejected with an error and changes nothing;
//   - a call with a cancelled context returns an error promptly, and
//     SetDesired then changes nothing.
func TestFleet(t *testing.T, newFleet func(t *testing.T) providers.Fleet) {
	t.Helper()
	setup := func(t *testing.T) providers.Fleet {
		t.Helper()
		f := newFleet(t)
		if f == nil {
			t.Fatal("harness: nil fleet")
		}
		return f
	}
	t.Run("CapacityConsistent", func(t *testing.T) {
		f := setup(t)
		c, err := f.Capacity(context.Background())
		if err != nil {
			t.Fatalf("Capacity: %v", err)
		}
		if c.Desired < 0 || c.Running < 0 || c.Healthy < 0 || c.Healthy > c.Running {
			t.Errorf("Capacity = %+v: want counts ≥ 0 and Healthy ≤ Running", c)
		}
	})
	t.Run("ScaleUpDownZero", func(t *testing.T) {
		f := setup(t)
		for _, n := range []int{3, 5, 1, 0, 2} {
			scaleTo(t, f, n)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		f := setup(t)
		scaleTo(t, f, 2)
		for i := range 2 {
			if err := f.SetDesired(context.Background(), 2); err != nil {
				t.Fatalf("SetDesired(2) again (%d): %v", i+1, err)
			}
		}
		expectCapacity(t, f, 2)
	})
	t.Run("NegativeRejected", func(t *testing.T) {
		f := setup(t)
		scaleTo(t, f, 2)
		if err := f.SetDesired(context.Background(), -1); err == nil {
			t.Error("SetDesired(-1): got nil error, want one")
		}
		expectCapacity(t, f, 2)
	})
	t.Run("CancelledContext", func(t *testing.T) {
		f := setup(t)
		scaleTo(t, f, 1)
		prompt(t, "SetDesired", func(ctx context.Context) error { return f.SetDesired(ctx, 4) })
		prompt(t, "Capacity", func(ctx context.Context) error {
			_, err := f.Capacity(ctx)
			return err
		})
		expectCapacity(t, f, 1)
	})
}

func scaleTo(t *testing.T, f providers.Fleet, n int) {
	t.Helper()
	if err := f.SetDesired(context.Background(), n); err != nil {
		t.Fatalf("SetDesired(%d): %v", n, err)
	}
	expectCapacity(t, f, n)
}

// expectCapacity waits until Desired, Running and Healthy are all n.
func expectCapacity(t *testing.T, f providers.Fleet, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("capacity reaches %d", n), func(ctx context.Context) (bool, string) {
		c, err := f.Capacity(ctx)
		if err != nil {
			return false, err.Error()
		}
		if c.Healthy > c.Running {
			t.Errorf("Capacity = %+v: Healthy > Running", c)
		}
		want := providers.Capacity{Desired: n, Running: n, Healthy: n}
		return c == want, fmt.Sprintf("got %+v, want %+v", c, want)
	})
}
