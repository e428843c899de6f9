package awsprovider_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/providertest"
)

func newECS(t *testing.T, f *awstest.ECS, h awstest.Endpoint, service string, opts awsprovider.ECSOptions) *awsprovider.ECSFleet {
	t.Helper()
	fl, err := awsprovider.NewECSFleet(f.Client(h), "prod", service, opts)
	if err != nil {
		t.Fatalf("NewECSFleet: %v", err)
	}
	return fl
}

func TestECSFleetConformance(t *testing.T) {
	providertest.TestFleet(t, func(t *testing.T) providers.Fleet {
		f := awstest.NewECS()
		f.SetStep(3)
		return newECS(t, f, awstest.Serve(t, f), "web", awsprovider.ECSOptions{})
	})
}

func TestECSFleetCapacity(t *testing.T) {
	for _, tc := range []struct {
		name string
		svc  awstest.Service
		want providers.Capacity
	}{
		{"Steady", awstest.Service{Desired: 4, Running: 4, Rollout: "COMPLETED"}, providers.Capacity{Desired: 4, Running: 4, Healthy: 4}},
		{"ScalingUp", awstest.Service{Desired: 6, Running: 4, Rollout: "COMPLETED"}, providers.Capacity{Desired: 6, Running: 4, Healthy: 4}},
		{"RollingOut", awstest.Service{Desired: 4, Running: 5, Rollout: "IN_PROGRESS"}, providers.Capacity{Desired: 4, Running: 5}},
		{"Failed", awstest.Service{Desired: 4, Running: 1, Rollout: "FAILED"}, providers.Capacity{Desired: 4, Running: 1}},
		{"NoRolloutStateSteady", awstest.Service{Desired: 3, Running: 3}, providers.Capacity{Desired: 3, Running: 3, Healthy: 3}},
		{"NoRolloutStateScaling", awstest.Service{Desired: 3, Running: 2}, providers.Capacity{Desired: 3, Running: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := awstest.NewECS()
			tc.svc.Status = "ACTIVE"
			f.Set("web", func(s *awstest.Service) { *s = tc.svc })
			c, err := newECS(t, f, awstest.Serve(t, f), "web", awsprovider.ECSOptions{}).Capacity(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c); diff != "" {
				t.Errorf("Capacity (-want +got):\n%s", diff)
			}
		})
	}
}

func TestECSFleetWaitSteady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := awstest.NewECS()
		fl := newECS(t, f, awstest.InProcess(f), "web", awsprovider.ECSOptions{})
		ctx := context.Background()
		if err := fl.SetDesired(ctx, 5); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		c, err := fl.WaitSteady(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(providers.Capacity{Desired: 5, Running: 5, Healthy: 5}, c); diff != "" {
			t.Errorf("capacity (-want +got):\n%s", diff)
		}
		// Running 2 → 3 → 4 → 5: the fourth describe sees 5, after three 15s polls.
		if el := time.Since(start); el != 45*time.Second {
			t.Errorf("WaitSteady took %s, want 45s", el)
		}
		if diff := cmp.Diff(map[string]int{"UpdateService": 1, "DescribeServices": 4}, f.Snapshot()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := awstest.NewECS()
			f.Set("web", func(s *awstest.Service) { s.Rollout = "IN_PROGRESS" })
			fl := newECS(t, f, awstest.InProcess(f), "web", awsprovider.ECSOptions{Timeout: time.Minute, PollInterval: 10 * time.Second})
			_, err := fl.WaitSteady(context.Background())
			if !errors.Is(err, awsprovider.ErrWaitTimeout) || !strings.Contains(err.Error(), "desired 2 running 2 healthy 0") {
				t.Errorf("WaitSteady on a rollout that never ends: %v, want ErrWaitTimeout with the counts", err)
			}
			if n := f.Calls("DescribeServices"); n != 7 {
				t.Errorf("DescribeServices calls = %d, want 7", n)
			}
		})
	})
	t.Run("Failed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := awstest.NewECS()
			f.Set("web", func(s *awstest.Service) { s.Rollout = "FAILED" })
			fl := newECS(t, f, awstest.InProcess(f), "web", awsprovider.ECSOptions{})
			_, err := fl.WaitSteady(context.Background())
			if err == nil || !strings.Contains(err.Error(), "circuit breaker") {
				t.Errorf("WaitSteady on a failed rollout: %v, want the rollout's reason", err)
			}
		})
	})
}

func TestECSFleetErrors(t *testing.T) {
	t.Run("MissingService", func(t *testing.T) {
		f := awstest.NewECS()
		fl := newECS(t, f, awstest.Serve(t, f), "api", awsprovider.ECSOptions{})
		if _, err := fl.Capacity(context.Background()); err == nil || !strings.Contains(err.Error(), "MISSING") || !strings.Contains(err.Error(), "ecs service api in cluster prod") {
			t.Errorf("Capacity of a missing service: %v", err)
		}
		err := fl.SetDesired(context.Background(), 3)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceNotFoundException" {
			t.Errorf("SetDesired of a missing service: %v, want ServiceNotFoundException", err)
		}
	})
	t.Run("Draining", func(t *testing.T) {
		f := awstest.NewECS()
		f.Set("web", func(s *awstest.Service) { s.Status = "DRAINING" })
		if _, err := newECS(t, f, awstest.Serve(t, f), "web", awsprovider.ECSOptions{}).Capacity(context.Background()); err == nil || !strings.Contains(err.Error(), "DRAINING") {
			t.Errorf("Capacity of a draining service: %v", err)
		}
	})
	t.Run("Throttled", func(t *testing.T) {
		f := awstest.NewECS()
		f.FailNext("UpdateService", 3, awstest.Throttling)
		if err := newECS(t, f, awstest.Serve(t, f), "web", awsprovider.ECSOptions{}).SetDesired(context.Background(), 7); err != nil {
			t.Fatal(err)
		}
		if n, d := f.Calls("UpdateService"), f.Service("web").Desired; n != 4 || d != 7 {
			t.Errorf("after 3 throttles: %d calls, desired %d; want 4 calls, 7", n, d)
		}
	})
	t.Run("Negative", func(t *testing.T) {
		f := awstest.NewECS()
		if err := newECS(t, f, awstest.Serve(t, f), "web", awsprovider.ECSOptions{}).SetDesired(context.Background(), -1); err == nil || f.Calls("UpdateService") != 0 {
			t.Errorf("SetDesired(-1): %v after %d calls", err, f.Calls("UpdateService"))
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		f := awstest.NewECS()
		c := f.Client(awstest.Serve(t, f))
		if _, err := awsprovider.NewECSFleet(c, "prod", "", awsprovider.ECSOptions{}); err == nil {
			t.Error("empty service: nil error")
		}
		if _, err := awsprovider.NewECSFleet(nil, "prod", "web", awsprovider.ECSOptions{}); err == nil {
			t.Error("nil client: nil error")
		}
		if _, err := awsprovider.NewECSFleet(c, "prod", "web", awsprovider.ECSOptions{PollInterval: -time.Second}); err == nil {
			t.Error("negative poll interval: nil error")
		}
	})
}

// noECS fails the test on any call: the inputs under test must be refused
// before the API is reached.
type noECS struct{ t *testing.T }

func (c noECS) UpdateService(context.Context, *ecs.UpdateServiceInput, ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	c.t.Error("UpdateService called")
	return nil, fmt.Errorf("unexpected call")
}

func (c noECS) DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	c.t.Error("DescribeServices called")
	return nil, fmt.Errorf("unexpected call")
}

// TestECSSetDesiredRange: a desired count out of range is refused
// with an error that gives the allowed range, on both sides.
func TestECSSetDesiredRange(t *testing.T) {
	fl, err := awsprovider.NewECSFleet(noECS{t}, "prod", "web", awsprovider.ECSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{-1, 1 << 31} {
		err := fl.SetDesired(t.Context(), n)
		if err == nil || !strings.Contains(err.Error(), "0–2147483647") {
			t.Errorf("SetDesired(%d) = %v, want an error giving the range 0–2147483647", n, err)
		}
	}
}
