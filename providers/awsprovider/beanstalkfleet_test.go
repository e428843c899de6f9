package awsprovider_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/providertest"
)

func newEBFleet(t *testing.T, f *awstest.Beanstalk, h awstest.Endpoint, opts awsprovider.BeanstalkFleetOptions) *awsprovider.BeanstalkFleet {
	t.Helper()
	fl, err := awsprovider.NewBeanstalkFleet(f.Client(h), awstest.BlueEnv, opts)
	if err != nil {
		t.Fatalf("NewBeanstalkFleet: %v", err)
	}
	return fl
}

func TestBeanstalkFleetConformance(t *testing.T) {
	providertest.TestFleet(t, func(t *testing.T) providers.Fleet {
		f := awstest.NewBeanstalk()
		f.UpdatingPolls, f.InstanceStep = 1, 3
		return newEBFleet(t, f, awstest.Serve(t, f), awsprovider.BeanstalkFleetOptions{PollInterval: time.Millisecond, Timeout: 5 * time.Second})
	})
}

// TestBeanstalkFleetRevert: pinned at 0 and back to its first capacity,
// the environment may scale up to its first maximum again.
func TestBeanstalkFleetRevert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := awstest.NewBeanstalk()
		fl := newEBFleet(t, f, awstest.InProcess(f), awsprovider.BeanstalkFleetOptions{})
		ctx := context.Background()
		c, err := fl.Capacity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(providers.Capacity{Desired: 4, Running: 4, Healthy: 4}, c); diff != "" {
			t.Errorf("Capacity between bounds 2–6 (-want +got):\n%s", diff)
		}
		type bounds struct{ Min, Max int }
		for _, step := range []struct {
			n    int
			want bounds
		}{{0, bounds{0, 0}}, {3, bounds{3, 3}}, {4, bounds{4, 6}}} {
			if err := fl.SetDesired(ctx, step.n); err != nil {
				t.Fatalf("SetDesired(%d): %v", step.n, err)
			}
			e := f.Environment(awstest.BlueEnv)
			if diff := cmp.Diff(step.want, bounds{e.MinSize, e.MaxSize}); diff != "" {
				t.Errorf("after SetDesired(%d) (-want +got):\n%s", step.n, diff)
			}
			// Updating for two 15s polls, then the instances follow.
			got, err := fl.WaitReady(ctx)
			if err != nil {
				t.Fatalf("WaitReady after SetDesired(%d): %v", step.n, err)
			}
			if want := (providers.Capacity{Desired: step.n, Running: step.n, Healthy: step.n}); got != want {
				t.Errorf("after SetDesired(%d): %+v, want %+v", step.n, got, want)
			}
		}
		before := f.Snapshot()
		if err := fl.SetDesired(ctx, 4); err != nil {
			t.Fatal(err)
		}
		if n := f.Since(before)["UpdateEnvironment"]; n != 0 {
			t.Errorf("SetDesired to the capacity in force: %d updates, want 0", n)
		}
	})
}

// TestBeanstalkFleetWaitsForReady: an environment still updating (a
// deployment) is waited for, not refused, and is not healthy meanwhile.
func TestBeanstalkFleetWaitsForReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := awstest.NewBeanstalk()
		f.Set(awstest.BlueEnv, func(e *awstest.Environment) { e.Updating = 3 })
		fl := newEBFleet(t, f, awstest.InProcess(f), awsprovider.BeanstalkFleetOptions{})
		ctx := context.Background()
		if c, err := fl.Capacity(ctx); err != nil || c.Healthy != 0 {
			t.Errorf("Capacity while Updating = %+v, %v; want Healthy 0", c, err)
		}
		start := time.Now()
		if err := fl.SetDesired(ctx, 5); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el != 30*time.Second {
			t.Errorf("SetDesired waited %s, want 30s (two more Updating describes, 15s apart)", el)
		}
		if e := f.Environment(awstest.BlueEnv); e.MinSize != 5 || e.MaxSize != 5 {
			t.Errorf("bounds %d–%d, want 5–5", e.MinSize, e.MaxSize)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := awstest.NewBeanstalk()
			f.Set(awstest.BlueEnv, func(e *awstest.Environment) { e.Updating = 1000 })
			fl := newEBFleet(t, f, awstest.InProcess(f), awsprovider.BeanstalkFleetOptions{Timeout: time.Minute})
			err := fl.SetDesired(context.Background(), 5)
			if !errors.Is(err, awsprovider.ErrWaitTimeout) || !strings.Contains(err.Error(), "Updating") {
				t.Errorf("SetDesired on an environment that stays Updating: %v", err)
			}
			if n := f.Calls("UpdateEnvironment"); n != 0 {
				t.Errorf("%d updates, want 0", n)
			}
		})
	})
}

func TestBeanstalkFleetErrors(t *testing.T) {
	t.Run("Throttled", func(t *testing.T) {
		f := awstest.NewBeanstalk()
		f.FailNext("DescribeConfigurationSettings", 2, awstest.Throttling)
		f.FailNext("UpdateEnvironment", 3, awstest.Throttling)
		if err := newEBFleet(t, f, awstest.Serve(t, f), awsprovider.BeanstalkFleetOptions{}).SetDesired(context.Background(), 3); err != nil {
			t.Fatal(err)
		}
		if n, e := f.Calls("UpdateEnvironment"), f.Environment(awstest.BlueEnv); n != 4 || e.MinSize != 3 {
			t.Errorf("after 3 throttles: %d calls, MinSize %d; want 4 calls, 3", n, e.MinSize)
		}
	})
	t.Run("ThrottledPastRetries", func(t *testing.T) {
		f := awstest.NewBeanstalk()
		f.FailNext("DescribeEnvironmentResources", awstest.MaxAttempts, awstest.Throttling)
		if _, err := newEBFleet(t, f, awstest.Serve(t, f), awsprovider.BeanstalkFleetOptions{}).Capacity(context.Background()); err == nil || !strings.Contains(err.Error(), "Throttling") {
			t.Errorf("Capacity throttled %d times: %v", awstest.MaxAttempts, err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		f := awstest.NewBeanstalk()
		fl, err := awsprovider.NewBeanstalkFleet(f.Client(awstest.Serve(t, f)), "shop-gone", awsprovider.BeanstalkFleetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fl.Capacity(context.Background()); err == nil || !strings.Contains(err.Error(), "beanstalk environment shop-gone") || !strings.Contains(err.Error(), "not found") {
			t.Errorf("Capacity of a missing environment: %v", err)
		}
	})
	t.Run("Terminated", func(t *testing.T) {
		f := awstest.NewBeanstalk()
		f.Set(awstest.BlueEnv, func(e *awstest.Environment) { e.Status = "Terminated" })
		if _, err := newEBFleet(t, f, awstest.Serve(t, f), awsprovider.BeanstalkFleetOptions{}).Capacity(context.Background()); err == nil || !strings.Contains(err.Error(), "Terminated") {
			t.Errorf("Capacity of a terminated environment: %v", err)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		f := awstest.NewBeanstalk()
		c := f.Client(awstest.Serve(t, f))
		for name, fn := range map[string]func() error{
			"nil client": func() error {
				_, err := awsprovider.NewBeanstalkFleet(nil, awstest.BlueEnv, awsprovider.BeanstalkFleetOptions{})
				return err
			},
			"short name": func() error {
				_, err := awsprovider.NewBeanstalkFleet(c, "abc", awsprovider.BeanstalkFleetOptions{})
				return err
			},
			"negative poll": func() error {
				_, err := awsprovider.NewBeanstalkFleet(c, awstest.BlueEnv, awsprovider.BeanstalkFleetOptions{PollInterval: -1})
				return err
			},
			"negative n": func() error {
				return newEBFleet(t, f, awstest.Serve(t, f), awsprovider.BeanstalkFleetOptions{}).SetDesired(context.Background(), -1)
			},
		} {
			if err := fn(); err == nil {
				t.Errorf("%s: nil error", name)
			}
		}
		if n := f.Calls("UpdateEnvironment"); n != 0 {
			t.Errorf("bad input made %d updates", n)
		}
	})
}

func TestTerminateEnvironmentStage(t *testing.T) {
	f := awstest.NewBeanstalk()
	st, err := awsprovider.TerminateEnvironmentStage(f.Client(awstest.Serve(t, f)), awstest.BlueEnv, awsprovider.BeanstalkFleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Reversibility != cutover.Irreversible() || !st.Approval || st.Revert != nil {
		t.Errorf("stage %q: %s, approval %v, revert set %v; want irreversible with an approval and no revert", st.Name, st.Reversibility, st.Approval, st.Revert != nil)
	}
	ctx := context.Background()
	for i := range 2 { // a resumed runner applies again
		if err := st.Apply(ctx); err != nil {
			t.Fatalf("Apply %d: %v", i+1, err)
		}
	}
	if n, s := f.Calls("TerminateEnvironment"), f.Environment(awstest.BlueEnv).Status; n != 1 || s != "Terminating" {
		t.Errorf("after two applies: %d TerminateEnvironment calls, status %s; want 1, Terminating", n, s)
	}
	if _, err := awsprovider.TerminateEnvironmentStage(nil, awstest.BlueEnv, awsprovider.BeanstalkFleetOptions{}); err == nil {
		t.Error("nil client: nil error")
	}
}
