package managed_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
)

// fullARNs answers DescribeServices as ECS does: the service's task
// definition is always its full ARN, whatever form UpdateService was given.
type fullARNs struct{ managed.ECSAPI }

func (c fullARNs) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	out, err := c.ECSAPI.DescribeServices(ctx, in, optFns...)
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

// TestReviewECSFamilyRevisionResumed deploys a task definition given as
// family:revision (as ECSSpec.TaskDefinition allows), and resumes the
// cutover in a new process for the approved bake: the new process must
// find the service deployment although ECS reports the task definition by
// its ARN, and complete.
func TestReviewECSFamilyRevisionResumed(t *testing.T) {
	e := newEnv(t)
	must(t, e.sim.AddService(webService(e)))
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		_, ec := e.clients()
		spec := webSpec(managed.Canary, weightGate{r: e.router})
		spec.TaskDefinition = "web:2"
		j := cutover.NewMemJournal()
		_, err := cutover.NewRunner(j, runnerOpts()).Run(ctx, "web-2", ecsPlan(t, fullARNs{ec}, spec))
		if !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("first run: %v, want ErrPNRNotApproved", err)
		}
		approve(t, j, "web-2")
		// A new process: a new strategy and runner over the same journal.
		st, err := cutover.NewRunner(j, runnerOpts()).Run(ctx, "web-2", ecsPlan(t, fullARNs{ec}, spec))
		if err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("resumed run: phase %s, %v; want completed", st.Phase, err)
		}
		if d := e.latest(t); d.Status != "SUCCESSFUL" {
			t.Errorf("deployment %+v, want SUCCESSFUL", d)
		}
		if got := e.sim.Calls("UpdateService"); got != 1 {
			t.Errorf("UpdateService called %d times, want 1", got)
		}
	})
}

// endlessList pages ListDeployments forever, as a group with more
// deployments than the library will page through would.
type endlessList struct{ managed.CodeDeployAPI }

func (endlessList) ListDeployments(context.Context, *codedeploy.ListDeploymentsInput, ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error) {
	return &codedeploy.ListDeploymentsOutput{NextToken: aws.String("more")}, nil
}

// TestReviewCodeDeployListNotTruncated: when the group's deployments
// cannot all be listed, the check for one already in progress must not
// pass as if there were none: no deployment is created.
func TestReviewCodeDeployListNotTruncated(t *testing.T) {
	e := newEnv(t)
	must(t, e.sim.AddDeploymentGroup(shopGroup(e, "CodeDeployDefault.ECSCanary10Percent5Minutes")))
	synctest.Test(t, func(t *testing.T) {
		cd, _ := e.clients()
		plan := cdPlan(t, endlessList{cd}, shopSpec(weightGate{r: e.router}))
		_, err := cutover.NewRunner(cutover.NewMemJournal(), runnerOpts()).Run(t.Context(), "shop-2", plan)
		if err == nil || !strings.Contains(err.Error(), "pages") {
			t.Errorf("run: %v, want an error saying the deployments could not all be listed", err)
		}
		if n := e.sim.Calls("CreateDeployment"); n != 0 {
			t.Errorf("CreateDeployment called %d times, want 0", n)
		}
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

// TestReviewCodeDeployFoundByToken: a deployment whose creation answer was
// lost is found again by the cutover's journaled token, with one listing
// of the few minutes around it — no second deployment, no history read.
func TestReviewCodeDeployFoundByToken(t *testing.T) {
	e := newEnv(t)
	must(t, e.sim.AddDeploymentGroup(shopGroup(e, "CodeDeployDefault.ECSCanary10Percent5Minutes")))
	synctest.Test(t, func(t *testing.T) {
		cd, _ := e.clients()
		lc := &lostCreate{CodeDeployAPI: cd}
		plan := cdPlan(t, lc, shopSpec(weightGate{r: e.router}))
		j := cutover.NewMemJournal()
		opts := approvingOpts(t, j, "shop-2")
		opts.ApplyAttempts = 2
		opts.Transient = providers.IsTransient
		if _, err := cutover.NewRunner(j, opts).Run(t.Context(), "shop-2", plan); err != nil {
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
