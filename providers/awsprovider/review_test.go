package awsprovider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/safecutover/safecutover/providers/awsprovider"
)

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

// TestReviewECSSetDesiredRange: a desired count out of range is refused
// with an error that gives the allowed range, on both sides.
func TestReviewECSSetDesiredRange(t *testing.T) {
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
