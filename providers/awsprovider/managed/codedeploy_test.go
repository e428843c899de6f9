package managed_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
	"github.com/safecutover/safecutover/providers/fake"
)

const newTaskDef = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2"

func shopGroup(e *env, config string) fake.ManagedGroup {
	return fake.ManagedGroup{
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

// TestCodeDeployApprovalBeforeTermination runs a canary deployment to its
// termination wait, where the runner stops for want of an approval without
// ending the wait; with the approval journaled, a second run terminates the
// original task set and completes.
func TestCodeDeployApprovalBeforeTermination(t *testing.T) {
	e := newEnv(t)
	must(t, e.sim.AddDeploymentGroup(shopGroup(e, "CodeDeployDefault.ECSCanary10Percent5Minutes")))
	// Transient API errors are retried by the SDK and change nothing.
	e.sim.FailNext("CreateDeployment", "ThrottlingException", 2)
	e.sim.FailNext("GetDeployment", "InternalFailure", 1)
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cd, ec := e.clients()
		spec := shopSpec(weightGate{r: e.router})
		spec.Services = ec
		s, err := managed.NewCodeDeploy(ctx, cd, spec, managed.Options{})
		must(t, err)
		plan, err := cutover.Sequence("shop release 2", s)
		must(t, err)
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
		r := cutover.NewRunner(j, runnerOpts())
		_, err = r.Run(ctx, "shop-2", plan)
		if !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("first run: %v, want ErrPNRNotApproved", err)
		}
		d := e.latest(t)
		if d.Stage != "termination wait" || d.BlueGone || e.router.green() != 100 {
			t.Fatalf("before approval: deployment %+v, green %d%%; want all traffic on green and blue kept", d, e.router.green())
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
		for op, want := range map[string]int{"CreateDeployment": 3, "ContinueDeployment": 1, "StopDeployment": 0} {
			if got := e.sim.Calls(op); got != want {
				t.Errorf("%s called %d times, want %d", op, got, want)
			}
		}
		if n := len(e.sim.Deployments()); n != 1 {
			t.Errorf("%d deployments, want 1", n)
		}
	})
}

// TestCodeDeployGateFailsRollsBack fails the library's gate while the
// canary takes 10% of the traffic: the deployment is stopped with rollback
// and the traffic is back on the original task set.
func TestCodeDeployGateFailsRollsBack(t *testing.T) {
	e := newEnv(t)
	must(t, e.sim.AddDeploymentGroup(shopGroup(e, "CodeDeployDefault.ECSCanary10Percent15Minutes")))
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cd, _ := e.clients()
		s, err := managed.NewCodeDeploy(ctx, cd, shopSpec(weightGate{r: e.router, fail: 10}), managed.Options{})
		must(t, err)
		plan, err := cutover.Sequence("shop release 2", s)
		must(t, err)
		_, err = cutover.NewRunner(cutover.NewMemJournal(), runnerOpts()).Run(ctx, "shop-2", plan)
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.As(err, &gf) || gf.Gate != "green error rate" || gf.Stage != "codedeploy shift" {
			t.Fatalf("run: %v, want rolled back by the gate in the shift", err)
		}
		deps := e.sim.Deployments()
		if len(deps) != 2 || deps[0].Status != "Stopped" || !deps[0].RolledBack || deps[1].RollbackOf != deps[0].ID || deps[1].Status != "Succeeded" {
			t.Fatalf("deployments %+v, want the first stopped and its rollback succeeded", deps)
		}
		if g := e.router.green(); g != 0 {
			t.Errorf("green has %d%% after the rollback, want 0", g)
		}
		if n := e.sim.Calls("StopDeployment"); n != 1 {
			t.Errorf("StopDeployment called %d times, want 1", n)
		}
	})
}

// TestCodeDeployFailsOnItsOwn has CodeDeploy fail the deployment (its
// alarm): the library's view of the deployment fails, and the rollback
// waits for CodeDeploy's own rollback deployment.
func TestCodeDeployFailsOnItsOwn(t *testing.T) {
	e := newEnv(t)
	must(t, e.sim.AddDeploymentGroup(shopGroup(e, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes")))
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cd, _ := e.clients()
		alarm := cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			if d := e.latest(t); e.router.green() >= 30 && d.Status == "InProgress" {
				must(t, e.sim.FailDeployment(d.ID, "alarm shop-5xx in ALARM"))
			}
			return cutover.Verdict{Decision: cutover.Pass}, nil
		})
		s, err := managed.NewCodeDeploy(ctx, cd, shopSpec(alarm), managed.Options{})
		must(t, err)
		plan, err := cutover.Sequence("shop release 2", s)
		must(t, err)
		_, err = cutover.NewRunner(cutover.NewMemJournal(), runnerOpts()).Run(ctx, "shop-2", plan)
		var gf *cutover.GateFailedError
		if !errors.Is(err, cutover.ErrRolledBack) || !errors.As(err, &gf) || gf.Gate != "codedeploy deployment" ||
			!strings.Contains(gf.Verdict.Reason, "ALARM_ACTIVE") {
			t.Fatalf("run: %v, want rolled back by the deployment's own failure", err)
		}
		if n := e.sim.Calls("StopDeployment"); n != 0 {
			t.Errorf("StopDeployment called %d times on a failed deployment, want 0", n)
		}
		if g := e.router.green(); g != 0 {
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
			e := newEnv(t)
			must(t, e.sim.AddDeploymentGroup(shopGroup(e, "CodeDeployDefault.ECSLinear10PercentEvery3Minutes")))
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				cd, _ := e.clients()
				j := cutover.NewMemJournal()
				plan := func() cutover.Plan { // each process builds its own
					s, err := managed.NewCodeDeploy(ctx, cd, shopSpec(weightGate{r: e.router}), managed.Options{})
					must(t, err)
					p, err := cutover.Sequence("shop release 2", s)
					must(t, err)
					return p
				}
				_, err := cutover.NewRunner(&dying{Journal: j, die: tc.die}, runnerOpts()).Run(ctx, "shop-2", plan())
				if !errors.Is(err, errKilled) {
					t.Fatalf("first run: %v, want it killed", err)
				}
				if n := len(e.sim.Deployments()); n != 1 {
					t.Fatalf("%d deployments after the first run, want 1", n)
				}
				time.Sleep(2 * time.Minute) // the process restarts
				approve(t, j, "shop-2")
				st, err := cutover.NewRunner(j, runnerOpts()).Run(ctx, "shop-2", plan())
				if err != nil {
					t.Fatalf("resumed run: %v", err)
				}
				d := e.latest(t)
				if n := e.sim.Calls("CreateDeployment"); n != 1 {
					t.Errorf("CreateDeployment called %d times, want 1", n)
				}
				if got := data(st, "codedeploy shift", "deployment"); d.Status != "Succeeded" || got != d.ID {
					t.Errorf("deployment %+v, journaled %q; want it succeeded and journaled", d, got)
				}
			})
		})
	}
}
