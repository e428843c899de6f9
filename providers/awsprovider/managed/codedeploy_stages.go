package managed

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/safecutover/safecutover/cutover"
	"go.uber.org/zap"
)

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
