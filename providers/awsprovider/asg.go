package awsprovider

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/providers"
)

// AutoScalingAPI is the part of *autoscaling.Client an ASGFleet uses.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	UpdateAutoScalingGroup(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
	SuspendProcesses(ctx context.Context, in *autoscaling.SuspendProcessesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SuspendProcessesOutput, error)
	ResumeProcesses(ctx context.Context, in *autoscaling.ResumeProcessesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.ResumeProcessesOutput, error)
}

var _ AutoScalingAPI = (*autoscaling.Client)(nil)

// ASGOptions configures an ASGFleet. The zero value is valid.
type ASGOptions struct {
	// Logger receives debug and info logs; nil means none.
	Logger *zap.Logger
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
	// TargetHealth, if set, is asked about the group's attached target
	// groups: an instance counts as healthy only when it is also healthy
	// in every target group attached to the group. Nil means the group's
	// own health checks decide (for a group whose health check type is
	// ELB, they include the load balancer's already).
	TargetHealth TargetHealthAPI
	// SuspendAtZero are scaling processes (Launch, AlarmNotification,
	// ScheduledActions, AZRebalance, ...) suspended once the group is set
	// to 0, so nothing launches into a retired group, and resumed before it
	// is set above 0 again. Terminate, HealthCheck and ReplaceUnhealthy are
	// refused: the first would keep the instances running, the others are
	// how a live group heals. Empty means suspend nothing.
	SuspendAtZero []string
}

// asgProcesses are the scaling processes SuspendAtZero may name.
var asgProcesses = []string{"Launch", "AddToLoadBalancer", "AlarmNotification", "AZRebalance",
	"InstanceRefresh", "ScheduledActions"}

// ASGFleet is a providers.Fleet over the desired capacity of an EC2 Auto
// Scaling group.
//
// SetDesired sets the desired capacity with one UpdateAutoScalingGroup
// call that also keeps the group's minimum and maximum consistent: the
// minimum is lowered to n when n is below it, the maximum raised to n when
// n is above it, and both are restored to what the fleet first saw once n
// is back within them — so a revert to the original capacity restores the
// original bounds. The bounds first seen are remembered by this value: a
// new ASGFleet (a resumed process) takes the bounds it finds as the
// original ones.
//
// SetDesired respects scale-in protection: asking for fewer instances than
// are protected from scale-in is an error, before any call changes the
// group, naming the protected instances (the protection is never
// removed). Lifecycle hooks are respected too: an instance waiting in a
// hook (Pending:Wait, Terminating:Wait) is running but not healthy, and
// the fleet never completes a lifecycle action itself.
//
// Capacity reads the group: Desired is its desired capacity; Running
// counts its instances that are launching, in service or terminating (not
// those in standby, detached or terminated); Healthy counts those
// InService and Healthy — and, with Options.TargetHealth, healthy in every
// attached target group.
//
// An ASGFleet is safe for concurrent use.
type ASGFleet struct {
	awsBase
	client  AutoScalingAPI
	elb     TargetHealthAPI
	name    string
	suspend []string

	mu     sync.Mutex
	bounds *[2]int // min, max first seen; nil until the first SetDesired
}

var _ providers.Fleet = (*ASGFleet)(nil)

// NewASGFleet returns the fleet of the Auto Scaling group name. The client
// is usually an *autoscaling.Client.
func NewASGFleet(client AutoScalingAPI, name string, opts ASGOptions) (*ASGFleet, error) {
	if client == nil {
		return nil, fmt.Errorf("auto scaling fleet: nil client")
	}
	if name == "" || len(name) > 255 {
		return nil, fmt.Errorf("auto scaling fleet: group name %q: want 1–255 characters", name)
	}
	for _, p := range opts.SuspendAtZero {
		if !slices.Contains(asgProcesses, p) {
			return nil, fmt.Errorf("auto scaling fleet %s: SuspendAtZero: process %q: want one of %s", name, p, strings.Join(asgProcesses, ", "))
		}
	}
	f := &ASGFleet{
		awsBase: newAWSBase(opts.Logger, nil, opts.Pacer), // no waits: no clock
		client:  client, elb: opts.TargetHealth, name: name, suspend: slices.Clone(opts.SuspendAtZero),
	}
	f.log = f.log.With(zap.String("autoScalingGroup", name))
	return f, nil
}

// String names the group: "auto scaling group web-asg".
func (f *ASGFleet) String() string { return "auto scaling group " + f.name }

// SetDesired sets the group's desired capacity (and, if needed, its
// bounds) with one UpdateAutoScalingGroup call; see ASGFleet.
func (f *ASGFleet) SetDesired(ctx context.Context, n int) error {
	if n < 0 || n > math.MaxInt32 {
		return fmt.Errorf("%s: set desired %d: want 0–%d", f, n, math.MaxInt32)
	}
	g, err := f.describe(ctx)
	if err != nil {
		return fmt.Errorf("%s: set desired %d: %w", f, n, err)
	}
	var protected []string
	for _, in := range g.Instances {
		if aws.ToBool(in.ProtectedFromScaleIn) && asgRunning(in.LifecycleState) {
			protected = append(protected, aws.ToString(in.InstanceId))
		}
	}
	if len(protected) > n {
		return fmt.Errorf("%s: set desired %d: %d instances are protected from scale-in (%s); remove their protection to scale below %d",
			f, n, len(protected), strings.Join(protected, ", "), len(protected))
	}
	f.mu.Lock()
	if f.bounds == nil {
		f.bounds = &[2]int{int(aws.ToInt32(g.MinSize)), int(aws.ToInt32(g.MaxSize))}
	}
	lo, hi := min(f.bounds[0], n), max(f.bounds[1], n)
	f.mu.Unlock()
	if n > 0 && len(f.suspend) > 0 {
		if err := f.processes(ctx, false); err != nil {
			return fmt.Errorf("%s: set desired %d: %w", f, n, err)
		}
	}
	if err := f.pace(ctx, "UpdateAutoScalingGroup"); err != nil {
		return err
	}
	_, err = f.client.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(f.name),
		MinSize:              aws.Int32(int32(lo)),
		MaxSize:              aws.Int32(int32(hi)),
		DesiredCapacity:      aws.Int32(int32(n)),
	})
	if err != nil {
		return fmt.Errorf("%s: set desired %d (min %d, max %d): UpdateAutoScalingGroup: %w", f, n, lo, hi, err)
	}
	if n == 0 && len(f.suspend) > 0 {
		if err := f.processes(ctx, true); err != nil {
			return fmt.Errorf("%s: set desired 0: %w", f, err)
		}
	}
	f.log.Info("desired capacity set", zap.Int("desired", n), zap.Int("min", lo), zap.Int("max", hi))
	return nil
}

// processes suspends or resumes SuspendAtZero.
func (f *ASGFleet) processes(ctx context.Context, suspend bool) error {
	op := "ResumeProcesses"
	if suspend {
		op = "SuspendProcesses"
	}
	if err := f.pace(ctx, op); err != nil {
		return err
	}
	var err error
	if suspend {
		_, err = f.client.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: aws.String(f.name), ScalingProcesses: f.suspend})
	} else {
		_, err = f.client.ResumeProcesses(ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: aws.String(f.name), ScalingProcesses: f.suspend})
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, strings.Join(f.suspend, ","), err)
	}
	return nil
}

// Capacity reads the group with one DescribeAutoScalingGroups call (and,
// with Options.TargetHealth, one DescribeTargetHealth call per attached
// target group).
func (f *ASGFleet) Capacity(ctx context.Context) (providers.Capacity, error) {
	g, err := f.describe(ctx)
	if err != nil {
		return providers.Capacity{}, err
	}
	c := providers.Capacity{Desired: int(aws.ToInt32(g.DesiredCapacity))}
	var inTG map[string]bool
	if f.elb != nil && len(g.TargetGroupARNs) > 0 {
		if inTG, err = f.healthyInTargetGroups(ctx, g.TargetGroupARNs); err != nil {
			return providers.Capacity{}, err
		}
	}
	for _, in := range g.Instances {
		if !asgRunning(in.LifecycleState) {
			continue
		}
		c.Running++
		id := aws.ToString(in.InstanceId)
		if in.LifecycleState == astypes.LifecycleStateInService && aws.ToString(in.HealthStatus) == "Healthy" && (inTG == nil || inTG[id]) {
			c.Healthy++
		}
	}
	return c, nil
}

// asgRunning reports whether an instance in state s runs as part of the
// group: launching, in service, or terminating.
func asgRunning(s astypes.LifecycleState) bool {
	switch s {
	case astypes.LifecycleStatePending, astypes.LifecycleStatePendingWait, astypes.LifecycleStatePendingProceed,
		astypes.LifecycleStateInService,
		astypes.LifecycleStateTerminating, astypes.LifecycleStateTerminatingWait, astypes.LifecycleStateTerminatingProceed:
		return true
	}
	return false
}

// describe reads the group; a group that does not exist or is being
// deleted is an error.
func (f *ASGFleet) describe(ctx context.Context) (astypes.AutoScalingGroup, error) {
	if err := f.pace(ctx, "DescribeAutoScalingGroups"); err != nil {
		return astypes.AutoScalingGroup{}, err
	}
	out, err := f.client.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{f.name}})
	if err != nil {
		return astypes.AutoScalingGroup{}, fmt.Errorf("%s: DescribeAutoScalingGroups: %w", f, err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) != f.name {
			continue
		}
		if st := aws.ToString(g.Status); st != "" {
			return g, fmt.Errorf("%s: group is %q", f, st)
		}
		return g, nil
	}
	return astypes.AutoScalingGroup{}, fmt.Errorf("%s: DescribeAutoScalingGroups: group not found", f)
}

// healthyInTargetGroups returns the instances healthy in every one of tgs.
func (f *ASGFleet) healthyInTargetGroups(ctx context.Context, tgs []string) (map[string]bool, error) {
	count := map[string]int{}
	for _, tg := range tgs {
		if err := f.pace(ctx, "DescribeTargetHealth"); err != nil {
			return nil, err
		}
		out, err := f.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			return nil, fmt.Errorf("%s: target group %s: DescribeTargetHealth: %w", f, tg, err)
		}
		seen := map[string]bool{} // an instance registered on two ports counts once
		for _, d := range out.TargetHealthDescriptions {
			if d.Target == nil || d.TargetHealth == nil || d.TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy {
				continue
			}
			if id := aws.ToString(d.Target.Id); !seen[id] {
				seen[id] = true
				count[id]++
			}
		}
	}
	healthy := map[string]bool{}
	for id, n := range count {
		if n == len(tgs) {
			healthy[id] = true
		}
	}
	return healthy, nil
}
