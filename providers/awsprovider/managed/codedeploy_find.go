package managed

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/safecutover/safecutover/cutover"
	"go.uber.org/zap"
)

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
