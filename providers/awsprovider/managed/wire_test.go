package managed_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
)

// TestECSDeploymentConfigurationOnTheWire reads back, through the SDK, the
// deployment configuration the service was updated with: the strategy and
// its settings, the alarms, this package's PAUSE hooks (rolling back on
// timeout), and the service's own settings kept.
func TestECSDeploymentConfigurationOnTheWire(t *testing.T) {
	e := webEnv(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		_, ec := e.clients()
		spec := webSpec(managed.Canary, weightGate{r: e.router})
		spec.Alarms, spec.AlarmRollback = []string{"web-5xx"}, true
		plan := ecsPlan(t, ec, spec)
		if _, err := cutover.MustNewRunner(cutover.NewMemJournal(), runnerOpts()).Run(ctx, "web-2", plan); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("run: %v, want ErrPNRNotApproved", err)
		}
		out, err := ec.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
		must(t, err)
		want := &ecstypes.DeploymentConfiguration{
			Strategy:              ecstypes.DeploymentStrategyCanary,
			BakeTimeInMinutes:     aws.Int32(60),
			CanaryConfiguration:   &ecstypes.CanaryConfiguration{CanaryPercent: aws.Float64(10), CanaryBakeTimeInMinutes: aws.Int32(0)},
			Alarms:                &ecstypes.DeploymentAlarms{AlarmNames: []string{"web-5xx"}, Enable: true, Rollback: true},
			MaximumPercent:        aws.Int32(200),
			MinimumHealthyPercent: aws.Int32(100),
			LifecycleHooks: []ecstypes.DeploymentLifecycleHook{{
				TargetType: ecstypes.DeploymentLifecycleHookTargetTypePause,
				LifecycleStages: []ecstypes.DeploymentLifecycleHookStage{
					ecstypes.DeploymentLifecycleHookStagePreProductionTrafficShift,
					ecstypes.DeploymentLifecycleHookStagePostProductionTrafficShift,
				},
				TimeoutConfiguration: &ecstypes.DeploymentLifecycleHookTimeoutConfiguration{
					Action: ecstypes.DeploymentLifecycleHookActionRollback, TimeoutInMinutes: aws.Int32(1440),
				},
			}},
		}
		got := out.Services[0].DeploymentConfiguration
		if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(
			ecstypes.DeploymentConfiguration{}, ecstypes.CanaryConfiguration{}, ecstypes.DeploymentAlarms{},
			ecstypes.DeploymentLifecycleHook{}, ecstypes.DeploymentLifecycleHookTimeoutConfiguration{},
		)); diff != "" {
			t.Errorf("deployment configuration (-want +got):\n%s", diff)
		}
		if td := aws.ToString(out.Services[0].TaskDefinition); td != newWebTaskDef {
			t.Errorf("service task definition %s, want %s", td, newWebTaskDef)
		}
	})
}

// TestCodeDeployAppSpecOnTheWire reads back, through the SDK, the AppSpec
// the deployment was created with.
func TestCodeDeployAppSpecOnTheWire(t *testing.T) {
	e := shopEnv(t, "")
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cd, _ := e.clients()
		spec := shopSpec(weightGate{r: e.router})
		spec.PlatformVersion = "1.4.0"
		spec.Hooks = managed.AppSpecHooks{BeforeAllowTraffic: "shop-smoke-test"}
		spec.Description = "release 2"
		s, plan := cdStrategy(t, cd, spec)
		if _, err := cutover.MustNewRunner(cutover.NewMemJournal(), runnerOpts()).Run(ctx, "shop-2", plan); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("run: %v, want ErrPNRNotApproved", err)
		}
		out, err := cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(s.DeploymentID())})
		must(t, err)
		info := out.DeploymentInfo
		content := aws.ToString(info.Revision.AppSpecContent.Content)
		sum := sha256.Sum256([]byte(content))
		if got := aws.ToString(info.Revision.AppSpecContent.Sha256); got != hex.EncodeToString(sum[:]) {
			t.Errorf("sha256 %q does not match the content", got)
		}
		var doc map[string]any
		must(t, json.Unmarshal([]byte(content), &doc))
		want := map[string]any{
			"version": 0.0,
			"Resources": []any{map[string]any{"TargetService": map[string]any{
				"Type": "AWS::ECS::Service",
				"Properties": map[string]any{
					"TaskDefinition":   newTaskDef,
					"LoadBalancerInfo": map[string]any{"ContainerName": "web", "ContainerPort": 8080.0},
					"PlatformVersion":  "1.4.0",
				},
			}}},
			"Hooks": []any{map[string]any{"BeforeAllowTraffic": "shop-smoke-test"}},
		}
		if diff := cmp.Diff(want, doc); diff != "" {
			t.Errorf("AppSpec (-want +got):\n%s", diff)
		}
		if d := aws.ToString(info.Description); len(d) < len("safecutover ") || d[len(d)-len("release 2"):] != "release 2" {
			t.Errorf("description %q, want the marker and %q", d, "release 2")
		}
	})
}
