package managed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
)

// CodeDeployAPI is the part of *codedeploy.Client a CodeDeploy deployment
// calls. A *codedeploy.Client satisfies it; so does a test double.
type CodeDeployAPI interface {
	GetDeploymentGroup(ctx context.Context, in *codedeploy.GetDeploymentGroupInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error)
	GetDeploymentConfig(ctx context.Context, in *codedeploy.GetDeploymentConfigInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentConfigOutput, error)
	CreateDeploymentConfig(ctx context.Context, in *codedeploy.CreateDeploymentConfigInput, optFns ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentConfigOutput, error)
	CreateDeployment(ctx context.Context, in *codedeploy.CreateDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentOutput, error)
	GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error)
	GetDeploymentTarget(ctx context.Context, in *codedeploy.GetDeploymentTargetInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentTargetOutput, error)
	ListDeployments(ctx context.Context, in *codedeploy.ListDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error)
	ContinueDeployment(ctx context.Context, in *codedeploy.ContinueDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ContinueDeploymentOutput, error)
	StopDeployment(ctx context.Context, in *codedeploy.StopDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error)
}

var _ CodeDeployAPI = (*codedeploy.Client)(nil)

// ServiceDescriber is the part of *ecs.Client used to check that an ECS
// service is set up for a deployment.
type ServiceDescriber interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
}

var _ ServiceDescriber = (*ecs.Client)(nil)

// CodeDeploySpec describes one CodeDeploy ECS blue/green deployment.
type CodeDeploySpec struct {
	// Name prefixes the stage names ("codedeploy shift"). Default
	// "codedeploy".
	Name string
	// Application and DeploymentGroup name the CodeDeploy deployment group.
	// It must be an ECS blue/green group with traffic control, one ECS
	// service, a target group pair with a production listener, and
	// TERMINATE of the original task set after a termination wait. Required.
	Application     string
	DeploymentGroup string
	// TaskDefinition is the ARN of the task definition to deploy. Required.
	TaskDefinition string
	// ContainerName and ContainerPort name the container and port the load
	// balancer sends traffic to. Required.
	ContainerName string
	ContainerPort int
	// PlatformVersion is the Fargate platform version; empty leaves it out.
	PlatformVersion string
	// Hooks name Lambda functions for the AppSpec's hooks.
	Hooks AppSpecHooks
	// DeploymentConfig names the deployment config: a predefined one such
	// as "CodeDeployDefault.ECSCanary10Percent5Minutes", or a custom one.
	// Empty means the deployment group's.
	DeploymentConfig string
	// Traffic, if set, is the custom time-based shift DeploymentConfig
	// stands for: the config is created when it does not exist, and must
	// match when it does. DeploymentConfig is required with it.
	Traffic *Traffic
	// Description is added to the deployment's description.
	Description string
	// Gates are judged while traffic shifts and during the termination
	// wait. A Fail stops the deployment with rollback.
	Gates []cutover.Gate
	// Comparative gates are judged only while traffic shifts, when both
	// task sets take traffic (the sequential judge of green against blue).
	Comparative []cutover.Gate
	// Bake is how long the gates are judged in the termination wait before
	// the point of no return may be crossed; it must be shorter than the
	// rollback window. Zero: until every gate has a verdict.
	Bake time.Duration
	// Services, if set, is used to check that the deployment group's ECS
	// service uses the CODE_DEPLOY deployment controller.
	Services ServiceDescriber
	// TerminateEarly adds the stage "<name> terminate blue", which ends the
	// termination wait at once (ContinueDeployment with TERMINATION_WAIT)
	// and waits for the deployment to succeed. It is irreversible, a second
	// point of no return right after the first, so it needs an approval of
	// its own or one that names no stage. Without it, the plan ends with
	// the approved termination wait and CodeDeploy terminates the original
	// task set when the wait runs out.
	TerminateEarly bool
}

func (s *CodeDeploySpec) validate() error {
	for _, f := range []struct{ name, v string }{
		{"Application", s.Application}, {"DeploymentGroup", s.DeploymentGroup},
		{"TaskDefinition", s.TaskDefinition}, {"ContainerName", s.ContainerName},
	} {
		if f.v == "" {
			return fmt.Errorf("CodeDeploySpec.%s: required", f.name)
		}
	}
	if s.ContainerPort < 1 || s.ContainerPort > 65535 {
		return fmt.Errorf("CodeDeploySpec.ContainerPort: %d outside 1–65535", s.ContainerPort)
	}
	if s.Traffic != nil {
		if s.DeploymentConfig == "" {
			return errors.New("CodeDeploySpec.DeploymentConfig: required with Traffic (the name of the config to create)")
		}
		if err := s.Traffic.validate(); err != nil {
			return fmt.Errorf("CodeDeploySpec.%w", err)
		}
	}
	if s.Bake < 0 {
		return fmt.Errorf("CodeDeploySpec.Bake: %s is negative", s.Bake)
	}
	if err := checkGates("CodeDeploySpec", s.Gates, s.Comparative); err != nil {
		return err
	}
	if s.Name == "" {
		s.Name = "codedeploy"
	}
	return nil
}

// Journal keys of stage data (see cutover.Remember).
const (
	keyDeployment = "deployment"   // CodeDeploy deployment ID or ECS service deployment ARN
	keyToken      = "token"        // marks a CreateDeployment request: "<unix seconds>-<random>"
	keyRequested  = "requested"    // marks an UpdateService request: unix seconds
	keyContinued  = "continued"    // when the bake was continued into: unix seconds
	descPrefix    = "safecutover " // the deployment description starts with it and the token
)

// CodeDeploy is a CodeDeploy ECS blue/green deployment as stages. It is a
// cutover.Strategy:
//
//   - "<name> shift" (reversible) creates the deployment, or finds the one
//     it journaled, and bakes while CodeDeploy shifts traffic by the
//     deployment config, the gates judging throughout. It passes once all
//     traffic is on the replacement task set and the gates pass.
//   - "<name> termination wait" (reversible within the termination wait
//     less Options.WindowMargin) keeps judging while the original task set
//     waits to be terminated. It is the point of no return: CodeDeploy
//     terminates the original task set when the wait runs out, so the
//     runner needs an approval in the journal before the window closes,
//     and rolls back while it still can without one.
//   - with TerminateEarly, "<name> terminate blue" (irreversible, approved)
//     ends the wait with ContinueDeployment(TERMINATION_WAIT) and waits for
//     the deployment to succeed.
//
// Reverting any stage stops the deployment with auto-rollback and waits,
// bounded, for the rollback deployment to succeed.
type CodeDeploy struct {
	client CodeDeployAPI
	spec   CodeDeploySpec
	opts   Options
	log    *zap.Logger

	group, config   string // resource names for messages
	configName      string
	createConfig    bool
	shift           time.Duration
	termWait        time.Duration
	prepared        bool // Prepare succeeded
	manualReroute   bool
	readyWait       time.Duration
	cluster, svc    string
	appSpec, digest string

	mu sync.Mutex
	id string
}

var _ cutover.Strategy = (*CodeDeploy)(nil)

// NewCodeDeploy checks spec and opts and returns the deployment; it makes
// no call. Prepare reads the deployment group and config it names before
// Stages can build the plan. Bad input is an error naming the field.
func NewCodeDeploy(client CodeDeployAPI, spec CodeDeploySpec, opts Options) (*CodeDeploy, error) {
	opts, err := checkNew("codedeploy", client, opts)
	if err != nil {
		return nil, err
	}
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("codedeploy: %w", err)
	}
	spec.Gates, spec.Comparative = slices.Clone(spec.Gates), slices.Clone(spec.Comparative)
	client = boundedCodeDeploy{c: client, t: opts.CallTimeout}
	if spec.Services != nil {
		spec.Services = boundedServices{c: spec.Services, t: opts.CallTimeout}
	}
	c := &CodeDeploy{
		client: client, spec: spec, opts: opts,
		group: fmt.Sprintf("codedeploy deployment group %q of application %q", spec.DeploymentGroup, spec.Application),
	}
	c.log = opts.Logger.With(zap.String("application", spec.Application), zap.String("deployment_group", spec.DeploymentGroup))
	c.appSpec = appSpec(spec.TaskDefinition, spec.ContainerName, spec.ContainerPort, spec.PlatformVersion, spec.Hooks)
	c.digest = sha256hex(c.appSpec)
	return c, nil
}

// Prepare reads the deployment group, the deployment config and (with
// CodeDeploySpec.Services) the service, and checks that they are set up
// for ECS blue/green with a rollback window longer than the bake. Errors
// name the field or resource and unwrap to ErrInvalidSetup. Call it once,
// before Stages; nothing is journaled or changed.
func (c *CodeDeploy) Prepare(ctx context.Context) error {
	if err := c.inspectGroup(ctx); err != nil {
		return err
	}
	if err := c.inspectConfig(ctx); err != nil {
		return err
	}
	if c.spec.Services != nil {
		if err := c.inspectService(ctx); err != nil {
			return err
		}
	}
	w := c.Window()
	if w <= 0 {
		return &SetupError{Resource: c.group,
			Field: "blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess.terminationWaitTimeInMinutes",
			Msg:   fmt.Sprintf("termination wait %s leaves no rollback window after Options.WindowMargin %s; lengthen it (at most 2880 minutes)", c.termWait, c.opts.WindowMargin)}
	}
	if c.spec.Bake >= w {
		return fmt.Errorf("codedeploy: CodeDeploySpec.Bake: %s is not shorter than the rollback window %s (termination wait %s less WindowMargin %s)", c.spec.Bake, w, c.termWait, c.opts.WindowMargin)
	}
	c.prepared = true
	return nil
}

// Window is the rollback window declared to the runner: the deployment
// group's termination wait less Options.WindowMargin.
func (c *CodeDeploy) Window() time.Duration { return c.termWait - c.opts.WindowMargin }

// ShiftDuration is how long the deployment config takes to shift all
// traffic once shifting has begun.
func (c *CodeDeploy) ShiftDuration() time.Duration { return c.shift }

// DeploymentID returns the ID of the deployment this process started or
// found, or "" if none yet.
func (c *CodeDeploy) DeploymentID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

func (c *CodeDeploy) setID(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id = id
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (c *CodeDeploy) inspectGroup(ctx context.Context) error {
	out, err := c.client.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{
		ApplicationName: aws.String(c.spec.Application), DeploymentGroupName: aws.String(c.spec.DeploymentGroup),
	})
	if err != nil {
		switch apiCode(err) {
		case "DeploymentGroupDoesNotExistException", "ApplicationDoesNotExistException":
			return &SetupError{Resource: c.group, Msg: "does not exist", Err: err}
		}
		return fmt.Errorf("get %s: %w", c.group, err)
	}
	g := out.DeploymentGroupInfo
	if g == nil {
		return &SetupError{Resource: c.group, Msg: "GetDeploymentGroup returned no group"}
	}
	if g.ComputePlatform != cdtypes.ComputePlatformEcs {
		return &SetupError{Resource: c.group, Field: "computePlatform", Msg: fmt.Sprintf("is %q, want ECS", g.ComputePlatform)}
	}
	if st := g.DeploymentStyle; st == nil || st.DeploymentType != cdtypes.DeploymentTypeBlueGreen || st.DeploymentOption != cdtypes.DeploymentOptionWithTrafficControl {
		return &SetupError{Resource: c.group, Field: "deploymentStyle", Msg: "want BLUE_GREEN with WITH_TRAFFIC_CONTROL"}
	}
	if len(g.EcsServices) != 1 || deref(g.EcsServices[0].ServiceName) == "" {
		return &SetupError{Resource: c.group, Field: "ecsServices", Msg: fmt.Sprintf("has %d services, want exactly 1", len(g.EcsServices))}
	}
	c.cluster, c.svc = deref(g.EcsServices[0].ClusterName), deref(g.EcsServices[0].ServiceName)
	lb := g.LoadBalancerInfo
	if lb == nil || len(lb.TargetGroupPairInfoList) == 0 || len(lb.TargetGroupPairInfoList[0].TargetGroups) != 2 {
		return &SetupError{Resource: c.group, Field: "loadBalancerInfo.targetGroupPairInfoList",
			Msg: "missing target groups: ECS blue/green needs a pair of two target groups"}
	}
	if pr := lb.TargetGroupPairInfoList[0].ProdTrafficRoute; pr == nil || len(pr.ListenerArns) == 0 {
		return &SetupError{Resource: c.group, Field: "loadBalancerInfo.targetGroupPairInfoList[0].prodTrafficRoute",
			Msg: "no production listener"}
	}
	bg := g.BlueGreenDeploymentConfiguration
	if bg == nil || bg.TerminateBlueInstancesOnDeploymentSuccess == nil ||
		bg.TerminateBlueInstancesOnDeploymentSuccess.Action != cdtypes.InstanceActionTerminate {
		return &SetupError{Resource: c.group, Field: "blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess.action",
			Msg: "want TERMINATE after a termination wait: terminating the original task set is the point of no return this library guards"}
	}
	c.termWait = time.Duration(bg.TerminateBlueInstancesOnDeploymentSuccess.TerminationWaitTimeInMinutes) * time.Minute
	if ro := bg.DeploymentReadyOption; ro != nil && ro.ActionOnTimeout == cdtypes.DeploymentReadyActionStopDeployment {
		c.manualReroute = true
		c.readyWait = time.Duration(ro.WaitTimeInMinutes) * time.Minute
	}
	c.configName = c.spec.DeploymentConfig
	if c.configName == "" {
		c.configName = deref(g.DeploymentConfigName)
	}
	if c.configName == "" {
		c.configName = "CodeDeployDefault.ECSAllAtOnce"
	}
	return nil
}

func (c *CodeDeploy) inspectConfig(ctx context.Context) error {
	c.config = fmt.Sprintf("codedeploy deployment config %q", c.configName)
	out, err := c.client.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String(c.configName)})
	if err != nil {
		if apiCode(err) == "DeploymentConfigDoesNotExistException" {
			if c.spec.Traffic != nil {
				c.createConfig = true
				c.shift, _ = shiftDuration(c.spec.Traffic.routing())
				return nil
			}
			return &SetupError{Resource: c.config, Msg: fmt.Sprintf("does not exist (predefined for ECS: %s; or set Traffic to create a custom one)",
				strings.Join(PredefinedECSConfigs(), ", ")), Err: err}
		}
		return fmt.Errorf("get %s: %w", c.config, err)
	}
	info := out.DeploymentConfigInfo
	if info == nil {
		return &SetupError{Resource: c.config, Msg: "GetDeploymentConfig returned no config"}
	}
	if info.ComputePlatform != cdtypes.ComputePlatformEcs {
		return &SetupError{Resource: c.config, Field: "computePlatform", Msg: fmt.Sprintf("is %q, want ECS", info.ComputePlatform)}
	}
	if t := c.spec.Traffic; t != nil && !sameRouting(info.TrafficRoutingConfig, t.routing()) {
		return &SetupError{Resource: c.config, Field: "trafficRoutingConfig",
			Msg: fmt.Sprintf("is %s, but Traffic asks for %s", describeRouting(info.TrafficRoutingConfig), describeRouting(t.routing()))}
	}
	c.shift, err = shiftDuration(info.TrafficRoutingConfig)
	if err != nil {
		return &SetupError{Resource: c.config, Field: "trafficRoutingConfig", Msg: err.Error()}
	}
	return nil
}

func (c *CodeDeploy) inspectService(ctx context.Context) error {
	res := fmt.Sprintf("ecs service %q in cluster %q", c.svc, c.cluster)
	in := &ecs.DescribeServicesInput{Services: []string{c.svc}}
	if c.cluster != "" {
		in.Cluster = aws.String(c.cluster)
	}
	out, err := c.spec.Services.DescribeServices(ctx, in)
	if err != nil {
		if apiCode(err) == "ClusterNotFoundException" {
			return &SetupError{Resource: res, Msg: "cluster not found", Err: err}
		}
		return fmt.Errorf("describe %s: %w", res, err)
	}
	if len(out.Services) == 0 {
		return &SetupError{Resource: res, Msg: "not found"}
	}
	s := out.Services[0]
	if ct := s.DeploymentController; ct == nil || ct.Type != ecstypes.DeploymentControllerTypeCodeDeploy {
		typ := ecstypes.DeploymentControllerTypeEcs
		if ct != nil {
			typ = ct.Type
		}
		return &SetupError{Resource: res, Field: "deploymentController", Msg: fmt.Sprintf("is %s; CodeDeploy blue/green needs CODE_DEPLOY", typ)}
	}
	return nil
}

// Stages returns the stages described on CodeDeploy.
func (c *CodeDeploy) Stages() ([]cutover.Stage, error) {
	if !c.prepared {
		return nil, errors.New("codedeploy: Stages before Prepare: the rollback window comes from the deployment group; call Prepare(ctx) first")
	}
	n := c.spec.Name
	w := c.Window()
	st := []cutover.Stage{
		{
			Name:     n + " shift",
			Apply:    c.applyShift,
			Revert:   c.revert,
			Bake:     c.shift,
			Gates:    slices.Concat(c.spec.Gates, c.spec.Comparative, []cutover.Gate{cdGate{c}}),
			Deadline: c.shift + c.opts.Timeout,
		},
		{
			Name:          n + " termination wait",
			Apply:         c.applyWait,
			Revert:        c.revert,
			Reversibility: cutover.ReversibleWithin(w),
			// The window is declared with WindowMargin to spare: while
			// CodeDeploy still waits, a rollback still works.
			StillRevertible: c.stillRevertible,
			Bake:            c.spec.Bake,
			Gates:           append(slices.Clone(c.spec.Gates), cdGate{c}),
			Deadline:        windowDeadline(c.spec.Bake, w),
		},
	}
	if c.spec.TerminateEarly {
		st = append(st, cutover.Stage{
			Name:          n + " terminate blue",
			Apply:         c.applyTerminate,
			Reversibility: cutover.Irreversible(),
			Approval:      true,
		})
	}
	return st, nil
}

func checkGates(spec string, lists ...[]cutover.Gate) error {
	for k, gs := range lists {
		field := "Gates"
		if k == 1 {
			field = "Comparative"
		}
		for i, g := range gs {
			if g == nil {
				return fmt.Errorf("%s.%s[%d]: nil gate", spec, field, i)
			}
		}
	}
	return nil
}
