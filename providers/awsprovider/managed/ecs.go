package managed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

// ECSDeploymentAPI is the part of *ecs.Client an ECS native deployment
// calls: what an awsprovider.ECSFleet calls (awsprovider.ECSAPI) and the
// service deployment calls. An *ecs.Client satisfies it.
type ECSDeploymentAPI interface {
	awsprovider.ECSAPI
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	ContinueServiceDeployment(ctx context.Context, in *ecs.ContinueServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.ContinueServiceDeploymentOutput, error)
	StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error)
}

var _ ECSDeploymentAPI = (*ecs.Client)(nil)

// The deployment strategies an ECS native deployment can use.
const (
	BlueGreen = ecstypes.DeploymentStrategyBlueGreen
	Canary    = ecstypes.DeploymentStrategyCanary
	Linear    = ecstypes.DeploymentStrategyLinear
)

// ECSSpec describes one ECS native deployment (BLUE_GREEN, CANARY or
// LINEAR) of a service behind an Application Load Balancer.
type ECSSpec struct {
	// Name prefixes the stage names ("ecs 10%"). Default "ecs".
	Name string
	// Cluster and Service name the service; an empty Cluster is the
	// default cluster. The service must use the ECS deployment controller
	// and a load balancer whose advancedConfiguration names the alternate
	// target group, production listener rule and role. Service is required.
	Cluster string
	Service string
	// TaskDefinition is the ARN (or family:revision) to deploy. Required.
	TaskDefinition string
	// Strategy is BlueGreen, Canary or Linear. Required.
	Strategy ecstypes.DeploymentStrategy
	// CanaryPercent is the canary's share for Canary: a multiple of 0.1
	// from 0.1 to 99.9.
	CanaryPercent float64
	// StepPercent is each step for Linear: a multiple of 0.1 from 3 to
	// 99.9.
	StepPercent float64
	// StepWait is ECS's own wait after each traffic step but the last
	// (canaryBakeTimeInMinutes, stepBakeTimeInMinutes), 0–1440 whole
	// minutes. Default 0: the library's Bake and gates decide when the next
	// step starts.
	StepWait time.Duration
	// Window is how long ECS keeps the original revision after all
	// traffic has moved (bakeTimeInMinutes), 1–1440 whole minutes: the
	// rollback window, which Options.WindowMargin shortens. Required.
	Window time.Duration
	// Alarms, if set, are the deployment's CloudWatch alarms; AlarmRollback
	// makes ECS roll back when one fires.
	Alarms        []string
	AlarmRollback bool
	// LifecycleHooks are further hooks (Lambda functions, say). Nil keeps
	// the service's own hooks. PAUSE hooks at PRE_PRODUCTION_TRAFFIC_SHIFT
	// and POST_PRODUCTION_TRAFFIC_SHIFT belong to this package: it adds them
	// so that the library's gates decide each step.
	LifecycleHooks []ecstypes.DeploymentLifecycleHook
	// HookTimeout is how long ECS holds at one of this package's PAUSE
	// hooks before it rolls back on its own (so a runner that dies leaves
	// the service rolled back, not half-moved), 1–20160 whole minutes.
	// Default 24h.
	HookTimeout time.Duration
	// Gates are judged at every traffic step and during the bake. A Fail
	// rolls the deployment back.
	Gates []cutover.Gate
	// Comparative gates are judged only at the steps where both revisions
	// take traffic (all but the last), such as the sequential judge of
	// green against blue.
	Comparative []cutover.Gate
	// Bake is how long each traffic step, and the bake window, is judged.
	// Zero: until every gate has a verdict. It must be shorter than the
	// rollback window.
	Bake time.Duration
	// Deadline bounds each traffic step from its shift until its gates
	// pass (see cutover.Stage.Deadline). Zero: the runner's default.
	Deadline time.Duration
	// WaitForCleanUp adds the stage "<name> clean-up", which waits for ECS
	// to end its bake time and scale the original revision down, so that
	// the cutover completes when the deployment has succeeded. It changes
	// nothing itself (reverting it is the bake stage's job); without it the
	// plan ends with the approved bake.
	WaitForCleanUp bool
}

func (s *ECSSpec) validate(margin time.Duration) error {
	if s.Service == "" {
		return errors.New("ECSSpec.Service: required")
	}
	if s.TaskDefinition == "" {
		return errors.New("ECSSpec.TaskDefinition: required")
	}
	tenth := func(p float64) bool { return math.Abs(p*10-math.Round(p*10)) < 1e-9 }
	switch s.Strategy {
	case BlueGreen:
	case Canary:
		if s.CanaryPercent < 0.1 || s.CanaryPercent > 99.9 || !tenth(s.CanaryPercent) {
			return fmt.Errorf("ECSSpec.CanaryPercent: %g is not a multiple of 0.1 in 0.1–99.9", s.CanaryPercent)
		}
	case Linear:
		if s.StepPercent < 3 || s.StepPercent > 99.9 || !tenth(s.StepPercent) {
			return fmt.Errorf("ECSSpec.StepPercent: %g is not a multiple of 0.1 in 3–99.9", s.StepPercent)
		}
	default:
		return fmt.Errorf("ECSSpec.Strategy: %q, want %s, %s or %s", s.Strategy, BlueGreen, Canary, Linear)
	}
	if _, err := wholeMinutes("ECSSpec.StepWait", s.StepWait, 0, 1440); err != nil {
		return err
	}
	if _, err := wholeMinutes("ECSSpec.Window", s.Window, 1, 1440); err != nil {
		return err
	}
	if s.HookTimeout == 0 {
		s.HookTimeout = 24 * time.Hour
	}
	if _, err := wholeMinutes("ECSSpec.HookTimeout", s.HookTimeout, 1, 20160); err != nil {
		return err
	}
	w := s.Window - margin
	if w <= 0 {
		return fmt.Errorf("ECSSpec.Window: %s leaves no rollback window after Options.WindowMargin %s", s.Window, margin)
	}
	if s.Bake < 0 || s.Bake >= w {
		return fmt.Errorf("ECSSpec.Bake: %s outside 0–%s (the rollback window: Window less WindowMargin)", s.Bake, w)
	}
	if s.Deadline < 0 {
		return fmt.Errorf("ECSSpec.Deadline: %s is negative", s.Deadline)
	}
	for i, h := range s.LifecycleHooks {
		if h.TargetType != ecstypes.DeploymentLifecycleHookTargetTypePause {
			continue
		}
		for _, st := range h.LifecycleStages {
			if st == ecstypes.DeploymentLifecycleHookStagePreProductionTrafficShift || st == ecstypes.DeploymentLifecycleHookStagePostProductionTrafficShift {
				return fmt.Errorf("ECSSpec.LifecycleHooks[%d]: a PAUSE hook at %s belongs to this package", i, st)
			}
		}
	}
	if err := checkGates("ECSSpec", s.Gates, s.Comparative); err != nil {
		return err
	}
	if s.Name == "" {
		s.Name = "ecs"
	}
	return nil
}

// steps returns the production traffic share of the new revision after
// each shift, in percent.
func (s *ECSSpec) steps() []float64 {
	var p int // in tenths of a percent
	switch s.Strategy {
	case Canary:
		return []float64{s.CanaryPercent, 100}
	case Linear:
		p = int(math.Round(s.StepPercent * 10))
	default:
		return []float64{100}
	}
	var out []float64
	for w := p; w < 1000; w += p {
		out = append(out, float64(w)/10)
	}
	return append(out, 100)
}

// ECS is an ECS native deployment as stages. It is a cutover.Strategy:
//
//   - "<name> <p>%" (reversible), one per traffic step: the first updates
//     the service (or finds the deployment it journaled); each continues
//     the deployment from the PAUSE hook before its production traffic
//     shift, waits for the shift, and bakes while the gates judge.
//   - "<name> bake" (reversible within Window less Options.WindowMargin,
//     approval first) continues the deployment from the PAUSE hook after
//     the last shift into ECS's bake time, during which the original
//     revision still runs and the gates keep judging. It is the point of
//     no return: ECS cleans up on its own when the bake time ends, so it is
//     approved before it starts. Until then ECS holds at the hook, and rolls
//     back on its own after HookTimeout.
//   - with WaitForCleanUp, "<name> clean-up" waits for the deployment to
//     succeed.
//
// Reverting any stage rolls the deployment back — ContinueServiceDeployment
// with ROLLBACK at a paused hook, StopServiceDeployment with ROLLBACK
// otherwise — and waits, bounded, for the rollback to succeed.
type ECS struct {
	client ECSDeploymentAPI
	spec   ECSSpec
	opts   Options
	log    *zap.Logger
	res    string
	base   *ecstypes.DeploymentConfiguration
	hooks  []ecstypes.DeploymentLifecycleHook // as sent with UpdateService
	steps  []float64
	// prepared: Prepare succeeded.
	prepared bool

	mu        sync.Mutex
	arn       string
	continued map[string]bool // hook IDs this process continued
}

var _ cutover.Strategy = (*ECS)(nil)

// NewECS checks spec and opts and returns the deployment; it makes no
// call. Prepare reads the service before Stages can build the plan. Bad
// input is an error naming the field.
func NewECS(client ECSDeploymentAPI, spec ECSSpec, opts Options) (*ECS, error) {
	opts, err := checkNew("ecs", client, opts)
	if err != nil {
		return nil, err
	}
	client = boundedECS{c: client, t: opts.CallTimeout}
	if err := spec.validate(opts.WindowMargin); err != nil {
		return nil, fmt.Errorf("ecs: %w", err)
	}
	spec.Gates, spec.Comparative = slices.Clone(spec.Gates), slices.Clone(spec.Comparative)
	spec.Alarms = slices.Clone(spec.Alarms)
	e := &ECS{client: client, spec: spec, opts: opts, steps: spec.steps(), continued: map[string]bool{}}
	e.res = fmt.Sprintf("ecs service %q", spec.Service)
	if spec.Cluster != "" {
		e.res += fmt.Sprintf(" in cluster %q", spec.Cluster)
	}
	e.log = opts.Logger.With(zap.String("cluster", spec.Cluster), zap.String("service", spec.Service))
	return e, nil
}

// Prepare reads the service and checks that it is set up for a native
// deployment (ACTIVE, the ECS deployment controller, a load balancer with
// an alternate target group, listener rule and role). Errors name the
// field and unwrap to ErrInvalidSetup. Call it once, before Stages;
// nothing is journaled or changed.
func (e *ECS) Prepare(ctx context.Context) error {
	spec := e.spec
	svc, err := e.describeService(ctx)
	if err != nil {
		return err
	}
	if st := deref(svc.Status); st != "ACTIVE" {
		return &SetupError{Resource: e.res, Field: "status", Msg: fmt.Sprintf("is %q, want ACTIVE", st)}
	}
	if ct := svc.DeploymentController; ct != nil && ct.Type != ecstypes.DeploymentControllerTypeEcs {
		return &SetupError{Resource: e.res, Field: "deploymentController",
			Msg: fmt.Sprintf("is %s; native %s deployments need the ECS deployment controller", ct.Type, spec.Strategy)}
	}
	if len(svc.LoadBalancers) == 0 {
		return &SetupError{Resource: e.res, Field: "loadBalancers",
			Msg: fmt.Sprintf("missing target groups: native %s deployments need a load balancer with an alternate target group", spec.Strategy)}
	}
	for i, lb := range svc.LoadBalancers {
		tg := deref(lb.TargetGroupArn)
		ac := lb.AdvancedConfiguration
		field := fmt.Sprintf("loadBalancers[%d] (target group %s).advancedConfiguration", i, tg)
		switch {
		case ac == nil || deref(ac.AlternateTargetGroupArn) == "":
			return &SetupError{Resource: e.res, Field: field + ".alternateTargetGroupArn", Msg: "missing: the green revision needs a target group of its own"}
		case deref(ac.ProductionListenerRule) == "":
			return &SetupError{Resource: e.res, Field: field + ".productionListenerRule", Msg: "missing: ECS needs the listener rule whose weights it shifts"}
		case deref(ac.RoleArn) == "":
			return &SetupError{Resource: e.res, Field: field + ".roleArn", Msg: "missing: ECS needs a role to change the load balancer"}
		}
	}
	e.base = svc.DeploymentConfiguration
	e.hooks = e.deploymentConfiguration().LifecycleHooks
	e.prepared = true
	return nil
}

// Window is the rollback window declared to the runner: Window less
// Options.WindowMargin.
func (e *ECS) Window() time.Duration { return e.spec.Window - e.opts.WindowMargin }

// Steps returns the new revision's share of production traffic after each
// shift, in percent.
func (e *ECS) Steps() []float64 { return slices.Clone(e.steps) }

// DeploymentARN returns the ARN of the service deployment this process
// started or found, or "" if none yet.
func (e *ECS) DeploymentARN() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.arn
}

func (e *ECS) setARN(arn string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.arn = arn
}

func pct(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

// Stages returns the stages described on ECS.
func (e *ECS) Stages() ([]cutover.Stage, error) {
	if !e.prepared {
		return nil, errors.New("ecs: Stages before Prepare: the service's configuration is read there; call Prepare(ctx) first")
	}
	n := e.spec.Name
	w := e.Window()
	var st []cutover.Stage
	for i, p := range e.steps {
		gates := slices.Clone(e.spec.Gates)
		if p < 100 {
			gates = append(gates, e.spec.Comparative...)
		}
		st = append(st, cutover.Stage{
			Name:     n + " " + pct(p),
			Apply:    e.applyStep(i, p),
			Revert:   e.revert,
			Bake:     e.spec.Bake,
			Gates:    append(gates, ecsGate{e}),
			Deadline: e.spec.Deadline,
		})
	}
	st = append(st,
		cutover.Stage{
			Name:          n + " bake",
			Apply:         e.applyBake,
			Revert:        e.revert,
			Reversibility: cutover.ReversibleWithin(w),
			Approval:      true,
			Bake:          e.spec.Bake,
			Gates:         append(slices.Clone(e.spec.Gates), ecsGate{e}),
			Deadline:      windowDeadline(e.spec.Bake, w),
		})
	if e.spec.WaitForCleanUp {
		st = append(st, cutover.Stage{
			Name:  n + " clean-up",
			Apply: e.applyCleanUp,
			// The bake stage reverts the deployment while its window is
			// open; once it has closed the runner reverts nothing.
			Revert: func(context.Context) error { return nil },
		})
	}
	return st, nil
}

func (e *ECS) describeService(ctx context.Context) (*ecstypes.Service, error) {
	in := &ecs.DescribeServicesInput{Services: []string{e.spec.Service}}
	if e.spec.Cluster != "" {
		in.Cluster = aws.String(e.spec.Cluster)
	}
	out, err := e.client.DescribeServices(ctx, in)
	if err != nil {
		if apiCode(err) == "ClusterNotFoundException" {
			return nil, &SetupError{Resource: e.res, Msg: "cluster not found", Err: err}
		}
		return nil, fmt.Errorf("describe %s: %w", e.res, err)
	}
	if len(out.Services) == 0 {
		reason := "not found"
		if len(out.Failures) > 0 {
			reason = "not found: " + deref(out.Failures[0].Reason)
		}
		return nil, &SetupError{Resource: e.res, Msg: reason}
	}
	return &out.Services[0], nil
}

func (e *ECS) describe(ctx context.Context, arn string) (*ecstypes.ServiceDeployment, error) {
	out, err := e.client.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil {
		return nil, fmt.Errorf("describe ecs service deployment %s: %w", arn, err)
	}
	if len(out.ServiceDeployments) == 0 {
		reason := ""
		if len(out.Failures) > 0 {
			reason = ": " + deref(out.Failures[0].Reason)
		}
		return nil, fmt.Errorf("describe ecs service deployment %s: not found%s", arn, reason)
	}
	return &out.ServiceDeployments[0], nil
}

func (e *ECS) deploymentConfiguration() *ecstypes.DeploymentConfiguration {
	var dc ecstypes.DeploymentConfiguration
	if e.base != nil {
		dc = *e.base
	}
	s := e.spec
	dc.Strategy = s.Strategy
	dc.BakeTimeInMinutes = aws.Int32(int32(s.Window / time.Minute))
	dc.CanaryConfiguration, dc.LinearConfiguration = nil, nil
	stepWait := aws.Int32(int32(s.StepWait / time.Minute))
	switch s.Strategy {
	case Canary:
		dc.CanaryConfiguration = &ecstypes.CanaryConfiguration{CanaryPercent: aws.Float64(s.CanaryPercent), CanaryBakeTimeInMinutes: stepWait}
	case Linear:
		dc.LinearConfiguration = &ecstypes.LinearConfiguration{StepPercent: aws.Float64(s.StepPercent), StepBakeTimeInMinutes: stepWait}
	}
	if len(s.Alarms) > 0 {
		dc.Alarms = &ecstypes.DeploymentAlarms{AlarmNames: s.Alarms, Enable: true, Rollback: s.AlarmRollback}
	}
	var hooks []ecstypes.DeploymentLifecycleHook
	if s.LifecycleHooks != nil {
		hooks = slices.Clone(s.LifecycleHooks)
	} else {
		for _, h := range dc.LifecycleHooks {
			if !isOurHook(h) {
				hooks = append(hooks, h)
			}
		}
	}
	dc.LifecycleHooks = append(hooks, ecstypes.DeploymentLifecycleHook{
		TargetType: ecstypes.DeploymentLifecycleHookTargetTypePause,
		LifecycleStages: []ecstypes.DeploymentLifecycleHookStage{
			ecstypes.DeploymentLifecycleHookStagePreProductionTrafficShift,
			ecstypes.DeploymentLifecycleHookStagePostProductionTrafficShift,
		},
		TimeoutConfiguration: &ecstypes.DeploymentLifecycleHookTimeoutConfiguration{
			Action:           ecstypes.DeploymentLifecycleHookActionRollback,
			TimeoutInMinutes: aws.Int32(int32(s.HookTimeout / time.Minute)),
		},
	})
	return &dc
}

func isOurHook(h ecstypes.DeploymentLifecycleHook) bool {
	if h.TargetType != ecstypes.DeploymentLifecycleHookTargetTypePause {
		return false
	}
	for _, st := range h.LifecycleStages {
		if st == ecstypes.DeploymentLifecycleHookStagePreProductionTrafficShift || st == ecstypes.DeploymentLifecycleHookStagePostProductionTrafficShift {
			return true
		}
	}
	return false
}

// ensureDeployment returns this cutover's service deployment: journaled
// for the stage, known to this process, or — after a crash between asking
// for it and journaling it, or in a new process — the service's current
// deployment of this task definition. With create it updates the service
// when there is none. "" means none (only without create).
func (e *ECS) ensureDeployment(ctx context.Context, create bool) (string, error) {
	if arn, ok := cutover.Recall(ctx, keyDeployment); ok && arn != "" {
		e.setARN(arn)
		return arn, nil
	}
	if arn := e.DeploymentARN(); arn != "" {
		return arn, e.remember(ctx, arn)
	}
	svc, err := e.describeService(ctx)
	if err != nil {
		return "", err
	}
	_, requested := cutover.Recall(ctx, keyRequested)
	if sameTaskDef(deref(svc.TaskDefinition), e.spec.TaskDefinition) && deref(svc.CurrentServiceDeployment) != "" {
		if requested || !create {
			arn := deref(svc.CurrentServiceDeployment)
			e.log.Info("found the service deployment of this task definition", zap.String("service_deployment", arn))
			return arn, e.remember(ctx, arn)
		}
		return "", &SetupError{Resource: e.res, Field: "taskDefinition", Msg: fmt.Sprintf("already %s: nothing to deploy", e.spec.TaskDefinition)}
	}
	if !create {
		return "", nil
	}
	prev := deref(svc.CurrentServiceDeployment)
	if err := cutover.Remember(ctx, keyRequested, strconv.FormatInt(e.opts.Clock.Now().Unix(), 10)); err != nil {
		return "", err
	}
	in := &ecs.UpdateServiceInput{
		Service:                 aws.String(e.spec.Service),
		TaskDefinition:          aws.String(e.spec.TaskDefinition),
		DeploymentConfiguration: e.deploymentConfiguration(),
	}
	if e.spec.Cluster != "" {
		in.Cluster = aws.String(e.spec.Cluster)
	}
	out, err := e.client.UpdateService(ctx, in)
	if err != nil {
		switch apiCode(err) {
		case "InvalidParameterException", "ServiceNotFoundException", "ServiceNotActiveException", "ClusterNotFoundException",
			"PlatformTaskDefinitionIncompatibilityException", "PlatformUnknownException", "AccessDeniedException":
			return "", &SetupError{Resource: e.res, Msg: "UpdateService refused", Err: err}
		}
		return "", fmt.Errorf("update %s: %w", e.res, err)
	}
	arn := ""
	if out.Service != nil {
		arn = deref(out.Service.CurrentServiceDeployment)
	}
	if arn == "" || arn == prev {
		err := e.opts.poll(ctx, e.res+": new service deployment", e.opts.Timeout, func(ctx context.Context) (bool, error) {
			s, err := e.describeService(ctx)
			if err != nil {
				return false, err
			}
			arn = deref(s.CurrentServiceDeployment)
			return arn != "" && arn != prev, nil
		})
		if err != nil {
			return "", err
		}
	}
	e.log.Info("updated service", zap.String("service_deployment", arn), zap.String("strategy", string(e.spec.Strategy)))
	return arn, e.remember(ctx, arn)
}

// sameTaskDef reports whether have, the task definition DescribeServices
// reports (always a full ARN), is want, given as an ARN or as
// family:revision.
func sameTaskDef(have, want string) bool {
	if have == want {
		return true
	}
	return !strings.HasPrefix(want, "arn:") && strings.HasSuffix(have, ":task-definition/"+want)
}

func (e *ECS) remember(ctx context.Context, arn string) error {
	if err := cutover.Remember(ctx, keyDeployment, arn); err != nil {
		return err
	}
	e.setARN(arn)
	return nil
}
