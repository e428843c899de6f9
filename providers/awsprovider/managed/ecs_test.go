package managed_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
)

const (
	oldWebTaskDef = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
	newWebTaskDef = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"
)

func webService(e *env) awstest.ManagedService {
	return awstest.ManagedService{Cluster: "prod", Name: "web", TaskDefinition: oldWebTaskDef, Router: e.router}
}

func webSpec(strategy ecstypes.DeploymentStrategy, gates ...cutover.Gate) managed.ECSSpec {
	return managed.ECSSpec{
		Cluster: "prod", Service: "web", TaskDefinition: newWebTaskDef, Strategy: strategy,
		CanaryPercent: 10, StepPercent: 25, Window: time.Hour, Bake: 10 * time.Minute, Gates: gates,
		WaitForCleanUp: true,
	}
}

// TestECSStrategies runs each strategy to the end: one stage per traffic
// step, each step continued from its PAUSE hook once the previous step's
// gates passed; the bake (the PNR) waits for an approval while ECS holds
// at the hook after the last shift.
func TestECSStrategies(t *testing.T) {
	for _, tc := range []struct {
		strategy ecstypes.DeploymentStrategy
		stages   []string
	}{
		{managed.BlueGreen, []string{"ecs 100%", "ecs bake", "ecs clean-up"}},
		{managed.Canary, []string{"ecs 10%", "ecs 100%", "ecs bake", "ecs clean-up"}},
		{managed.Linear, []string{"ecs 25%", "ecs 50%", "ecs 75%", "ecs 100%", "ecs bake", "ecs clean-up"}},
	} {
		t.Run(string(tc.strategy), func(t *testing.T) {
			e := webEnv(t)
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				plan := e.webPlan(t, tc.strategy, 0)
				if diff := cmp.Diff(tc.stages, stageNames(plan)); diff != "" {
					t.Errorf("stages (-want +got):\n%s", diff)
				}
				if an := plan.Analyze(); an.PNRStage != "ecs bake" || len(an.Findings) > 0 {
					t.Errorf("Analyze: PNR %q, findings %v; want %q and none", an.PNRStage, an.Findings, "ecs bake")
				}
				j := cutover.NewMemJournal()
				r := cutover.MustNewRunner(j, runnerOpts())
				_, err := r.Run(ctx, "web-2", plan)
				if !errors.Is(err, cutover.ErrPNRNotApproved) {
					t.Fatalf("first run: %v, want ErrPNRNotApproved", err)
				}
				d := e.latest(t)
				if d.Stage != "POST_PRODUCTION_TRAFFIC_SHIFT" || d.Status != "IN_PROGRESS" || e.router.Share("green") != 100 {
					t.Fatalf("before approval: %+v, green %d%%; want held after the last shift", d, e.router.Share("green"))
				}
				steps := len(tc.stages) - 2 // but the bake and the clean-up
				if got := e.sim.Calls("ContinueServiceDeployment"); got != steps {
					t.Errorf("ContinueServiceDeployment called %d times before the approval, want %d (one per step)", got, steps)
				}

				// Approved by name, as the plan's one point of no return.
				must(t, cutover.Send(ctx, j, "web-2", cutover.CmdApprove, "oncall", "looks good", "ecs bake"))
				st, err := r.Run(ctx, "web-2", plan)
				if err != nil {
					t.Fatalf("second run: %v", err)
				}
				d = e.latest(t)
				td, _ := e.sim.ServiceTaskDefinition("prod", "web")
				if st.Phase != cutover.PhaseCompleted || d.Status != "SUCCESSFUL" || td != newWebTaskDef {
					t.Errorf("phase %s, deployment %+v, service runs %s; want completed on the new revision", st.Phase, d, td)
				}
				e.calls(t, map[string]int{"UpdateService": 1, "ContinueServiceDeployment": steps + 1, "StopServiceDeployment": 0})
			})
		})
	}
}

// TestECSGateFailsRollsBack fails the library's gate at the canary step:
// the deployment is rolled back and the service runs the old revision.
func TestECSGateFailsRollsBack(t *testing.T) {
	e := webEnv(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		plan := e.webPlan(t, managed.Canary, 10)
		_, err := cutover.MustNewRunner(cutover.NewMemJournal(), runnerOpts()).Run(ctx, "web-2", plan)
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.As(err, &gf) || gf.Stage != "ecs 10%" {
			t.Fatalf("run: %v, want rolled back by the gate at the canary step", err)
		}
		d := e.latest(t)
		td, _ := e.sim.ServiceTaskDefinition("prod", "web")
		if d.Status != "ROLLBACK_SUCCESSFUL" || td != oldWebTaskDef || e.router.Share("green") != 0 {
			t.Errorf("deployment %+v, service runs %s, green %d%%; want rolled back", d, td, e.router.Share("green"))
		}
		if got := e.sim.Calls("StopServiceDeployment") + e.sim.Calls("ContinueServiceDeployment"); got != 2 {
			t.Errorf("%d stop or continue calls, want 2 (continue the canary, then roll back)", got)
		}
	})
}

// TestECSRollsBackOnItsOwn has ECS roll the deployment back (its alarm);
// the library fails its stage and waits for ECS's rollback.
func TestECSRollsBackOnItsOwn(t *testing.T) {
	e := webEnv(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		_, ec := e.clients()
		alarm := cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			if d := e.latest(t); e.router.Share("green") >= 50 && d.Status == "IN_PROGRESS" {
				must(t, e.sim.FailDeployment(d.ID, "alarm web-5xx in ALARM"))
			}
			return cutover.Verdict{Decision: cutover.Pass}, nil
		})
		plan := ecsPlan(t, ec, webSpec(managed.Linear, alarm))
		_, err := cutover.MustNewRunner(cutover.NewMemJournal(), runnerOpts()).Run(ctx, "web-2", plan)
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.As(err, &gf) || gf.Gate != "ecs service deployment" ||
			!strings.Contains(gf.Verdict.Reason, "web-5xx") {
			t.Fatalf("run: %v, want rolled back on ECS's own rollback", err)
		}
		if n := e.sim.Calls("StopServiceDeployment"); n != 0 {
			t.Errorf("StopServiceDeployment called %d times on a deployment ECS rolled back, want 0", n)
		}
		if d := e.latest(t); d.Status != "ROLLBACK_SUCCESSFUL" {
			t.Errorf("deployment %+v, want ROLLBACK_SUCCESSFUL", d)
		}
	})
}

// TestECSResume kills the runner mid-canary and resumes it: it finds the
// service deployment it journaled and never updates the service again.
func TestECSResume(t *testing.T) {
	for _, tc := range []struct {
		name string
		die  func(cutover.Record) bool
	}{
		{"mid-step", func(r cutover.Record) bool { return r.Type == cutover.RecVerdict && r.Stage == "ecs 10%" }},
		{"before the ARN is journaled", func(r cutover.Record) bool { return r.Type == cutover.RecData && r.Key == "deployment" }},
		{"between steps", func(r cutover.Record) bool { return r.Type == cutover.RecIntent && r.Stage == "ecs 100%" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := webEnv(t)
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				_, ec := e.clients()
				j := cutover.NewMemJournal()
				plan := func() cutover.Plan { return ecsPlan(t, ec, webSpec(managed.Canary, weightGate{r: e.router})) }
				_, err := cutover.MustNewRunner(&dying{Journal: j, die: tc.die}, runnerOpts()).Run(ctx, "web-2", plan())
				if !errors.Is(err, errKilled) {
					t.Fatalf("first run: %v, want it killed", err)
				}
				time.Sleep(2 * time.Minute)
				approve(t, j, "web-2")
				if _, err := cutover.MustNewRunner(j, runnerOpts()).Run(ctx, "web-2", plan()); err != nil {
					t.Fatalf("resumed run: %v", err)
				}
				e.calls(t, map[string]int{"UpdateService": 1})
				if d := e.latest(t); d.Status != "SUCCESSFUL" || len(e.sim.Deployments()) != 1 {
					t.Errorf("deployments %+v, want one, successful", e.sim.Deployments())
				}
			})
		})
	}
}

// TestECSHookTimeoutRollsBack leaves the deployment unapproved at the hook
// after the last shift for longer than HookTimeout: ECS rolls back on its
// own, and the next run finds it rolled back.
func TestECSHookTimeoutRollsBack(t *testing.T) {
	e := webEnv(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		_, ec := e.clients()
		spec := webSpec(managed.BlueGreen, weightGate{r: e.router})
		spec.HookTimeout = 2 * time.Hour
		plan := ecsPlan(t, ec, spec)
		j := cutover.NewMemJournal()
		// The runner dies as it starts waiting for the approval, and
		// nobody watches the deployment for three hours.
		die := func(r cutover.Record) bool { return r.Type == cutover.RecWaiting }
		if _, err := cutover.MustNewRunner(&dying{Journal: j, die: die}, runnerOpts()).Run(ctx, "web-2", plan); !errors.Is(err, errKilled) {
			t.Fatalf("first run: %v, want it killed", err)
		}
		time.Sleep(3 * time.Hour) // nobody approves
		if d := e.latest(t); d.Status != "ROLLBACK_SUCCESSFUL" || e.router.Share("green") != 0 {
			t.Fatalf("deployment %+v, green %d%%; want ECS to have rolled back at the hook's timeout", d, e.router.Share("green"))
		}
		approve(t, j, "web-2")
		_, err := cutover.MustNewRunner(j, runnerOpts()).Run(ctx, "web-2", plan)
		// The late run judges green before it goes on (the deployment
		// gate fails) or finds the deployment failed as it applies.
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.Is(err, managed.ErrDeploymentFailed) && !errors.As(err, &gf) {
			t.Fatalf("late run: %v, want rolled back", err)
		}
	})
}

// TestNewECSRejects checks bad input and services not set up for native
// deployments: each error names what is wrong.
func TestNewECSRejects(t *testing.T) {
	e := newEnv(t)
	for _, s := range []awstest.ManagedService{
		{Cluster: "prod", Name: "web"},
		{Cluster: "prod", Name: "codedeploy", Controller: "CODE_DEPLOY"},
		{Cluster: "prod", Name: "no-lb", NoLoadBalancer: true},
		{Cluster: "prod", Name: "no-alt", NoAlternateTargetGroup: true},
	} {
		must(t, e.sim.AddService(s))
	}
	_, ec := e.clients()
	for _, tc := range []struct {
		name  string
		edit  func(*managed.ECSSpec)
		setup bool
		want  string
	}{
		{"no service", func(s *managed.ECSSpec) { s.Service = "" }, false, "ECSSpec.Service: required"},
		{"rolling", func(s *managed.ECSSpec) { s.Strategy = "ROLLING" }, false, `ECSSpec.Strategy: "ROLLING", want BLUE_GREEN, CANARY or LINEAR`},
		{"canary percent", func(s *managed.ECSSpec) { s.Strategy, s.CanaryPercent = managed.Canary, 0 }, false, "ECSSpec.CanaryPercent: 0 is not a multiple of 0.1 in 0.1–99.9"},
		{"linear step", func(s *managed.ECSSpec) { s.Strategy, s.StepPercent = managed.Linear, 2 }, false, "ECSSpec.StepPercent: 2 is not a multiple of 0.1 in 3–99.9"},
		{"linear step not tenths", func(s *managed.ECSSpec) { s.Strategy, s.StepPercent = managed.Linear, 12.34 }, false, "ECSSpec.StepPercent: 12.34"},
		{"no bake time", func(s *managed.ECSSpec) { s.Window = 0 }, false, "ECSSpec.Window: 0s outside 1m–1440m"},
		{"bake time seconds", func(s *managed.ECSSpec) { s.Window = 90 * time.Second }, false, "ECSSpec.Window: 1m30s is not a whole number of minutes"},
		{"bake time within margin", func(s *managed.ECSSpec) { s.Window = 5 * time.Minute }, false, "leaves no rollback window"},
		{"library bake too long", func(s *managed.ECSSpec) { s.Bake = 55 * time.Minute }, false, "ECSSpec.Bake: 55m0s outside 0–55m0s"},
		{"hook timeout", func(s *managed.ECSSpec) { s.HookTimeout = 15 * 24 * time.Hour }, false, "ECSSpec.HookTimeout: 360h0m0s outside 1m–20160m"},
		{"our hook", func(s *managed.ECSSpec) {
			s.LifecycleHooks = []ecstypes.DeploymentLifecycleHook{{TargetType: ecstypes.DeploymentLifecycleHookTargetTypePause,
				LifecycleStages: []ecstypes.DeploymentLifecycleHookStage{ecstypes.DeploymentLifecycleHookStagePostProductionTrafficShift}}}
		}, false, "ECSSpec.LifecycleHooks[0]: a PAUSE hook at POST_PRODUCTION_TRAFFIC_SHIFT belongs to this package"},
		{"unknown service", func(s *managed.ECSSpec) { s.Service = "nope" }, true, `ecs service "nope" in cluster "prod": not found: MISSING`},
		{"CodeDeploy controller", func(s *managed.ECSSpec) { s.Service = "codedeploy" }, true,
			`ecs service "codedeploy" in cluster "prod": deploymentController: is CODE_DEPLOY; native BLUE_GREEN deployments need the ECS deployment controller`},
		{"missing target groups", func(s *managed.ECSSpec) { s.Service = "no-lb" }, true, `ecs service "no-lb" in cluster "prod": loadBalancers: missing target groups`},
		{"no alternate target group", func(s *managed.ECSSpec) { s.Service = "no-alt" }, true, "advancedConfiguration.alternateTargetGroupArn: missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := webSpec(managed.BlueGreen)
			tc.edit(&spec)
			_, err := newECS(context.Background(), ec, spec, managed.Options{})
			rejected(t, err, tc.setup, tc.want)
		})
	}
}

// TestComparativeGates checks that comparative gates are judged only where
// both revisions take traffic.
func TestComparativeGates(t *testing.T) {
	e := webEnv(t)
	must(t, e.sim.AddDeploymentGroup(shopGroup(e, "CodeDeployDefault.ECSCanary10Percent5Minutes")))
	cd, ec := e.clients()
	judge := cutover.Named("judge green vs blue", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
		return cutover.Verdict{Decision: cutover.Pass}, nil
	}))
	has := func(st cutover.Stage) bool {
		for i, g := range st.Gates {
			if cutover.GateName(g, i) == "judge green vs blue" {
				return true
			}
		}
		return false
	}
	spec := webSpec(managed.Linear, weightGate{r: e.router})
	spec.Comparative = []cutover.Gate{judge}
	es, err := newECS(t.Context(), ec, spec, managed.Options{})
	must(t, err)
	cspec := shopSpec(weightGate{r: e.router})
	cspec.Comparative = []cutover.Gate{judge}
	cs, err := newCodeDeploy(t.Context(), cd, cspec, managed.Options{})
	must(t, err)
	got := map[string]bool{}
	for _, s := range []cutover.Strategy{es, cs} {
		stages, err := s.Stages()
		must(t, err)
		for _, st := range stages {
			got[st.Name] = has(st)
		}
	}
	want := map[string]bool{
		"ecs 25%": true, "ecs 50%": true, "ecs 75%": true, "ecs 100%": false, "ecs bake": false, "ecs clean-up": false,
		"codedeploy shift": true, "codedeploy termination wait": false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stages judging the comparative gate (-want +got):\n%s", diff)
	}
}

// fullARNs answers DescribeServices as ECS does: the service's task
// definition is always its full ARN, whatever form UpdateService was given.
type fullARNs struct{ managed.ECSDeploymentAPI }

func (c fullARNs) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	out, err := c.ECSDeploymentAPI.DescribeServices(ctx, in, optFns...)
	if err != nil {
		return nil, err
	}
	for i, s := range out.Services {
		if td := aws.ToString(s.TaskDefinition); td != "" && !strings.HasPrefix(td, "arn:") {
			out.Services[i].TaskDefinition = aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/" + td)
		}
	}
	return out, nil
}

// TestECSFamilyRevisionResumed deploys a task definition given as
// family:revision (as ECSSpec.TaskDefinition allows), and resumes the
// cutover in a new process for the approved bake: the new process must
// find the service deployment although ECS reports the task definition by
// its ARN, and complete.
func TestECSFamilyRevisionResumed(t *testing.T) {
	e := webEnv(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		_, ec := e.clients()
		spec := webSpec(managed.Canary, weightGate{r: e.router})
		spec.TaskDefinition = "web:2"
		j := cutover.NewMemJournal()
		_, err := cutover.MustNewRunner(j, runnerOpts()).Run(ctx, "web-2", ecsPlan(t, fullARNs{ec}, spec))
		if !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("first run: %v, want ErrPNRNotApproved", err)
		}
		approve(t, j, "web-2")
		// A new process: a new strategy and runner over the same journal.
		st, err := cutover.MustNewRunner(j, runnerOpts()).Run(ctx, "web-2", ecsPlan(t, fullARNs{ec}, spec))
		if err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("resumed run: phase %s, %v; want completed", st.Phase, err)
		}
		if d := e.latest(t); d.Status != "SUCCESSFUL" {
			t.Errorf("deployment %+v, want SUCCESSFUL", d)
		}
		e.calls(t, map[string]int{"UpdateService": 1})
	})
}
