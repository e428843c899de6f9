package awsprovider

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// ECSAPI is the part of *ecs.Client an ECSFleet uses.
type ECSAPI interface {
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
}

var _ ECSAPI = (*ecs.Client)(nil)

// ECSOptions configures an ECSFleet. The zero value is valid.
type ECSOptions struct {
	// Logger receives debug and info logs; nil means none.
	Logger *zap.Logger
	// Clock paces WaitSteady; nil means the wall clock.
	Clock cutover.Clock
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
	// CallTimeout bounds each attempt of each API call; a timed-out
	// attempt is retried by the client's retryer. ≥ 0; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// Timeout bounds WaitSteady. Zero means 15 minutes.
	Timeout time.Duration
	// PollInterval is the time between DescribeServices calls in
	// WaitSteady. Zero means 15s.
	PollInterval time.Duration
}

// ECSFleet is a providers.Fleet over the desired count of an ECS service.
//
// Capacity reads the service: Desired and Running are the service's
// counts; Healthy is Running when the service is steady — its primary
// deployment's rollout is COMPLETED (or, for deployment controllers that
// report no rollout state, it is the only deployment and runs its desired
// count) — and 0 while a deployment is rolling out or failed, because
// until then ECS has not confirmed the new tasks healthy. Changing only
// the desired count does not start a deployment.
//
// An ECSFleet is safe for concurrent use.
type ECSFleet struct {
	awsBase
	client  ECSAPI
	cluster string
	service string
	timeout time.Duration
	poll    time.Duration
}

var _ providers.Fleet = (*ECSFleet)(nil)

// NewECSFleet returns the fleet of the ECS service service (name or ARN)
// in cluster (name or ARN; "" means the default cluster). The client is
// usually an *ecs.Client.
func NewECSFleet(client ECSAPI, cluster, service string, opts ECSOptions) (*ECSFleet, error) {
	if client == nil {
		return nil, fmt.Errorf("ecs fleet: nil client")
	}
	if service == "" {
		return nil, fmt.Errorf("ecs fleet: service is empty")
	}
	if len(service) > 2048 || len(cluster) > 2048 {
		return nil, fmt.Errorf("ecs fleet: service or cluster longer than 2048 characters")
	}
	timeout, err := durationOr("ecs fleet: Timeout", opts.Timeout, 15*time.Minute)
	if err != nil {
		return nil, err
	}
	poll, err := durationOr("ecs fleet: PollInterval", opts.PollInterval, 15*time.Second)
	if err != nil {
		return nil, err
	}
	f := &ECSFleet{
		awsBase: newAWSBase(opts.Logger, opts.Clock, opts.Pacer),
		client:  client, cluster: cluster, service: service, timeout: timeout, poll: poll,
	}
	if err := f.setCallTimeout("ecs fleet: CallTimeout", opts.CallTimeout); err != nil {
		return nil, err
	}
	f.log = f.log.With(zap.String("cluster", cluster), zap.String("service", service))
	return f, nil
}

// String names the service: "ecs service web in cluster prod".
func (f *ECSFleet) String() string {
	if f.cluster == "" {
		return "ecs service " + f.service
	}
	return fmt.Sprintf("ecs service %s in cluster %s", f.service, f.cluster)
}

func (f *ECSFleet) clusterPtr() *string {
	if f.cluster == "" {
		return nil
	}
	return aws.String(f.cluster)
}

// SetDesired sets the service's desired count with one UpdateService call.
func (f *ECSFleet) SetDesired(ctx context.Context, n int) error {
	if n < 0 || n > math.MaxInt32 {
		return fmt.Errorf("%s: set desired %d: must be 0–%d", f, n, math.MaxInt32)
	}
	if err := f.pace(ctx, "UpdateService"); err != nil {
		return err
	}
	_, err := f.client.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster:      f.clusterPtr(),
		Service:      aws.String(f.service),
		DesiredCount: aws.Int32(int32(n)),
	}, f.ecsOpt)
	if err != nil {
		return fmt.Errorf("%s: set desired %d: UpdateService: %w", f, n, err)
	}
	f.log.Info("desired count set", zap.Int("desired", n))
	return nil
}

// Capacity reads the service with one DescribeServices call.
func (f *ECSFleet) Capacity(ctx context.Context) (providers.Capacity, error) {
	c, _, _, err := f.capacity(ctx)
	return c, err
}

// capacity reads the service: its counts, whether it is steady, and why its
// primary deployment failed if it did.
func (f *ECSFleet) capacity(ctx context.Context) (c providers.Capacity, steady bool, failed string, err error) {
	if err := f.pace(ctx, "DescribeServices"); err != nil {
		return c, false, "", err
	}
	out, err := f.client.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster:  f.clusterPtr(),
		Services: []string{f.service},
	}, f.ecsOpt)
	if err != nil {
		return c, false, "", fmt.Errorf("%s: DescribeServices: %w", f, err)
	}
	for _, fl := range out.Failures {
		return c, false, "", fmt.Errorf("%s: DescribeServices: %s %s", f, aws.ToString(fl.Reason), aws.ToString(fl.Detail))
	}
	if len(out.Services) != 1 {
		return c, false, "", fmt.Errorf("%s: DescribeServices: service not found", f)
	}
	svc := out.Services[0]
	if st := aws.ToString(svc.Status); st != "" && st != "ACTIVE" {
		return c, false, "", fmt.Errorf("%s: service is %s", f, st)
	}
	c = providers.Capacity{Desired: int(svc.DesiredCount), Running: int(svc.RunningCount)}
	steady, failed = ecsSteady(svc)
	if steady {
		c.Healthy = c.Running
	}
	return c, steady, failed, nil
}

// ecsSteady reports whether the primary deployment has finished, and why
// it failed if it did.
func ecsSteady(svc ecstypes.Service) (steady bool, failed string) {
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) != "PRIMARY" {
			continue
		}
		switch d.RolloutState {
		case ecstypes.DeploymentRolloutStateCompleted:
			return true, ""
		case ecstypes.DeploymentRolloutStateFailed:
			return false, aws.ToString(d.RolloutStateReason)
		case "":
			return len(svc.Deployments) == 1 && d.RunningCount == d.DesiredCount, ""
		}
		return false, ""
	}
	return false, ""
}

// WaitSteady polls Capacity until the service is steady and runs its
// desired count, within Timeout; it returns the last capacity seen. A
// primary deployment whose rollout FAILED ends the wait with an error.
func (f *ECSFleet) WaitSteady(ctx context.Context) (providers.Capacity, error) {
	var c providers.Capacity
	what := f.String() + ": wait for steady state"
	err := f.pollUntil(ctx, what, f.timeout, f.poll, func(ctx context.Context) (bool, string, error) {
		var steady bool
		var failed string
		var err error
		c, steady, failed, err = f.capacity(ctx)
		if err == nil && failed != "" {
			err = fmt.Errorf("%s: primary deployment rollout FAILED: %s", f, failed)
		}
		status := fmt.Sprintf("desired %d running %d healthy %d", c.Desired, c.Running, c.Healthy)
		return err == nil && steady && c.Running == c.Desired, status, err
	})
	return c, err
}

// ecsOpt bounds each attempt of an ECS call by CallTimeout.
func (f *ECSFleet) ecsOpt(o *ecs.Options) { o.HTTPClient = f.bound(o.HTTPClient) }
