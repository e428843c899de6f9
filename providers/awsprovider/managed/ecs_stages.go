package managed

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/safecutover/safecutover/cutover"
	"go.uber.org/zap"
)

func ecsFailed(s ecstypes.ServiceDeploymentStatus) bool {
	switch s {
	case ecstypes.ServiceDeploymentStatusStopped, ecstypes.ServiceDeploymentStatusStopRequested,
		ecstypes.ServiceDeploymentStatusRollbackRequested, ecstypes.ServiceDeploymentStatusRollbackInProgress,
		ecstypes.ServiceDeploymentStatusRollbackSuccessful, ecstypes.ServiceDeploymentStatusRollbackFailed:
		return true
	}
	return false
}

func (e *ECS) failure(d *ecstypes.ServiceDeployment) error {
	reason := deref(d.StatusReason)
	if reason == "" && d.Rollback != nil {
		reason = deref(d.Rollback.Reason)
	}
	if reason != "" {
		reason = ": " + reason
	}
	return fmt.Errorf("ecs service deployment %s %s%s: %w", deref(d.ServiceDeploymentArn), d.Status, reason, ErrDeploymentFailed)
}

// pausedHook returns the ID of a PAUSE hook awaiting action, if the
// deployment is at lifecycle stage st (any stage if st is empty).
func pausedHook(d *ecstypes.ServiceDeployment, st ecstypes.ServiceDeploymentLifecycleStage) string {
	if st != "" && d.LifecycleStage != st {
		return ""
	}
	for _, h := range d.LifecycleHookDetails {
		if h.TargetType == ecstypes.DeploymentLifecycleHookTargetTypePause && h.Status == ecstypes.DeploymentLifecycleHookStatusAwaitingAction {
			return deref(h.HookId)
		}
	}
	return ""
}

func greenWeight(d *ecstypes.ServiceDeployment) float64 {
	if d.TargetServiceRevision == nil {
		return 0
	}
	return deref(d.TargetServiceRevision.RequestedProductionTrafficWeight)
}

func shifted(d *ecstypes.ServiceDeployment) bool {
	switch d.LifecycleStage {
	case ecstypes.ServiceDeploymentLifecycleStagePostProductionTrafficShift, ecstypes.ServiceDeploymentLifecycleStageBakeTime,
		ecstypes.ServiceDeploymentLifecycleStageCleanUp:
		return true
	}
	return d.Status == ecstypes.ServiceDeploymentStatusSuccessful
}

func baking(d *ecstypes.ServiceDeployment) bool {
	switch d.LifecycleStage {
	case ecstypes.ServiceDeploymentLifecycleStageBakeTime, ecstypes.ServiceDeploymentLifecycleStageCleanUp:
		return true
	}
	return d.Status == ecstypes.ServiceDeploymentStatusSuccessful
}

// ours reports whether a PAUSE hook awaiting action at lifecycle stage st
// is this package's hook before a production traffic shift: ECS reports the
// stage of that hook as PRE_PRODUCTION_TRAFFIC_SHIFT, which the SDK's enum
// lacks, so any stage counts but the one after the last shift and those
// where the service's own PAUSE hooks wait for someone else.
func (e *ECS) ours(st ecstypes.ServiceDeploymentLifecycleStage) bool {
	if st == ecstypes.ServiceDeploymentLifecycleStagePostProductionTrafficShift {
		return false
	}
	for _, h := range e.hooks {
		if h.TargetType != ecstypes.DeploymentLifecycleHookTargetTypePause || isOurHook(h) {
			continue
		}
		for _, hs := range h.LifecycleStages {
			if string(hs) == string(st) {
				return false
			}
		}
	}
	return true
}

// continueHook continues or rolls back at hook, once per hook and process.
func (e *ECS) continueHook(ctx context.Context, arn, hook string, action ecstypes.DeploymentLifecycleHookAction) error {
	e.mu.Lock()
	done := e.continued[hook+string(action)]
	e.mu.Unlock()
	if done {
		return nil
	}
	_, err := e.client.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{
		ServiceDeploymentArn: aws.String(arn), HookId: aws.String(hook), Action: action,
	})
	if err != nil {
		return fmt.Errorf("%s ecs service deployment %s at hook %s: %w", action, arn, hook, err)
	}
	e.mu.Lock()
	e.continued[hook+string(action)] = true
	e.mu.Unlock()
	e.log.Info("lifecycle hook", zap.String("service_deployment", arn), zap.String("hook", hook), zap.String("action", string(action)))
	return nil
}

func (e *ECS) applyStep(i int, p float64) func(context.Context) error {
	return func(ctx context.Context) error {
		arn, err := e.ensureDeployment(ctx, i == 0)
		if err != nil {
			return err
		}
		if arn == "" {
			return fmt.Errorf("%s: no service deployment of %s found: %w", e.res, e.spec.TaskDefinition, ErrDeploymentFailed)
		}
		// ECS's own bake after the previous step comes before this one.
		bound := e.opts.Timeout + e.spec.StepWait
		return e.opts.poll(ctx, fmt.Sprintf("ecs service deployment %s: shift to %s", arn, pct(p)), bound, func(ctx context.Context) (bool, error) {
			d, err := e.describe(ctx, arn)
			if err != nil {
				return false, err
			}
			if ecsFailed(d.Status) {
				return false, e.failure(d)
			}
			if shifted(d) || greenWeight(d) >= p-0.05 {
				return true, nil
			}
			if hook := pausedHook(d, ""); hook != "" && e.ours(d.LifecycleStage) {
				return false, e.continueHook(ctx, arn, hook, ecstypes.DeploymentLifecycleHookActionContinue)
			}
			return false, nil
		})
	}
}

func (e *ECS) applyBake(ctx context.Context) error {
	arn, err := e.ensureDeployment(ctx, false)
	if err != nil {
		return err
	}
	if arn == "" {
		return fmt.Errorf("%s: no service deployment of %s found: %w", e.res, e.spec.TaskDefinition, ErrDeploymentFailed)
	}
	var hook string
	err = e.opts.poll(ctx, fmt.Sprintf("ecs service deployment %s: pause after the last shift", arn), e.opts.Timeout, func(ctx context.Context) (bool, error) {
		d, err := e.describe(ctx, arn)
		if err != nil {
			return false, err
		}
		if ecsFailed(d.Status) {
			return false, e.failure(d)
		}
		if d.Status == ecstypes.ServiceDeploymentStatusSuccessful {
			return false, fmt.Errorf("ecs service deployment %s already succeeded: %w", arn, ErrTooLate)
		}
		if baking(d) {
			return true, nil
		}
		hook = pausedHook(d, ecstypes.ServiceDeploymentLifecycleStagePostProductionTrafficShift)
		return hook != "", nil
	})
	if err != nil {
		return err
	}
	if hook == "" { // baking already: continued by an earlier attempt?
		v, ok := cutover.Recall(ctx, keyContinued)
		sec, perr := strconv.ParseInt(v, 10, 64)
		if !ok || perr != nil {
			return fmt.Errorf("ecs service deployment %s is baking, but not by this cutover's doing: %w", arn, ErrWindowUnknown)
		}
		if lag := e.opts.Clock.Now().Sub(time.Unix(sec, 0)); lag > e.opts.WindowMargin {
			return fmt.Errorf("ecs service deployment %s: the bake began %s ago, more than Options.WindowMargin %s, so the declared window could outlast the real one: %w",
				arn, lag.Round(time.Second), e.opts.WindowMargin, ErrWindowUnknown)
		}
		return nil
	}
	if err := cutover.Remember(ctx, keyContinued, strconv.FormatInt(e.opts.Clock.Now().Unix(), 10)); err != nil {
		return err
	}
	return e.continueHook(ctx, arn, hook, ecstypes.DeploymentLifecycleHookActionContinue)
}

func (e *ECS) applyCleanUp(ctx context.Context) error {
	arn, err := e.ensureDeployment(ctx, false)
	if err != nil {
		return err
	}
	if arn == "" {
		return fmt.Errorf("%s: no service deployment of %s found: %w", e.res, e.spec.TaskDefinition, ErrDeploymentFailed)
	}
	return e.opts.poll(ctx, fmt.Sprintf("ecs service deployment %s: clean-up", arn), e.spec.Window+e.opts.Timeout, func(ctx context.Context) (bool, error) {
		d, err := e.describe(ctx, arn)
		if err != nil {
			return false, err
		}
		if ecsFailed(d.Status) {
			return false, e.failure(d)
		}
		return d.Status == ecstypes.ServiceDeploymentStatusSuccessful, nil
	})
}

// revert rolls the deployment back and waits for the rollback.
func (e *ECS) revert(ctx context.Context) error {
	arn, err := e.ensureDeployment(ctx, false)
	if err != nil {
		return err
	}
	if arn == "" {
		e.log.Info("nothing to roll back: no service deployment was started")
		return nil
	}
	d, err := e.describe(ctx, arn)
	if err != nil {
		return err
	}
	switch d.Status {
	case ecstypes.ServiceDeploymentStatusSuccessful:
		return fmt.Errorf("ecs service deployment %s succeeded: %w", arn, ErrTooLate)
	case ecstypes.ServiceDeploymentStatusRollbackSuccessful:
		return nil
	case ecstypes.ServiceDeploymentStatusRollbackFailed, ecstypes.ServiceDeploymentStatusStopped:
		return fmt.Errorf("roll back: %w", e.failure(d))
	case ecstypes.ServiceDeploymentStatusPending, ecstypes.ServiceDeploymentStatusInProgress:
		if hook := pausedHook(d, ""); hook != "" {
			err = e.continueHook(ctx, arn, hook, ecstypes.DeploymentLifecycleHookActionRollback)
		} else {
			_, err = e.client.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{
				ServiceDeploymentArn: aws.String(arn), StopType: ecstypes.StopServiceDeploymentStopTypeRollback,
			})
			if err != nil {
				err = fmt.Errorf("stop ecs service deployment %s with rollback: %w", arn, err)
			}
		}
		if err != nil {
			return err
		}
		e.log.Info("rolling back", zap.String("service_deployment", arn))
	}
	return e.opts.poll(ctx, fmt.Sprintf("ecs service deployment %s: rollback", arn), e.opts.RollbackTimeout, func(ctx context.Context) (bool, error) {
		d, err := e.describe(ctx, arn)
		if err != nil {
			return false, err
		}
		switch d.Status {
		case ecstypes.ServiceDeploymentStatusRollbackSuccessful:
			e.log.Info("rolled back", zap.String("service_deployment", arn))
			return true, nil
		case ecstypes.ServiceDeploymentStatusRollbackFailed, ecstypes.ServiceDeploymentStatusStopped:
			return false, fmt.Errorf("roll back: %w", e.failure(d))
		case ecstypes.ServiceDeploymentStatusSuccessful:
			return false, fmt.Errorf("ecs service deployment %s succeeded before it could be rolled back: %w", arn, ErrTooLate)
		}
		return false, nil
	})
}

// ecsGate reports the deployment's own state as a gate: Fail once ECS
// stopped or rolled it back (its alarms, a circuit breaker, a hook timing
// out), otherwise a Pass (never final: it does not end a bake early) with
// the new revision's traffic share.
type ecsGate struct{ e *ECS }

// Name names the gate in verdict records.
func (g ecsGate) Name() string { return "ecs service deployment" }

// Evaluate reads the deployment.
func (g ecsGate) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	arn := g.e.DeploymentARN()
	if arn == "" { // a resumed process: find the deployment
		svc, err := g.e.describeService(ctx)
		if err != nil {
			return cutover.Verdict{}, err
		}
		if !sameTaskDef(deref(svc.TaskDefinition), g.e.spec.TaskDefinition) || deref(svc.CurrentServiceDeployment) == "" {
			return cutover.Verdict{Reason: fmt.Sprintf("no service deployment of %s found on %s", g.e.spec.TaskDefinition, g.e.res)}, nil
		}
		arn = deref(svc.CurrentServiceDeployment)
		g.e.setARN(arn)
	}
	d, err := g.e.describe(ctx, arn)
	if err != nil {
		return cutover.Verdict{}, err
	}
	figs := map[string]float64{"green_weight": greenWeight(d)}
	switch {
	case ecsFailed(d.Status):
		return cutover.Verdict{Decision: cutover.Fail, Reason: g.e.failure(d).Error(), Figures: figs}, nil
	case d.Status == ecstypes.ServiceDeploymentStatusSuccessful:
		return cutover.Verdict{Decision: cutover.Fail, Figures: figs,
			Reason: fmt.Sprintf("ecs service deployment %s succeeded: the original revision was cleaned up outside this cutover", arn)}, nil
	}
	return cutover.Verdict{Decision: cutover.Pass, Figures: figs,
		Reason: fmt.Sprintf("ecs service deployment %s %s at %s, new revision %s of production traffic", arn, d.Status, d.LifecycleStage, pct(greenWeight(d)))}, nil
}
