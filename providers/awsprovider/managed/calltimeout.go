package managed

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/safecutover/safecutover/providers/awsprovider/internal/awscall"
)

// DefaultCallTimeout bounds one attempt of each CodeDeploy or ECS call
// when Options.CallTimeout is zero; it is awsprovider's
// DefaultCallTimeout.
const DefaultCallTimeout = awscall.DefaultTimeout

// boundedCodeDeploy gives every attempt of every call of an SDK client
// the deadline of Options.CallTimeout (see awscall.Bound). A test double
// that takes no HTTP client ignores it.
type boundedCodeDeploy struct {
	c CodeDeployAPI
	t time.Duration
}

func (b boundedCodeDeploy) opt(fns []func(*codedeploy.Options)) []func(*codedeploy.Options) {
	return append(fns, func(o *codedeploy.Options) { o.HTTPClient = awscall.Bound(o.HTTPClient, b.t) })
}

func (b boundedCodeDeploy) GetDeploymentGroup(ctx context.Context, in *codedeploy.GetDeploymentGroupInput, fns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error) {
	return b.c.GetDeploymentGroup(ctx, in, b.opt(fns)...)
}

func (b boundedCodeDeploy) GetDeploymentConfig(ctx context.Context, in *codedeploy.GetDeploymentConfigInput, fns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentConfigOutput, error) {
	return b.c.GetDeploymentConfig(ctx, in, b.opt(fns)...)
}

func (b boundedCodeDeploy) CreateDeploymentConfig(ctx context.Context, in *codedeploy.CreateDeploymentConfigInput, fns ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentConfigOutput, error) {
	return b.c.CreateDeploymentConfig(ctx, in, b.opt(fns)...)
}

func (b boundedCodeDeploy) CreateDeployment(ctx context.Context, in *codedeploy.CreateDeploymentInput, fns ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentOutput, error) {
	return b.c.CreateDeployment(ctx, in, b.opt(fns)...)
}

func (b boundedCodeDeploy) GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, fns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	return b.c.GetDeployment(ctx, in, b.opt(fns)...)
}

func (b boundedCodeDeploy) GetDeploymentTarget(ctx context.Context, in *codedeploy.GetDeploymentTargetInput, fns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentTargetOutput, error) {
	return b.c.GetDeploymentTarget(ctx, in, b.opt(fns)...)
}

func (b boundedCodeDeploy) ListDeployments(ctx context.Context, in *codedeploy.ListDeploymentsInput, fns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error) {
	return b.c.ListDeployments(ctx, in, b.opt(fns)...)
}

func (b boundedCodeDeploy) ContinueDeployment(ctx context.Context, in *codedeploy.ContinueDeploymentInput, fns ...func(*codedeploy.Options)) (*codedeploy.ContinueDeploymentOutput, error) {
	return b.c.ContinueDeployment(ctx, in, b.opt(fns)...)
}

func (b boundedCodeDeploy) StopDeployment(ctx context.Context, in *codedeploy.StopDeploymentInput, fns ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error) {
	return b.c.StopDeployment(ctx, in, b.opt(fns)...)
}

// boundedECS is boundedCodeDeploy for ECS.
type boundedECS struct {
	c ECSDeploymentAPI
	t time.Duration
}

func (b boundedECS) opt(fns []func(*ecs.Options)) []func(*ecs.Options) {
	return append(fns, func(o *ecs.Options) { o.HTTPClient = awscall.Bound(o.HTTPClient, b.t) })
}

func (b boundedECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, fns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return b.c.DescribeServices(ctx, in, b.opt(fns)...)
}

func (b boundedECS) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, fns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	return b.c.UpdateService(ctx, in, b.opt(fns)...)
}

func (b boundedECS) DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, fns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error) {
	return b.c.DescribeServiceDeployments(ctx, in, b.opt(fns)...)
}

func (b boundedECS) ContinueServiceDeployment(ctx context.Context, in *ecs.ContinueServiceDeploymentInput, fns ...func(*ecs.Options)) (*ecs.ContinueServiceDeploymentOutput, error) {
	return b.c.ContinueServiceDeployment(ctx, in, b.opt(fns)...)
}

func (b boundedECS) StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, fns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error) {
	return b.c.StopServiceDeployment(ctx, in, b.opt(fns)...)
}

// boundedServices is boundedECS for the CodeDeploy service check.
type boundedServices struct {
	c ServiceDescriber
	t time.Duration
}

func (b boundedServices) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, fns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return b.c.DescribeServices(ctx, in, boundedECS{t: b.t}.opt(fns)...)
}
