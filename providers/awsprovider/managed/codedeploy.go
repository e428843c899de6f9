package managed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
	manualReroute   bool
	readyWait       time.Duration
	cluster, svc    string
	appSpec, digest string

	mu sync.Mutex
	id string
}

var _ cutover.Strategy = (*CodeDeploy)(nil)

// NewCodeDeploy checks spec against the deployment group and deployment
// config it names (reading them through client) and returns the deployment.
// Bad input and resources not set up for ECS blue/green are errors that
// name the field or resource and unwrap to ErrInvalidSetup.
func NewCodeDeploy(ctx context.Context, client CodeDeployAPI, spec CodeDeploySpec, opts Options) (*CodeDeploy, error) {
	if client == nil {
		return nil, errors.New("codedeploy: client is nil")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("codedeploy: %w", err)
	}
	spec.Gates, spec.Comparative = slices.Clone(spec.Gates), slices.Clone(spec.Comparative)
	opts = opts.withDefaults()
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
	if err := c.inspectGroup(ctx); err != nil {
		return nil, err
	}
	if err := c.inspectConfig(ctx); err != nil {
		return nil, err
	}
	if spec.Services != nil {
		if err := c.inspectService(ctx); err != nil {
			return nil, err
		}
	}
	w := c.Window()
	if w <= 0 {
		return nil, &SetupError{Resource: c.group,
			Field: "blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess.terminationWaitTimeInMinutes",
			Msg:   fmt.Sprintf("termination wait %s leaves no rollback window after Options.WindowMargin %s; lengthen it (at most 2880 minutes)", c.termWait, opts.WindowMargin)}
	}
	if spec.Bake >= w {
		return nil, fmt.Errorf("codedeploy: CodeDeploySpec.Bake: %s is not shorter than the rollback window %s (termination wait %s less WindowMargin %s)", spec.Bake, w, c.termWait, opts.WindowMargin)
	}
	return c, nil
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
			// Gates still pending halfway from the end of Bake to the
			// window's close fail closed, leaving time to roll back.
			Deadline: c.spec.Bake + (w-c.spec.Bake)/2,
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

func (c *CodeDeploy) get(ctx context.Context, id string) (*cdtypes.DeploymentInfo, error) {
	out, err := c.client.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("get codedeploy deployment %s: %w", id, err)
	}
	if out.DeploymentInfo == nil {
		return nil, fmt.Errorf("get codedeploy deployment %s: no deployment info", id)
	}
	return out.DeploymentInfo, nil
}

// running reads deployment id and returns an error unless it still runs:
// it failed or was stopped, or it succeeded (the original is gone).
func (c *CodeDeploy) running(ctx context.Context, id string) (*cdtypes.DeploymentInfo, error) {
	info, err := c.get(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case failed(info.Status):
		return nil, c.failure(info)
	case info.Status == cdtypes.DeploymentStatusSucceeded:
		return nil, fmt.Errorf("codedeploy deployment %s already succeeded: %w", id, ErrTooLate)
	}
	return info, nil
}

// refused reads deployment id after op answered err, journals what
// happened (DataRefused, for the stage being run) and returns the
// deployment as it is now; an error that is not an API answer (a
// timeout, a cancelled context) is returned as it is.
func (c *CodeDeploy) refused(ctx context.Context, id, op string, err error) (*cdtypes.DeploymentInfo, error) {
	if apiCode(err) == "" {
		return nil, fmt.Errorf("%s of codedeploy deployment %s: %w", op, id, err)
	}
	info, gerr := c.get(ctx, id)
	if gerr != nil {
		return nil, fmt.Errorf("%s of codedeploy deployment %s refused (%w), and then: %w", op, id, err, gerr)
	}
	note := fmt.Sprintf("%s refused with %s; the deployment is %s", op, apiCode(err), info.Status)
	c.log.Warn("call refused", zap.String("deployment", id), zap.String("what", note))
	_ = cutover.Remember(ctx, DataRefused, note) // outside a stage: logged only
	return info, nil
}

// DataRefused is the key under which a CodeDeploy stage journals a
// ContinueDeployment or StopDeployment the service refused, with the
// deployment's status read right after.
const DataRefused = "refused"

func failed(s cdtypes.DeploymentStatus) bool {
	return s == cdtypes.DeploymentStatusFailed || s == cdtypes.DeploymentStatusStopped
}

func (c *CodeDeploy) failure(info *cdtypes.DeploymentInfo) error {
	msg := ""
	if e := info.ErrorInformation; e != nil {
		msg = fmt.Sprintf(": %s: %s", e.Code, deref(e.Message))
	}
	return fmt.Errorf("codedeploy deployment %s %s%s: %w", deref(info.DeploymentId), strings.ToLower(string(info.Status)), msg, ErrDeploymentFailed)
}

func (c *CodeDeploy) ensureConfig(ctx context.Context) error {
	_, err := c.client.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{
		DeploymentConfigName: aws.String(c.configName),
		ComputePlatform:      cdtypes.ComputePlatformEcs,
		TrafficRoutingConfig: c.spec.Traffic.routing(),
	})
	if err != nil && apiCode(err) != "DeploymentConfigAlreadyExistsException" {
		return fmt.Errorf("create %s: %w", c.config, err)
	}
	if err == nil {
		c.log.Info("created deployment config", zap.String("deployment_config", c.configName))
	}
	return nil
}

// list returns the IDs of the group's deployments with one of statuses
// (any status if none), created after since unless it is zero. More pages
// than it reads is an error, never a silently shorter list.
func (c *CodeDeploy) list(ctx context.Context, since time.Time, statuses ...cdtypes.DeploymentStatus) ([]string, error) {
	in := &codedeploy.ListDeploymentsInput{
		ApplicationName:     aws.String(c.spec.Application),
		DeploymentGroupName: aws.String(c.spec.DeploymentGroup),
		IncludeOnlyStatuses: statuses,
	}
	if !since.IsZero() {
		in.CreateTimeRange = &cdtypes.TimeRange{Start: aws.Time(since)}
	}
	const maxPages = 50
	var ids []string
	for page := 0; page < maxPages; page++ {
		out, err := c.client.ListDeployments(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list deployments of %s: %w", c.group, err)
		}
		ids = append(ids, out.Deployments...)
		if deref(out.NextToken) == "" {
			return ids, nil
		}
		in.NextToken = out.NextToken
	}
	return nil, fmt.Errorf("list deployments of %s: more than %d pages", c.group, maxPages)
}

// tokenWindow is how long after journaling its token a deployment may
// have been created (CreateDeployment with the SDK's retries).
const tokenWindow = 5 * time.Minute

var activeStatuses = []cdtypes.DeploymentStatus{
	cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued, cdtypes.DeploymentStatusInProgress,
	cdtypes.DeploymentStatusReady, cdtypes.DeploymentStatusBaking,
}

// findByToken looks for the deployment a killed attempt created: the one
// whose description carries tok. The token starts with the second it was
// journaled, right before CreateDeployment, so the listing asks only for
// deployments of the group created within a few minutes of it — one page,
// usually one deployment (CodeDeploy runs one at a time per group) — and
// never reads the group's history.
func (c *CodeDeploy) findByToken(ctx context.Context, tok string) (string, error) {
	sec, _, ok := strings.Cut(tok, "-")
	n, err := strconv.ParseInt(sec, 10, 64)
	if !ok || err != nil {
		return "", fmt.Errorf("find the deployment of token %q: not a journaled token (want SECONDS-RANDOM)", tok)
	}
	at := time.Unix(n, 0)
	out, err := c.client.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{
		ApplicationName:     aws.String(c.spec.Application),
		DeploymentGroupName: aws.String(c.spec.DeploymentGroup),
		CreateTimeRange:     &cdtypes.TimeRange{Start: aws.Time(at.Add(-time.Minute)), End: aws.Time(at.Add(tokenWindow))},
	})
	if err != nil {
		return "", fmt.Errorf("list deployments of %s created near token %s: %w", c.group, tok, err)
	}
	ids := out.Deployments
	if deref(out.NextToken) != "" {
		return "", fmt.Errorf("list deployments of %s created near token %s: more than one page in %s", c.group, tok, tokenWindow)
	}
	for _, id := range ids {
		info, err := c.get(ctx, id)
		if err != nil {
			return "", err
		}
		if strings.Contains(deref(info.Description), descPrefix+tok) {
			return id, nil
		}
	}
	return "", nil
}

// ensureDeployment returns the deployment of this cutover, creating it
// unless the journal says it was created (or requested) already.
func (c *CodeDeploy) ensureDeployment(ctx context.Context) (string, error) {
	if id, ok := cutover.Recall(ctx, keyDeployment); ok && id != "" {
		c.setID(id)
		return id, nil
	}
	if tok, ok := cutover.Recall(ctx, keyToken); ok {
		id, err := c.findByToken(ctx, tok)
		if err != nil {
			return "", err
		}
		if id != "" {
			c.log.Info("found the deployment an earlier attempt created", zap.String("deployment", id))
			if err := cutover.Remember(ctx, keyDeployment, id); err != nil {
				return "", err
			}
			c.setID(id)
			return id, nil
		}
	}
	active, err := c.list(ctx, time.Time{}, activeStatuses...)
	if err != nil {
		return "", err
	}
	if len(active) > 0 {
		return "", &SetupError{Resource: c.group, Msg: fmt.Sprintf("already has deployment %s in progress; let it finish or stop it first", active[0])}
	}
	tok := fmt.Sprintf("%d-%s", c.opts.Clock.Now().Unix(), token())
	if err := cutover.Remember(ctx, keyToken, tok); err != nil {
		return "", err
	}
	desc := descPrefix + tok
	if c.spec.Description != "" {
		desc += ": " + c.spec.Description
	}
	out, err := c.client.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName:      aws.String(c.spec.Application),
		DeploymentGroupName:  aws.String(c.spec.DeploymentGroup),
		DeploymentConfigName: aws.String(c.configName),
		Description:          aws.String(desc),
		Revision: &cdtypes.RevisionLocation{
			RevisionType:   cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(c.appSpec), Sha256: aws.String(c.digest)},
		},
	})
	if err != nil {
		switch apiCode(err) {
		case "DeploymentConfigDoesNotExistException":
			return "", &SetupError{Resource: c.config, Msg: "does not exist", Err: err}
		case "DeploymentGroupDoesNotExistException", "ApplicationDoesNotExistException", "DeploymentLimitExceededException",
			"InvalidECSServiceException", "InvalidTargetGroupPairException", "InvalidRevisionException":
			return "", &SetupError{Resource: c.group, Msg: "CreateDeployment refused", Err: err}
		}
		return "", fmt.Errorf("create deployment in %s: %w", c.group, err)
	}
	id := deref(out.DeploymentId)
	c.log.Info("created deployment", zap.String("deployment", id), zap.String("deployment_config", c.configName))
	if err := cutover.Remember(ctx, keyDeployment, id); err != nil {
		return "", err
	}
	c.setID(id)
	return id, nil
}

// find returns this cutover's deployment for a stage that does not create
// it: from the stage's journal data, this process's memory, or — in a new
// process — the group's one active deployment of this task definition. It
// journals what it found for the stage. "" means none.
func (c *CodeDeploy) find(ctx context.Context) (string, error) {
	if id, ok := cutover.Recall(ctx, keyDeployment); ok && id != "" {
		c.setID(id)
		return id, nil
	}
	id := c.DeploymentID()
	if id == "" {
		if tok, ok := cutover.Recall(ctx, keyToken); ok {
			var err error
			if id, err = c.findByToken(ctx, tok); err != nil {
				return "", err
			}
		}
	}
	if id == "" {
		var err error
		if id, err = c.lookup(ctx); err != nil {
			return "", err
		}
	}
	if id == "" {
		return "", nil
	}
	if err := cutover.Remember(ctx, keyDeployment, id); err != nil {
		return "", err
	}
	c.setID(id)
	return id, nil
}

// lookup finds this cutover's deployment without the journal, for a
// stage or gate of a process that did not create it: the group's active
// deployment (CodeDeploy allows one) of this task definition that this
// library started, else the newest such deployment of the last day.
func (c *CodeDeploy) lookup(ctx context.Context) (string, error) {
	ours := func(info *cdtypes.DeploymentInfo) bool {
		r := info.Revision
		return r != nil && r.AppSpecContent != nil && strings.Contains(deref(r.AppSpecContent.Content), c.spec.TaskDefinition) &&
			strings.HasPrefix(deref(info.Description), descPrefix)
	}
	active, err := c.list(ctx, time.Time{}, activeStatuses...)
	if err != nil {
		return "", err
	}
	for _, id := range active {
		info, err := c.get(ctx, id)
		if err != nil {
			return "", err
		}
		if ours(info) {
			return id, nil
		}
	}
	recent, err := c.list(ctx, c.opts.Clock.Now().Add(-24*time.Hour))
	if err != nil {
		return "", err
	}
	var best string
	var bestAt time.Time
	for _, id := range recent {
		info, err := c.get(ctx, id)
		if err != nil {
			return "", err
		}
		if at := deref(info.CreateTime); ours(info) && (best == "" || at.After(bestAt)) {
			best, bestAt = id, at
		}
	}
	return best, nil
}

func (c *CodeDeploy) applyShift(ctx context.Context) error {
	if c.createConfig {
		if err := c.ensureConfig(ctx); err != nil {
			return err
		}
	}
	id, err := c.ensureDeployment(ctx)
	if err != nil {
		return err
	}
	bound := c.opts.Timeout + c.readyWait
	return c.opts.poll(ctx, fmt.Sprintf("codedeploy deployment %s: start", id), bound, func(ctx context.Context) (bool, error) {
		info, err := c.running(ctx, id)
		if err != nil {
			return false, err
		}
		switch {
		case info.Status == cdtypes.DeploymentStatusCreated || info.Status == cdtypes.DeploymentStatusQueued:
			return false, nil
		case !c.manualReroute:
			return true, nil
		case info.Status != cdtypes.DeploymentStatusReady:
			return false, nil // installing the replacement task set
		}
		if started, _, err := c.waiting(ctx, id, info); err != nil || started {
			return started, err
		}
		_, err = c.client.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{
			DeploymentId: aws.String(id), DeploymentWaitType: cdtypes.DeploymentWaitTypeReadyWait,
		})
		if err != nil {
			// Refused: what the deployment is now decides, not the code.
			after, rerr := c.refused(ctx, id, "ContinueDeployment(READY_WAIT)", err)
			switch {
			case rerr != nil:
				return false, rerr
			case failed(after.Status):
				return false, c.failure(after)
			case after.Status == cdtypes.DeploymentStatusReady:
				return false, fmt.Errorf("continue codedeploy deployment %s to reroute traffic: still %s: %w", id, after.Status, err)
			}
			c.log.Info("traffic already rerouting", zap.String("deployment", id), zap.String("status", string(after.Status)))
			return true, nil
		}
		c.log.Info("rerouting production traffic", zap.String("deployment", id))
		return true, nil
	})
}

// waiting reports whether deployment id, read as info and still running,
// is in its termination wait, and since when, as the deployment's own
// data says (see terminationWait). The ECS deployment target is read only
// while the deployment is InProgress or Baking: in any other state the
// wait cannot have begun.
func (c *CodeDeploy) waiting(ctx context.Context, id string, info *cdtypes.DeploymentInfo) (bool, time.Time, error) {
	switch info.Status {
	case cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusBaking:
	default:
		return false, time.Time{}, nil
	}
	out, err := c.client.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{
		DeploymentId: aws.String(id), TargetId: aws.String(c.cluster + ":" + c.svc),
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("get target %s:%s of codedeploy deployment %s: %w", c.cluster, c.svc, id, err)
	}
	var t *cdtypes.ECSTarget
	if out.DeploymentTarget != nil {
		t = out.DeploymentTarget.EcsTarget
	}
	started, began := terminationWait(info, t)
	return started, began, nil
}

// trafficEvents are the ECS target's lifecycle events that end with all
// production traffic on the replacement task set, last first: the
// termination wait begins when the last of them ends.
var trafficEvents = []string{"AfterAllowTraffic", "AllowTraffic"}

// terminationWait reads from a running deployment (info) and its ECS
// target (t, nil if unknown) whether the original task set's termination
// wait has begun, and when. It has begun when the deployment says so
// (instanceTerminationWaitTimeStarted, which CodeDeploy documents as true
// "as soon as the termination wait period starts") or when the target's
// last traffic lifecycle event (AfterAllowTraffic, else AllowTraffic) has
// ended (Succeeded or Skipped): CodeDeploy has been reported to leave the
// flag false for ECS (aws/containers-roadmap#269). When it began is that
// event's endTime; zero when no event says, which the caller refuses
// (ErrWindowUnknown) rather than guess from the target's status or from
// when this process first looked. Created, Queued and Ready deployments
// have not begun the wait; a Succeeded, Failed or Stopped one is not
// running and never reaches here.
func terminationWait(info *cdtypes.DeploymentInfo, t *cdtypes.ECSTarget) (started bool, began time.Time) {
	switch info.Status {
	case cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusBaking:
	default:
		return false, time.Time{}
	}
	started = info.InstanceTerminationWaitTimeStarted
	if t == nil {
		return started, time.Time{}
	}
	for _, name := range trafficEvents {
		for _, ev := range t.LifecycleEvents {
			if deref(ev.LifecycleEventName) != name {
				continue
			}
			switch ev.Status {
			case cdtypes.LifecycleEventStatusSucceeded, cdtypes.LifecycleEventStatusSkipped:
				if ev.EndTime != nil {
					return true, *ev.EndTime
				}
				return true, time.Time{}
			}
			return started, time.Time{} // the last traffic event has not ended
		}
	}
	return started, time.Time{}
}

func (c *CodeDeploy) applyWait(ctx context.Context) error {
	id, err := c.find(ctx)
	if err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("%s: no deployment of this cutover found: %w", c.group, ErrDeploymentFailed)
	}
	var start time.Time
	err = c.opts.poll(ctx, fmt.Sprintf("codedeploy deployment %s: termination wait", id), c.opts.Timeout, func(ctx context.Context) (bool, error) {
		info, err := c.running(ctx, id)
		if err != nil {
			return false, err
		}
		started, at, err := c.waiting(ctx, id, info)
		start = at
		return started, err
	})
	if err != nil {
		return err
	}
	if start.IsZero() {
		return fmt.Errorf("codedeploy deployment %s: in its termination wait, but no lifecycle event of its ECS target (AfterAllowTraffic, AllowTraffic) says when it began: %w", id, ErrWindowUnknown)
	}
	if lag := c.opts.Clock.Now().Sub(start); lag > c.opts.WindowMargin {
		return fmt.Errorf("codedeploy deployment %s: the termination wait began %s ago, more than Options.WindowMargin %s, so the declared window could outlast the real one: %w",
			id, lag.Round(time.Second), c.opts.WindowMargin, ErrWindowUnknown)
	}
	c.log.Info("termination wait", zap.String("deployment", id), zap.Time("began", start), zap.Duration("window", c.Window()))
	return nil
}

func (c *CodeDeploy) applyTerminate(ctx context.Context) error {
	id, err := c.find(ctx)
	if err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("%s: no deployment of this cutover found: %w", c.group, ErrDeploymentFailed)
	}
	info, err := c.get(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case info.Status == cdtypes.DeploymentStatusSucceeded:
		return nil
	case failed(info.Status):
		return c.failure(info)
	}
	if started, _, err := c.waiting(ctx, id, info); err != nil || !started {
		if err == nil {
			err = fmt.Errorf("codedeploy deployment %s is %s and not in its termination wait", id, info.Status)
		}
		return err
	}
	_, err = c.client.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{
		DeploymentId: aws.String(id), DeploymentWaitType: cdtypes.DeploymentWaitTypeTerminationWait,
	})
	if err != nil {
		after, rerr := c.refused(ctx, id, "ContinueDeployment(TERMINATION_WAIT)", err)
		switch {
		case rerr != nil:
			return rerr
		case failed(after.Status):
			return c.failure(after)
		case after.Status != cdtypes.DeploymentStatusSucceeded:
			return fmt.Errorf("continue codedeploy deployment %s to terminate the original task set: %s: %w", id, after.Status, err)
		}
	}
	c.log.Info("terminating the original task set", zap.String("deployment", id))
	return c.opts.poll(ctx, fmt.Sprintf("codedeploy deployment %s: terminate", id), c.opts.Timeout, func(ctx context.Context) (bool, error) {
		info, err := c.get(ctx, id)
		if err != nil {
			return false, err
		}
		if failed(info.Status) {
			return false, c.failure(info)
		}
		return info.Status == cdtypes.DeploymentStatusSucceeded, nil
	})
}

// stillRevertible reports whether the deployment can still be stopped with
// a rollback: it has not succeeded (the termination wait is not over) nor
// ended otherwise.
func (c *CodeDeploy) stillRevertible(ctx context.Context) (bool, error) {
	id, err := c.find(ctx)
	if err != nil || id == "" {
		return false, err
	}
	info, err := c.get(ctx, id)
	if err != nil {
		return false, err
	}
	return info.Status != cdtypes.DeploymentStatusSucceeded && !failed(info.Status), nil
}

// revert stops the deployment with auto-rollback and waits for the rollback.
func (c *CodeDeploy) revert(ctx context.Context) error {
	id, err := c.find(ctx)
	if err != nil {
		return err
	}
	if id == "" {
		c.log.Info("nothing to roll back: no deployment was created")
		return nil
	}
	info, err := c.get(ctx, id)
	if err != nil {
		return err
	}
	stoppedByUs := false
	switch {
	case info.Status == cdtypes.DeploymentStatusSucceeded:
		return fmt.Errorf("codedeploy deployment %s succeeded: %w", id, ErrTooLate)
	case failed(info.Status):
		c.log.Info("deployment already ended; waiting for its rollback", zap.String("deployment", id), zap.String("status", string(info.Status)))
	default:
		_, err := c.client.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(true)})
		if err != nil {
			after, rerr := c.refused(ctx, id, "StopDeployment", err)
			switch {
			case rerr != nil:
				return rerr
			case after.Status == cdtypes.DeploymentStatusSucceeded:
				return fmt.Errorf("codedeploy deployment %s succeeded before the stop: %w", id, ErrTooLate)
			case !failed(after.Status):
				return fmt.Errorf("stop codedeploy deployment %s with rollback: still %s: %w", id, after.Status, err)
			}
			c.log.Info("deployment ended before the stop; waiting for its rollback", zap.String("deployment", id), zap.String("status", string(after.Status)))
		}
		stoppedByUs = err == nil
		c.log.Info("stopped deployment with rollback", zap.String("deployment", id))
	}
	polls := 0
	return c.opts.poll(ctx, fmt.Sprintf("codedeploy deployment %s: rollback", id), c.opts.RollbackTimeout, func(ctx context.Context) (bool, error) {
		polls++
		info, err := c.get(ctx, id)
		if err != nil {
			return false, err
		}
		if info.Status == cdtypes.DeploymentStatusSucceeded {
			return false, fmt.Errorf("codedeploy deployment %s succeeded before it could be stopped: %w", id, ErrTooLate)
		}
		if !failed(info.Status) {
			return false, nil
		}
		rb := ""
		if info.RollbackInfo != nil {
			rb = deref(info.RollbackInfo.RollbackDeploymentId)
		}
		if rb == "" {
			if !stoppedByUs && polls > 3 {
				return false, fmt.Errorf("codedeploy deployment %s %s without a rollback deployment (is auto-rollback enabled on %s?): %w",
					id, info.Status, c.group, ErrDeploymentFailed)
			}
			return false, nil
		}
		r, err := c.get(ctx, rb)
		if err != nil {
			return false, err
		}
		switch {
		case r.Status == cdtypes.DeploymentStatusSucceeded:
			c.log.Info("rolled back", zap.String("deployment", id), zap.String("rollback_deployment", rb))
			return true, nil
		case failed(r.Status):
			return false, fmt.Errorf("rollback of codedeploy deployment %s: %w", id, c.failure(r))
		}
		return false, nil
	})
}

// cdGate reports the deployment's own progress as a gate: Fail when
// CodeDeploy failed or stopped it, Pending while traffic shifts, Pass once
// the original task set waits to be terminated. Its Pass is never final, so
// it never ends a bake early.
type cdGate struct{ c *CodeDeploy }

// Name names the gate in verdict records.
func (g cdGate) Name() string { return "codedeploy deployment" }

// Evaluate reads the deployment.
func (g cdGate) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	id := g.c.DeploymentID()
	if id == "" { // a resumed process: find the deployment
		var err error
		if id, err = g.c.lookup(ctx); err != nil {
			return cutover.Verdict{}, err
		}
		if id == "" {
			return cutover.Verdict{Reason: fmt.Sprintf("no deployment of %s found in %s", g.c.spec.TaskDefinition, g.c.group)}, nil
		}
		g.c.setID(id)
	}
	info, err := g.c.get(ctx, id)
	if err != nil {
		return cutover.Verdict{}, err
	}
	switch {
	case failed(info.Status):
		return cutover.Verdict{Decision: cutover.Fail, Reason: g.c.failure(info).Error()}, nil
	case info.Status == cdtypes.DeploymentStatusSucceeded:
		return cutover.Verdict{Decision: cutover.Fail,
			Reason: fmt.Sprintf("codedeploy deployment %s succeeded: the original task set was terminated outside this cutover", id)}, nil
	}
	started, _, err := g.c.waiting(ctx, id, info)
	if err != nil {
		return cutover.Verdict{}, err
	}
	if started {
		return cutover.Verdict{Decision: cutover.Pass,
			Reason: fmt.Sprintf("codedeploy deployment %s: all traffic on the replacement task set; original kept for the termination wait", id)}, nil
	}
	return cutover.Verdict{Reason: fmt.Sprintf("codedeploy deployment %s %s: shifting traffic (%s)", id, info.Status, g.c.configName)}, nil
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
