package managed_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
)

// FuzzNewECS checks that any spec either is refused with an error naming
// an ECSSpec field, or yields a valid plan whose traffic steps rise to 100%.
func FuzzNewECS(f *testing.F) {
	f.Add("CANARY", 10.0, 25.0, int64(0), int64(time.Hour), int64(10*time.Minute), int64(0))
	f.Add("LINEAR", 0.0, 3.3, int64(time.Minute), int64(30*time.Minute), int64(0), int64(time.Hour))
	f.Add("BLUE_GREEN", 0.0, 0.0, int64(0), int64(6*time.Minute), int64(time.Minute), int64(0))
	sim, err := awstest.NewManaged(awstest.ManagedOptions{})
	if err != nil {
		f.Fatal(err)
	}
	if err := sim.AddService(awstest.ManagedService{Cluster: "prod", Name: "web"}); err != nil {
		f.Fatal(err)
	}
	client := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: aws.AnonymousCredentials{}, HTTPClient: awstest.InProcessClient(sim)})
	f.Fuzz(func(t *testing.T, strategy string, canary, step float64, stepBake, bakeTime, bake, hookTimeout int64) {
		e, err := newECS(context.Background(), client, managed.ECSSpec{
			Cluster: "prod", Service: "web", TaskDefinition: "web:2",
			Strategy: ecstypes.DeploymentStrategy(strategy), CanaryPercent: canary, StepPercent: step,
			StepWait: time.Duration(stepBake), Window: time.Duration(bakeTime), Bake: time.Duration(bake),
			HookTimeout: time.Duration(hookTimeout),
		}, managed.Options{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ecs: ECSSpec.") {
				t.Fatalf("error %q does not name an ECSSpec field", err)
			}
			return
		}
		plan, err := cutover.Sequence("fuzz", e)
		if err != nil {
			t.Fatalf("accepted spec yields an invalid plan: %v", err)
		}
		steps := e.Steps()
		for i := 1; i < len(steps); i++ {
			if steps[i] <= steps[i-1] {
				t.Fatalf("steps %v do not rise", steps)
			}
		}
		if len(steps) == 0 || steps[len(steps)-1] != 100 || len(plan.Stages) != len(steps)+1 {
			t.Fatalf("steps %v, %d stages", steps, len(plan.Stages))
		}
	})
}

// FuzzTraffic checks custom CodeDeploy traffic shifts: refused with an
// error naming the field, or accepted with the shift time they imply.
func FuzzTraffic(f *testing.F) {
	f.Add(true, 10, int64(time.Minute))
	f.Add(false, 99, int64(2880*time.Minute))
	f.Add(true, 0, int64(90*time.Second))
	sim, err := awstest.NewManaged(awstest.ManagedOptions{})
	if err != nil {
		f.Fatal(err)
	}
	if err := sim.AddDeploymentGroup(awstest.ManagedGroup{Application: "shop", Name: "shop-prod"}); err != nil {
		f.Fatal(err)
	}
	client := codedeploy.New(codedeploy.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: aws.AnonymousCredentials{}, HTTPClient: awstest.InProcessClient(sim)})
	f.Fuzz(func(t *testing.T, linear bool, percent int, interval int64) {
		tr := managed.Traffic{Linear: linear, Percent: percent, Interval: time.Duration(interval)}
		spec := shopSpec()
		spec.DeploymentConfig, spec.Traffic = "Fuzz.Config", &tr
		c, err := newCodeDeploy(context.Background(), client, spec, managed.Options{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "codedeploy: CodeDeploySpec.Traffic.") {
				t.Fatalf("error %q does not name a Traffic field", err)
			}
			return
		}
		want := tr.Interval
		if linear {
			want = time.Duration((100+percent-1)/percent-1) * tr.Interval
		}
		if got := c.ShiftDuration(); got != want {
			t.Fatalf("ShiftDuration %s, want %s", got, want)
		}
	})
}
