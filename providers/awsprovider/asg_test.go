package awsprovider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/providertest"
)

func newASG(t *testing.T, f *awstest.AutoScaling, h awstest.Endpoint, opts awsprovider.ASGOptions) *awsprovider.ASGFleet {
	t.Helper()
	fl, err := awsprovider.NewASGFleet(f.Client(h), awstest.BlueASG, opts)
	if err != nil {
		t.Fatalf("NewASGFleet: %v", err)
	}
	return fl
}

func TestASGFleetConformance(t *testing.T) {
	providertest.TestFleet(t, func(t *testing.T) providers.Fleet {
		f := awstest.NewAutoScaling()
		f.Step, f.HookPolls = 3, 1
		return newASG(t, f, awstest.Serve(t, f), awsprovider.ASGOptions{SuspendAtZero: []string{"Launch", "ScheduledActions"}})
	})
}

// TestASGFleetBounds: the bounds follow the desired capacity out of them
// and come back when it returns within them.
func TestASGFleetBounds(t *testing.T) {
	f := awstest.NewAutoScaling()
	fl := newASG(t, f, awstest.Serve(t, f), awsprovider.ASGOptions{})
	ctx := context.Background()
	type bounds struct{ Min, Max, Desired int }
	for _, step := range []struct {
		n    int
		want bounds
	}{
		{8, bounds{2, 8, 8}}, // above max: max raised
		{4, bounds{2, 6, 4}}, // back within: restored
		{0, bounds{0, 6, 0}}, // below min: min lowered
		{1, bounds{1, 6, 1}},
		{4, bounds{2, 6, 4}},
	} {
		if err := fl.SetDesired(ctx, step.n); err != nil {
			t.Fatalf("SetDesired(%d): %v", step.n, err)
		}
		g := f.Group(awstest.BlueASG)
		if diff := cmp.Diff(step.want, bounds{g.MinSize, g.MaxSize, g.DesiredCapacity}); diff != "" {
			t.Errorf("after SetDesired(%d) (-want +got):\n%s", step.n, diff)
		}
	}
}

func TestASGFleetCapacity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*awstest.Group)
		elb   bool
		want  providers.Capacity
	}{
		{"Steady", func(*awstest.Group) {}, false, providers.Capacity{Desired: 4, Running: 4, Healthy: 4}},
		{"LifecycleHookAndUnhealthy", func(g *awstest.Group) {
			g.Instances[0].LifecycleState = "Pending:Wait"
			g.Instances[1].LifecycleState = "Terminating:Wait"
			g.Instances[2].HealthStatus = "Unhealthy"
			g.Launch("Standby")
		}, false, providers.Capacity{Desired: 4, Running: 4, Healthy: 1}},
		{"TargetGroup", func(g *awstest.Group) { g.TargetGroupARNs = []string{awstest.BlueTG} }, true, providers.Capacity{Desired: 4, Running: 4, Healthy: 2}},
		{"TargetGroupNotAsked", func(g *awstest.Group) { g.TargetGroupARNs = []string{awstest.BlueTG} }, false, providers.Capacity{Desired: 4, Running: 4, Healthy: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := awstest.NewAutoScaling()
			f.Set(awstest.BlueASG, tc.setup)
			var opts awsprovider.ASGOptions
			if tc.elb {
				e := awstest.NewELB()
				f.Set(awstest.BlueASG, func(g *awstest.Group) {
					var ms []awstest.Member
					for i, in := range g.Instances {
						var m awstest.Member
						m.Target.Id, m.TargetHealth.State = in.InstanceId, "healthy"
						if i%2 == 1 {
							m.TargetHealth.State = "unhealthy"
						}
						ms = append(ms, m)
					}
					e.SetMembers(awstest.BlueTG, ms)
				})
				opts.TargetHealth = e.Client(awstest.Serve(t, e))
			}
			c, err := newASG(t, f, awstest.Serve(t, f), opts).Capacity(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c); diff != "" {
				t.Errorf("Capacity (-want +got):\n%s", diff)
			}
		})
	}
}

func TestASGFleetErrors(t *testing.T) {
	t.Run("ScaleInProtection", func(t *testing.T) {
		f := awstest.NewAutoScaling()
		f.Set(awstest.BlueASG, func(g *awstest.Group) {
			g.Instances[0].ProtectedFromScaleIn, g.Instances[3].ProtectedFromScaleIn = true, true
		})
		fl := newASG(t, f, awstest.Serve(t, f), awsprovider.ASGOptions{})
		err := fl.SetDesired(context.Background(), 1)
		if err == nil || !strings.Contains(err.Error(), "2 instances are protected from scale-in") || !strings.Contains(err.Error(), "i-00000000000000001") {
			t.Errorf("SetDesired(1) with 2 protected: %v", err)
		}
		if n := f.Calls("UpdateAutoScalingGroup"); n != 0 || f.Group(awstest.BlueASG).DesiredCapacity != 4 {
			t.Errorf("refused, yet %d updates and desired %d", n, f.Group(awstest.BlueASG).DesiredCapacity)
		}
		if err := fl.SetDesired(context.Background(), 2); err != nil {
			t.Errorf("SetDesired(2) with 2 protected: %v", err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		f := awstest.NewAutoScaling()
		fl, err := awsprovider.NewASGFleet(f.Client(awstest.Serve(t, f)), "nope", awsprovider.ASGOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fl.Capacity(context.Background()); err == nil || !strings.Contains(err.Error(), "auto scaling group nope") || !strings.Contains(err.Error(), "not found") {
			t.Errorf("Capacity of a missing group: %v", err)
		}
	})
	t.Run("Deleting", func(t *testing.T) {
		f := awstest.NewAutoScaling()
		f.Set(awstest.BlueASG, func(g *awstest.Group) { g.Status = "Delete in progress" })
		if _, err := newASG(t, f, awstest.Serve(t, f), awsprovider.ASGOptions{}).Capacity(context.Background()); err == nil || !strings.Contains(err.Error(), "Delete in progress") {
			t.Errorf("Capacity of a group being deleted: %v", err)
		}
	})
	t.Run("Throttled", func(t *testing.T) {
		f := awstest.NewAutoScaling()
		f.FailNext("DescribeAutoScalingGroups", 2, awstest.Throttling)
		f.FailNext("UpdateAutoScalingGroup", 3, awstest.Throttling)
		if err := newASG(t, f, awstest.Serve(t, f), awsprovider.ASGOptions{}).SetDesired(context.Background(), 5); err != nil {
			t.Fatal(err)
		}
		if n, d := f.Calls("UpdateAutoScalingGroup"), f.Group(awstest.BlueASG).DesiredCapacity; n != 4 || d != 5 {
			t.Errorf("after 3 throttles: %d calls, desired %d; want 4 calls, 5", n, d)
		}
	})
	t.Run("ThrottledPastRetries", func(t *testing.T) {
		f := awstest.NewAutoScaling()
		f.FailNext("UpdateAutoScalingGroup", awstest.MaxAttempts, awstest.Throttling)
		err := newASG(t, f, awstest.Serve(t, f), awsprovider.ASGOptions{}).SetDesired(context.Background(), 5)
		if err == nil || !strings.Contains(err.Error(), "Throttling") || f.Group(awstest.BlueASG).DesiredCapacity != 4 {
			t.Errorf("SetDesired throttled %d times: %v", awstest.MaxAttempts, err)
		}
	})
	t.Run("SuspendAtZero", func(t *testing.T) {
		f := awstest.NewAutoScaling()
		fl := newASG(t, f, awstest.Serve(t, f), awsprovider.ASGOptions{SuspendAtZero: []string{"Launch", "AZRebalance"}})
		ctx := context.Background()
		if err := fl.SetDesired(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if got := f.Group(awstest.BlueASG).SuspendedProcesses; !cmp.Equal(got, []string{"Launch", "AZRebalance"}) {
			t.Errorf("suspended at 0: %v", got)
		}
		if err := fl.SetDesired(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if got := f.Group(awstest.BlueASG).SuspendedProcesses; len(got) != 0 {
			t.Errorf("suspended after scaling up again: %v", got)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		f := awstest.NewAutoScaling()
		c := f.Client(awstest.Serve(t, f))
		for name, fn := range map[string]func() error{
			"nil client": func() error {
				_, err := awsprovider.NewASGFleet(nil, awstest.BlueASG, awsprovider.ASGOptions{})
				return err
			},
			"empty name": func() error { _, err := awsprovider.NewASGFleet(c, "", awsprovider.ASGOptions{}); return err },
			"Terminate": func() error {
				_, err := awsprovider.NewASGFleet(c, awstest.BlueASG, awsprovider.ASGOptions{SuspendAtZero: []string{"Terminate"}})
				return err
			},
			"negative": func() error {
				return newASG(t, f, awstest.Serve(t, f), awsprovider.ASGOptions{}).SetDesired(context.Background(), -1)
			},
		} {
			if err := fn(); err == nil {
				t.Errorf("%s: nil error", name)
			}
		}
		if n := f.Calls("UpdateAutoScalingGroup"); n != 0 {
			t.Errorf("bad input made %d updates", n)
		}
	})
}
