package fake_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

func TestFaultNth(t *testing.T) {
	tests := []struct {
		name        string
		fault       fake.Fault
		wantApplied bool // does the failed SetWeights take effect?
	}{
		{"fails before effect", fake.Fault{Op: fake.OpSetWeights, Resource: "alb", Nth: 2, Err: fake.ErrThrottled}, false},
		{"lost response", fake.Fault{Op: fake.OpSetWeights, Nth: 2, Err: fake.ErrThrottled, AfterEffect: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.MustNew(fake.Options{})
			r := c.Router("alb", "blue", "green")
			other := c.Router("other", "blue", "green")
			if err := c.InjectFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			steps := []providers.Weights{{"blue": 90, "green": 10}, {"blue": 50, "green": 50}, {"green": 100}}
			var errs []error
			for _, w := range steps {
				errs = append(errs, r.SetWeights(ctx, w))
				if i := len(errs); i == 2 {
					want := steps[0]
					if tc.wantApplied {
						want = steps[1]
					}
					if got := r.Current(); !got.Equal(want) {
						t.Errorf("after the failed call: weights %v, want %v", got, want)
					}
				}
			}
			if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], fake.ErrThrottled) {
				t.Errorf("errors = %v, want only the 2nd to be ErrThrottled", errs)
			}
			var fe *fake.Error
			if !errors.As(errs[1], &fe) || fe.Op != fake.OpSetWeights || fe.Resource != "alb" {
				t.Errorf("error %v: want a *fake.Error for SetWeights alb", errs[1])
			}
			if err := other.SetWeights(ctx, providers.Weights{"green": 100}); err != nil {
				t.Errorf("a later call on another router failed: %v", err)
			}
			if got := c.FaultHits(); got != 1 {
				t.Errorf("FaultHits = %d, want 1", got)
			}
		})
	}
}

// failures returns the indices of the calls that failed among n Weights
// calls with a share fault.
func failures(t *testing.T, seed int64, share float64, limit, n int) []int {
	t.Helper()
	c := fake.MustNew(fake.Options{Seed: seed})
	r := c.Router("alb", "blue", "green")
	if err := c.InjectFault(fake.Fault{Op: fake.OpWeights, Share: share, Limit: limit, Err: fake.ErrServer}); err != nil {
		t.Fatal(err)
	}
	var out []int
	for i := range n {
		if _, err := r.Weights(context.Background()); err != nil {
			if !errors.Is(err, fake.ErrServer) {
				t.Fatalf("call %d: error %v, want ErrServer", i, err)
			}
			out = append(out, i)
		}
	}
	if got := c.ErrorCount(fake.OpWeights); got != len(out) {
		t.Errorf("ErrorCount = %d, want %d", got, len(out))
	}
	return out
}

func TestFaultShare(t *testing.T) {
	a, b := failures(t, 5, 0.3, 0, 2000), failures(t, 5, 0.3, 0, 2000)
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("same seed, different failures:\n%s", d)
	}
	if len(a) < 520 || len(a) > 680 { // 600 ± 5σ (σ ≈ 20.5)
		t.Errorf("%d of 2000 calls failed at share 0.3, want about 600", len(a))
	}
	if c := failures(t, 6, 0.3, 0, 2000); slices.Equal(a, c) {
		t.Error("seeds 5 and 6 failed the same calls")
	}
	if got := failures(t, 5, 0.3, 10, 2000); len(got) != 10 || !slices.Equal(got, a[:10]) {
		t.Errorf("with Limit 10: failures %v, want the first 10 of %v", got, a[:10])
	}
	if got := failures(t, 5, 1, 0, 50); len(got) != 50 {
		t.Errorf("share 1: %d of 50 failed", len(got))
	}
}

func TestFaultEveryCallUntilCleared(t *testing.T) {
	c := fake.MustNew(fake.Options{})
	s := c.Switcher("cname", "blue", "green")
	if err := c.InjectFault(fake.Fault{Op: fake.OpSwitch, Err: fake.ErrServer}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Switch(context.Background(), "green"); !errors.Is(err, fake.ErrServer) {
			t.Fatalf("Switch error = %v, want ErrServer", err)
		}
	}
	if s.Current() != "blue" {
		t.Errorf("active = %q after failed switches, want blue", s.Current())
	}
	c.ClearFaults()
	if err := s.Switch(context.Background(), "green"); err != nil {
		t.Fatal(err)
	}
}

func TestFaultDelayHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{})
		f := c.Fleet("green", 1)
		if err := c.InjectFault(fake.Fault{Op: fake.OpCapacity, Delay: 5 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := c.InjectFault(fake.Fault{Op: fake.OpSetDesired, Delay: 30 * time.Second, Err: fake.ErrTimeout}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := f.Capacity(t.Context()); err != nil {
			t.Errorf("slow Capacity: %v", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("slow Capacity took %s, want 5s", d)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start = time.Now()
		err := f.SetDesired(ctx, 3)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SetDesired with a 1s deadline: error %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("SetDesired returned after %s, want 1s", d)
		}
		start = time.Now()
		if err := f.SetDesired(t.Context(), 3); !errors.Is(err, fake.ErrTimeout) {
			t.Errorf("SetDesired error = %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("timed-out SetDesired took %s, want 30s", d)
		}
		if got := f.Current().Desired; got != 1 {
			t.Errorf("desired = %d after timeouts, want 1", got)
		}
	})
}

func TestCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{MaxCalls: 3})
		r := c.Router("alb", "blue", "green")
		ctx := t.Context()
		_ = r.SetWeights(ctx, providers.Weights{"blue": 90, "green": 10})
		_, _ = r.Weights(ctx)
		_ = r.SetWeights(ctx, providers.Weights{"blue": 90, "green": 20})
		time.Sleep(time.Second)
		_, _ = c.Metric(ctx, providers.MetricQuery{Target: "green", Metric: providers.MetricErrors, Start: time.Now().Add(-time.Minute), End: time.Now()})
		var got []string
		for _, call := range c.Calls() {
			got = append(got, call.String())
		}
		want := []string{
			"Weights alb",
			`SetWeights alb blue=90 green=20: fake SetWeights alb: invalid argument: weights: sum is 110, want 100 (blue=90 green=20)`,
			"Metric green errors [1999-12-31T23:59:01Z, 2000-01-01T00:00:01Z)",
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Calls (-want +got):\n%s", d)
		}
		for op, n := range map[string]int{fake.OpSetWeights: 2, fake.OpWeights: 1, fake.OpMetric: 1, "": 4} {
			if got := c.CallCount(op); got != n {
				t.Errorf("CallCount(%q) = %d, want %d", op, got, n)
			}
		}
		if got := c.ErrorCount(""); got != 1 {
			t.Errorf("ErrorCount = %d, want 1", got)
		}
		c.ResetCalls()
		if got := len(c.Calls()) + c.CallCount(""); got != 0 {
			t.Errorf("after ResetCalls: %d records and counts", got)
		}
	})
}
