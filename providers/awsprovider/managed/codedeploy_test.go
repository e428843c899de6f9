package managed_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
)

const newTaskDef = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2"

func shopGroup(e *env, config string) awstest.ManagedGroup {
	return awstest.ManagedGroup{
		Application: "shop", Name: "shop-prod", DeploymentConfig: config,
		TerminationWait: time.Hour, Router: e.router,
	}
}

func shopSpec(gates ...cutover.Gate) managed.CodeDeploySpec {
	return managed.CodeDeploySpec{
		Application: "shop", DeploymentGroup: "shop-prod",
		TaskDefinition: newTaskDef, ContainerName: "web", ContainerPort: 8080,
		Gates: gates, Bake: 10 * time.Minute,
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCodeDeployApprovalBeforeTermination runs a canary deployment, set to
// terminate early, to its termination wait, where the runner stops for want
// of an approval without ending the wait; with the approval journaled, a
// second run terminates the original task set and completes.
func TestCodeDeployApprovalBeforeTermination(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSCanary10Percent5Minutes")
	// Transient API errors are retried by the SDK and change nothing.
	e.sim.FailNext("CreateDeployment", 2, awstest.Throttling)
	e.sim.FailNext("GetDeployment", 1, awstest.InternalError)
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cd, ec := e.clients()
		spec := shopSpec(weightGate{r: e.router})
		spec.Services, spec.TerminateEarly = ec, true
		plan := cdPlan(t, cd, spec)
		if diff := cmp.Diff([]string{"codedeploy shift", "codedeploy termination wait", "codedeploy terminate blue"}, stageNames(plan)); diff != "" {
			t.Errorf("stages (-want +got):\n%s", diff)
		}
		an := plan.Analyze()
		if an.PNRStage != "codedeploy termination wait" || an.ReversibleStages != 1 {
			t.Errorf("Analyze: PNR %q after %d reversible stages, want the termination wait after 1", an.PNRStage, an.ReversibleStages)
		}
		if got, want := plan.Stages[1].Reversibility, cutover.ReversibleWithin(55*time.Minute); got != want {
			t.Errorf("termination wait reversibility = %v, want %v (1h wait less the 5m margin)", got, want)
		}

		j := cutover.NewMemJournal()
		r := cutover.MustNewRunner(j, runnerOpts())
		_, err := r.Run(ctx, "shop-2", plan)
		if !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("first run: %v, want ErrPNRNotApproved", err)
		}
		d := e.latest(t)
		if d.Stage != "termination wait" || d.BlueGone || e.router.Share("green") != 100 {
			t.Fatalf("before approval: deployment %+v, green %d%%; want all traffic on green and blue kept", d, e.router.Share("green"))
		}
		if n := e.sim.Calls("ContinueDeployment"); n != 0 {
			t.Fatalf("ContinueDeployment called %d times before the approval", n)
		}

		approve(t, j, "shop-2")
		st, err := r.Run(ctx, "shop-2", plan)
		if err != nil {
			t.Fatalf("second run: %v", err)
		}
		if st.Phase != cutover.PhaseCompleted {
			t.Errorf("phase = %s, want completed", st.Phase)
		}
		d = e.latest(t)
		if d.Status != "Succeeded" || !d.BlueGone || d.TaskDefinition != newTaskDef {
			t.Errorf("after approval: deployment %+v, want Succeeded with blue terminated", d)
		}
		if got := data(st, "codedeploy shift", "deployment"); got != d.ID {
			t.Errorf("journaled deployment = %q, want %q", got, d.ID)
		}
		e.calls(t, map[string]int{"CreateDeployment": 3, "ContinueDeployment": 1, "StopDeployment": 0})
		if n := len(e.sim.Deployments()); n != 1 {
			t.Errorf("%d deployments, want 1", n)
		}
	})
}

// TestCodeDeployWaitRunsOut approves the termination wait by name, as the
// one point of no return of the plan: the cutover completes with the
// original task set kept until CodeDeploy's wait runs out.
func TestCodeDeployWaitRunsOut(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		plan := e.shopPlan(t, 0)
		if an := plan.Analyze(); an.PNRStage != "codedeploy termination wait" || len(an.Findings) > 0 {
			t.Errorf("Analyze: PNR %q, findings %v; want the termination wait and none", an.PNRStage, an.Findings)
		}
		j := cutover.NewMemJournal()
		if _, err := cutover.MustNewRunner(j, approvingOpts(t, j, "shop-2")).Run(ctx, "shop-2", plan); err != nil {
			t.Fatalf("run approved at the termination wait: %v", err)
		}
		recs, err := j.Read(ctx, "shop-2", 0)
		must(t, err)
		var applied, baked time.Time
		for _, rec := range recs {
			if rec.Stage == "codedeploy termination wait" && rec.Type == cutover.RecApplied {
				applied = rec.Time
			}
			if rec.Stage == "codedeploy termination wait" && rec.Type == cutover.RecBaked {
				baked = rec.Time
			}
		}
		if got := baked.Sub(applied); got < 10*time.Minute {
			t.Errorf("termination wait baked %s after it was applied, want the 10m Bake", got)
		}
		if d := e.latest(t); d.Stage != "termination wait" || d.BlueGone {
			t.Errorf("at completion: %+v, want the original task set kept for the wait", d)
		}
		time.Sleep(time.Hour)
		if d := e.latest(t); d.Status != "Succeeded" || !d.BlueGone {
			t.Errorf("an hour on: %+v, want the wait run out and blue terminated", d)
		}
		e.calls(t, map[string]int{"ContinueDeployment": 0})
	})
}

// TestCodeDeployWindowClosesUnapproved waits for an approval that never
// comes: the runner rolls back while the original task set still runs,
// rather than let the wait run out unapproved.
func TestCodeDeployWindowClosesUnapproved(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSAllAtOnce")
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		plan := e.shopPlan(t, 0)
		opts := runnerOpts()
		opts.WaitForApproval = true
		start := time.Now()
		_, err := cutover.MustNewRunner(cutover.NewMemJournal(), opts).Run(ctx, "shop-2", plan)
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("run: %v, want rolled back for want of an approval", err)
		}
		e.rolledBackKept(t)
		if took := time.Since(start); took > time.Hour {
			t.Errorf("rolled back after %s, past the 1h termination wait", took)
		}
	})
}

// TestCodeDeployKilledInTerminationWait kills the runner in the termination
// wait and brings it back after the declared window (the wait less
// WindowMargin) has closed, unapproved, while CodeDeploy still waits: the
// runner asks the stage, which can still be undone, and rolls back onto
// the kept original; an approval sent after the window is refused.
func TestCodeDeployKilledInTerminationWait(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSAllAtOnce")
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		plan := e.shopPlan(t, 0)
		j := killedAt(t, plan, cutover.RecVerdict, "codedeploy termination wait")
		w := plan.Stages[1].Reversibility.Window
		time.Sleep(w + time.Minute) // past the declared window, inside the wait
		if d := e.latest(t); d.BlueGone || d.Status == "Succeeded" {
			t.Fatalf("deployment %+v: the termination wait should still run", d)
		}
		if err := cutover.Send(ctx, j, "shop-2", cutover.CmdApprove, "bob", "too late", "codedeploy termination wait"); err == nil {
			t.Error("Send accepted an approval after the window had closed")
		}
		_, err := cutover.MustNewRunner(j, runnerOpts()).Run(ctx, "shop-2", plan)
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("resumed run: %v, want rolled back: the window closed unapproved, CodeDeploy still waited", err)
		}
		e.rolledBackKept(t)
	})
}

// TestCodeDeployGateFailsRollsBack fails the library's gate while the
// canary takes 10% of the traffic: the deployment is stopped with rollback
// and the traffic is back on the original task set.
func TestCodeDeployGateFailsRollsBack(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSCanary10Percent15Minutes")
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		plan := e.shopPlan(t, 10)
		_, err := cutover.MustNewRunner(cutover.NewMemJournal(), runnerOpts()).Run(ctx, "shop-2", plan)
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.As(err, &gf) || gf.Gate != "green error rate" || gf.Stage != "codedeploy shift" {
			t.Fatalf("run: %v, want rolled back by the gate in the shift", err)
		}
		deps := e.sim.Deployments()
		if len(deps) != 2 || deps[0].Status != "Stopped" || !deps[0].RolledBack || deps[1].RollbackOf != deps[0].ID || deps[1].Status != "Succeeded" {
			t.Fatalf("deployments %+v, want the first stopped and its rollback succeeded", deps)
		}
		if g := e.router.Share("green"); g != 0 {
			t.Errorf("green has %d%% after the rollback, want 0", g)
		}
		e.calls(t, map[string]int{"StopDeployment": 1})
	})
}

// TestCodeDeployFailsOnItsOwn has CodeDeploy fail the deployment (its
// alarm): the library's view of the deployment fails, and the rollback
// waits for CodeDeploy's own rollback deployment.
func TestCodeDeployFailsOnItsOwn(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cd, _ := e.clients()
		alarm := cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			if d := e.latest(t); e.router.Share("green") >= 30 && d.Status == "InProgress" {
				must(t, e.sim.FailDeployment(d.ID, "alarm shop-5xx in ALARM"))
			}
			return cutover.Verdict{Decision: cutover.Pass}, nil
		})
		plan := cdPlan(t, cd, shopSpec(alarm))
		_, err := cutover.MustNewRunner(cutover.NewMemJournal(), runnerOpts()).Run(ctx, "shop-2", plan)
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.As(err, &gf) || gf.Gate != "codedeploy deployment" ||
			!strings.Contains(gf.Verdict.Reason, "ALARM_ACTIVE") {
			t.Fatalf("run: %v, want rolled back by the deployment's own failure", err)
		}
		if n := e.sim.Calls("StopDeployment"); n != 0 {
			t.Errorf("StopDeployment called %d times on a failed deployment, want 0", n)
		}
		if g := e.router.Share("green"); g != 0 {
			t.Errorf("green has %d%% after the rollback, want 0", g)
		}
	})
}

// TestCodeDeployResume kills the runner at two moments — mid-shift, and
// between creating the deployment and journaling its ID — and resumes it:
// it carries on with the deployment it started and never creates a second.
func TestCodeDeployResume(t *testing.T) {
	for _, tc := range []struct {
		name string
		die  func(cutover.Record) bool
	}{
		{"mid-shift", func(r cutover.Record) bool {
			return r.Type == cutover.RecVerdict && r.Gate == "codedeploy deployment"
		}},
		{"before the ID is journaled", func(r cutover.Record) bool {
			return r.Type == cutover.RecData && r.Key == "deployment"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := shopEnv(t, "CodeDeployDefault.ECSLinear10PercentEvery3Minutes")
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				cd, _ := e.clients()
				j := cutover.NewMemJournal()
				spec := shopSpec(weightGate{r: e.router})
				spec.TerminateEarly = true
				plan := func() cutover.Plan { return cdPlan(t, cd, spec) } // each process builds its own
				_, err := cutover.MustNewRunner(&dying{Journal: j, die: tc.die}, runnerOpts()).Run(ctx, "shop-2", plan())
				if !errors.Is(err, errKilled) {
					t.Fatalf("first run: %v, want it killed", err)
				}
				if n := len(e.sim.Deployments()); n != 1 {
					t.Fatalf("%d deployments after the first run, want 1", n)
				}
				time.Sleep(2 * time.Minute) // the process restarts
				approve(t, j, "shop-2")
				st, err := cutover.MustNewRunner(j, runnerOpts()).Run(ctx, "shop-2", plan())
				if err != nil {
					t.Fatalf("resumed run: %v", err)
				}
				d := e.latest(t)
				e.calls(t, map[string]int{"CreateDeployment": 1})
				if got := data(st, "codedeploy shift", "deployment"); d.Status != "Succeeded" || got != d.ID {
					t.Errorf("deployment %+v, journaled %q; want it succeeded and journaled", d, got)
				}
			})
		})
	}
}

// TestCodeDeployResumedTooLate kills the runner as the shift has passed and
// brings it back 20 minutes into the termination wait: it cannot vouch for
// a window whose start it did not see within WindowMargin, so it rolls
// back while it still can instead of guessing.
func TestCodeDeployResumedTooLate(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSAllAtOnce")
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		plan := e.shopPlan(t, 0)
		j := killedAt(t, plan, cutover.RecIntent, "codedeploy termination wait")
		time.Sleep(20 * time.Minute)
		_, err := cutover.MustNewRunner(j, runnerOpts()).Run(ctx, "shop-2", plan)
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.Is(err, managed.ErrWindowUnknown) {
			t.Fatalf("resumed run: %v, want rolled back for an unknown window", err)
		}
		e.rolledBackKept(t)
	})
}

// TestCodeDeployCustomConfigManualReroute creates a custom linear config,
// and continues a deployment group that waits for traffic to be rerouted
// by hand.
func TestCodeDeployCustomConfigManualReroute(t *testing.T) {
	e := newEnv(t)
	g := shopGroup(e, "")
	g.ManualReroute, g.ReadyWait = true, 30*time.Minute
	must(t, e.sim.AddDeploymentGroup(g))
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cd, _ := e.clients()
		spec := shopSpec(weightGate{r: e.router})
		spec.DeploymentConfig = "Shop.Linear25Every2Minutes"
		spec.Traffic = &managed.Traffic{Linear: true, Percent: 25, Interval: 2 * time.Minute}
		s, err := newCodeDeploy(ctx, cd, spec, managed.Options{})
		must(t, err)
		if got := s.ShiftDuration(); got != 6*time.Minute {
			t.Errorf("ShiftDuration = %s, want 6m (4 steps of 25%%, 2m apart)", got)
		}
		plan, err := cutover.Sequence("shop release 2", s)
		must(t, err)
		j := cutover.NewMemJournal()
		if _, err := cutover.MustNewRunner(j, approvingOpts(t, j, "shop-2")).Run(ctx, "shop-2", plan); err != nil {
			t.Fatalf("run approved at the termination wait: %v", err)
		}
		e.calls(t, map[string]int{"CreateDeploymentConfig": 1, "ContinueDeployment": 1})
		// The config exists now and matches; a different shift under its
		// name is refused.
		if _, err := newCodeDeploy(ctx, cd, spec, managed.Options{}); err != nil {
			t.Errorf("same custom config again: %v", err)
		}
		spec.Traffic = &managed.Traffic{Percent: 10, Interval: 5 * time.Minute}
		_, err = newCodeDeploy(ctx, cd, spec, managed.Options{})
		if !errors.Is(err, managed.ErrInvalidSetup) || !strings.Contains(err.Error(), `"Shop.Linear25Every2Minutes"`) {
			t.Errorf("different shift under the same name: %v, want a setup error naming the config", err)
		}
	})
}

// TestNewCodeDeployRejects checks bad input and resources not set up for
// ECS blue/green: each error names what is wrong.
func TestNewCodeDeployRejects(t *testing.T) {
	e := newEnv(t)
	for _, g := range []awstest.ManagedGroup{
		{Application: "shop", Name: "ok"},
		{Application: "shop", Name: "server", ComputePlatform: "Server"},
		{Application: "shop", Name: "in-place", InPlace: true},
		{Application: "shop", Name: "no-tg", NoTargetGroups: true},
		{Application: "shop", Name: "ecs-controller", Service: "legacy", ServiceController: "ECS"},
		{Application: "shop", Name: "short-wait", TerminationWait: 5 * time.Minute},
	} {
		must(t, e.sim.AddDeploymentGroup(g))
	}
	cd, ec := e.clients()
	base := func(group string) managed.CodeDeploySpec {
		s := shopSpec()
		s.DeploymentGroup = group
		s.Services = ec
		return s
	}
	for _, tc := range []struct {
		name  string
		spec  func() managed.CodeDeploySpec
		setup bool   // a *SetupError
		want  string // in the message
	}{
		{"no task definition", func() managed.CodeDeploySpec { s := base("ok"); s.TaskDefinition = ""; return s }, false, "CodeDeploySpec.TaskDefinition: required"},
		{"port out of range", func() managed.CodeDeploySpec { s := base("ok"); s.ContainerPort = 70000; return s }, false, "ContainerPort: 70000 outside 1–65535"},
		{"traffic without config name", func() managed.CodeDeploySpec {
			s := base("ok")
			s.Traffic = &managed.Traffic{Percent: 10, Interval: time.Minute}
			return s
		}, false, "DeploymentConfig: required with Traffic"},
		{"traffic percent", func() managed.CodeDeploySpec {
			s := base("ok")
			s.DeploymentConfig, s.Traffic = "x", &managed.Traffic{Percent: 100, Interval: time.Minute}
			return s
		}, false, "Traffic.Percent: 100 outside 1–99"},
		{"traffic interval", func() managed.CodeDeploySpec {
			s := base("ok")
			s.DeploymentConfig, s.Traffic = "x", &managed.Traffic{Percent: 10, Interval: 90 * time.Second}
			return s
		}, false, "Traffic.Interval: 1m30s is not a whole number of minutes"},
		{"bake longer than window", func() managed.CodeDeploySpec { s := base("ok"); s.Bake = time.Hour; return s }, false, "Bake: 1h0m0s is not shorter than the rollback window 55m0s"},
		{"unknown application", func() managed.CodeDeploySpec { s := base("ok"); s.Application = "nope"; return s }, true, `application "nope"`},
		{"unknown group", func() managed.CodeDeploySpec { return base("nope") }, true, `codedeploy deployment group "nope" of application "shop": does not exist`},
		{"unknown deployment config", func() managed.CodeDeploySpec {
			s := base("ok")
			s.DeploymentConfig = "CodeDeployDefault.ECSCanary50Percent1Minute"
			return s
		},
			true, `codedeploy deployment config "CodeDeployDefault.ECSCanary50Percent1Minute": does not exist`},
		{"config for EC2", func() managed.CodeDeploySpec {
			s := base("ok")
			s.DeploymentConfig = "CodeDeployDefault.OneAtATime"
			return s
		},
			true, `"CodeDeployDefault.OneAtATime": computePlatform: is "Server", want ECS`},
		{"group for EC2", func() managed.CodeDeploySpec { return base("server") }, true, `group "server" of application "shop": computePlatform`},
		{"in-place group", func() managed.CodeDeploySpec { return base("in-place") }, true, "deploymentStyle: want BLUE_GREEN"},
		{"missing target groups", func() managed.CodeDeploySpec { return base("no-tg") }, true, `"no-tg" of application "shop": loadBalancerInfo.targetGroupPairInfoList: missing target groups`},
		{"service without CodeDeploy controller", func() managed.CodeDeploySpec { return base("ecs-controller") }, true,
			`ecs service "legacy" in cluster "default": deploymentController: is ECS; CodeDeploy blue/green needs CODE_DEPLOY`},
		{"termination wait too short", func() managed.CodeDeploySpec { return base("short-wait") }, true, "termination wait 5m0s leaves no rollback window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newCodeDeploy(context.Background(), cd, tc.spec(), managed.Options{})
			rejected(t, err, tc.setup, tc.want)
		})
	}
}

// TestCodeDeployRerouteRefused: a ContinueDeployment(READY_WAIT) the
// service refuses is checked against the deployment: still Ready means
// traffic was not rerouted, and the stage fails (and rolls back) instead
// of reporting the reroute.
func TestCodeDeployRerouteRefused(t *testing.T) {
	e := newEnv(t)
	g := shopGroup(e, "")
	g.ManualReroute, g.ReadyWait = true, 30*time.Minute
	must(t, e.sim.AddDeploymentGroup(g))
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		plan := e.shopPlan(t, 0)
		e.sim.FailNext("ContinueDeployment", 1, awstest.Fault{Status: http.StatusBadRequest, Code: "DeploymentIsNotInReadyStateException", Message: "not ready"})
		j := cutover.NewMemJournal()
		var err error
		_, err = cutover.MustNewRunner(j, runnerOpts()).Run(ctx, "shop-2", plan)
		if err == nil || !strings.Contains(err.Error(), "to reroute traffic: still Ready") {
			t.Fatalf("Run = %v, want the refused reroute reported with the deployment's status", err)
		}
		recs, rerr := j.Read(ctx, "shop-2", 0)
		must(t, rerr)
		noted := false
		for _, r := range recs {
			if r.Type == cutover.RecData && r.Key == managed.DataRefused && strings.Contains(r.Value, "DeploymentIsNotInReadyStateException; the deployment is Ready") {
				noted = true
			}
		}
		if !noted {
			t.Error("the refusal is not journaled")
		}
	})
}

// endlessList pages ListDeployments forever, as a group with more
// deployments than the library will page through would.
type endlessList struct{ managed.CodeDeployAPI }

func (endlessList) ListDeployments(context.Context, *codedeploy.ListDeploymentsInput, ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error) {
	return &codedeploy.ListDeploymentsOutput{NextToken: aws.String("more")}, nil
}

// TestCodeDeployListNotTruncated: when the group's deployments
// cannot all be listed, the check for one already in progress must not
// pass as if there were none: no deployment is created.
func TestCodeDeployListNotTruncated(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSCanary10Percent5Minutes")
	synctest.Test(t, func(t *testing.T) {
		cd, _ := e.clients()
		plan := cdPlan(t, endlessList{cd}, shopSpec(weightGate{r: e.router}))
		_, err := cutover.MustNewRunner(cutover.NewMemJournal(), runnerOpts()).Run(t.Context(), "shop-2", plan)
		if err == nil || !strings.Contains(err.Error(), "pages") {
			t.Errorf("run: %v, want an error saying the deployments could not all be listed", err)
		}
		e.calls(t, map[string]int{"CreateDeployment": 0})
	})
}

// lostCreate creates the first deployment and loses the answer (a
// connection cut after the service acted), and records the time ranges
// ListDeployments is asked for.
type lostCreate struct {
	managed.CodeDeployAPI
	lost   bool
	ranges []time.Duration // End - Start of each ListDeployments with a range
}

func (c *lostCreate) CreateDeployment(ctx context.Context, in *codedeploy.CreateDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentOutput, error) {
	out, err := c.CodeDeployAPI.CreateDeployment(ctx, in, optFns...)
	if err == nil && !c.lost {
		c.lost = true
		return nil, fmt.Errorf("after the request was sent: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
	}
	return out, err
}

func (c *lostCreate) ListDeployments(ctx context.Context, in *codedeploy.ListDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error) {
	if r := in.CreateTimeRange; r != nil && r.End != nil {
		c.ranges = append(c.ranges, aws.ToTime(r.End).Sub(aws.ToTime(r.Start)))
	}
	return c.CodeDeployAPI.ListDeployments(ctx, in, optFns...)
}

// TestCodeDeployFoundByToken: a deployment whose creation answer was
// lost is found again by the cutover's journaled token, with one listing
// of the few minutes around it — no second deployment, no history read.
func TestCodeDeployFoundByToken(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSCanary10Percent5Minutes")
	synctest.Test(t, func(t *testing.T) {
		cd, _ := e.clients()
		lc := &lostCreate{CodeDeployAPI: cd}
		plan := cdPlan(t, lc, shopSpec(weightGate{r: e.router}))
		j := cutover.NewMemJournal()
		opts := approvingOpts(t, j, "shop-2")
		opts.ApplyAttempts = 2
		opts.Transient = providers.IsTransient
		if _, err := cutover.MustNewRunner(j, opts).Run(t.Context(), "shop-2", plan); err != nil {
			t.Fatalf("run: %v, want it to complete with the one deployment", err)
		}
		if n := len(e.sim.Deployments()); n != 1 || e.sim.Calls("CreateDeployment") != 1 {
			t.Errorf("%d deployments, %d CreateDeployment calls; want 1 and 1", n, e.sim.Calls("CreateDeployment"))
		}
		if len(lc.ranges) != 1 || lc.ranges[0] > 10*time.Minute {
			t.Errorf("token lookups listed ranges %v, want one of a few minutes", lc.ranges)
		}
	})
}

// TestConstructorsMakeNoCall: NewCodeDeploy and NewECS only check their
// input; the plan cannot be built before Prepare has read AWS, and
// Prepare is where the reads happen.
func TestConstructorsMakeNoCall(t *testing.T) {
	e := shopEnv(t, "CodeDeployDefault.ECSAllAtOnce")
	cd, ec := e.clients()
	before := e.sim.Snapshot()
	c, err := managed.NewCodeDeploy(cd, shopSpec(), managed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := managed.NewECS(ec, managed.ECSSpec{Service: "web", TaskDefinition: "web:2", Strategy: managed.BlueGreen, Window: time.Hour}, managed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.sim.Snapshot(); !maps.Equal(got, before) {
		t.Errorf("calls after the constructors %v, want none (before %v)", got, before)
	}
	for name, s := range map[string]cutover.Strategy{"codedeploy": c, "ecs": x} {
		if _, err := s.Stages(); err == nil || !strings.Contains(err.Error(), "call Prepare(ctx) first") {
			t.Errorf("%s: Stages before Prepare: %v, want an error saying to call Prepare first", name, err)
		}
	}
	if err := c.Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stages(); err != nil {
		t.Errorf("Stages after Prepare: %v", err)
	}
	if e.sim.Calls("GetDeploymentGroup") != 1 {
		t.Errorf("GetDeploymentGroup calls = %d, want 1, by Prepare", e.sim.Calls("GetDeploymentGroup"))
	}
}
