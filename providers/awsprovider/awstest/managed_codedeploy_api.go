package awstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// The CodeDeploy API of Managed: each operation the providers call.

var taskDefRE = regexp.MustCompile(`"?TaskDefinition"?\s*:\s*"?([^"\s,}]+)`)

// codeDeploy answers one CodeDeploy operation. m.mu is held.
func (m *Managed) codeDeploy(op string, body []byte) (any, *Fault) {
	var in struct {
		ApplicationName      string   `json:"applicationName"`
		DeploymentGroupName  string   `json:"deploymentGroupName"`
		DeploymentConfigName string   `json:"deploymentConfigName"`
		DeploymentID         string   `json:"deploymentId"`
		TargetID             string   `json:"targetId"`
		Description          string   `json:"description"`
		ComputePlatform      string   `json:"computePlatform"`
		DeploymentWaitType   string   `json:"deploymentWaitType"`
		AutoRollbackEnabled  *bool    `json:"autoRollbackEnabled"`
		IncludeOnlyStatuses  []string `json:"includeOnlyStatuses"`
		CreateTimeRange      *struct {
			Start *float64 `json:"start"`
			End   *float64 `json:"end"`
		} `json:"createTimeRange"`
		TrafficRoutingConfig *struct {
			Type            string `json:"type"`
			TimeBasedCanary *struct {
				Percentage int `json:"canaryPercentage"`
				Interval   int `json:"canaryInterval"`
			} `json:"timeBasedCanary"`
			TimeBasedLinear *struct {
				Percentage int `json:"linearPercentage"`
				Interval   int `json:"linearInterval"`
			} `json:"timeBasedLinear"`
		} `json:"trafficRoutingConfig"`
		Revision *struct {
			RevisionType   string `json:"revisionType"`
			AppSpecContent *struct {
				Content string `json:"content"`
				Sha256  string `json:"sha256"`
			} `json:"appSpecContent"`
		} `json:"revision"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	now := m.opts.Clock.Now()
	group := func() (*cdGroup, *Fault) {
		if in.ApplicationName == "" {
			return nil, clientErr("ApplicationNameRequiredException", "applicationName is required")
		}
		g := m.groups[in.ApplicationName+"/"+in.DeploymentGroupName]
		if g == nil {
			for k := range m.groups {
				if len(k) > len(in.ApplicationName) && k[:len(in.ApplicationName)+1] == in.ApplicationName+"/" {
					return nil, clientErr("DeploymentGroupDoesNotExistException", "deployment group %s does not exist", in.DeploymentGroupName)
				}
			}
			return nil, clientErr("ApplicationDoesNotExistException", "application %s does not exist", in.ApplicationName)
		}
		return g, nil
	}
	deployment := func() (*cdDeployment, *Fault) {
		d := m.cdDeps[in.DeploymentID]
		if d == nil {
			return nil, clientErr("DeploymentDoesNotExistException", "deployment %s does not exist", in.DeploymentID)
		}
		return d, nil
	}
	switch op {
	case "GetDeploymentGroup":
		g, err := group()
		if err != nil {
			return nil, err
		}
		style := obj{"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
		if g.InPlace {
			style = obj{"deploymentType": "IN_PLACE", "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"}
		}
		ready := obj{"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0}
		if g.ManualReroute {
			ready = obj{"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": int(g.ReadyWait / time.Minute)}
		}
		info := obj{
			"applicationName": g.Application, "deploymentGroupName": g.Name, "deploymentGroupId": g.id,
			"computePlatform": g.ComputePlatform, "deploymentConfigName": g.DeploymentConfig, "deploymentStyle": style,
			"ecsServices": []obj{{"clusterName": g.Cluster, "serviceName": g.Service}},
			"blueGreenDeploymentConfiguration": obj{
				"terminateBlueInstancesOnDeploymentSuccess": obj{"action": "TERMINATE", "terminationWaitTimeInMinutes": int(g.TerminationWait / time.Minute)},
				"deploymentReadyOption":                     ready,
			},
			"autoRollbackConfiguration": obj{"enabled": !g.AutoRollbackOff, "events": []string{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}},
		}
		if !g.NoTargetGroups {
			info["loadBalancerInfo"] = obj{"targetGroupPairInfoList": []obj{{
				"targetGroups":     []obj{{"name": g.Service + "-blue"}, {"name": g.Service + "-green"}},
				"prodTrafficRoute": obj{"listenerArns": []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/" + g.Service + "/1/1"}},
			}}}
		}
		return obj{"deploymentGroupInfo": info}, nil

	case "GetDeploymentConfig":
		c, ok := m.configs[in.DeploymentConfigName]
		if !ok {
			return nil, clientErr("DeploymentConfigDoesNotExistException", "deployment config %s does not exist", in.DeploymentConfigName)
		}
		return obj{"deploymentConfigInfo": c.json()}, nil

	case "CreateDeploymentConfig":
		if in.DeploymentConfigName == "" {
			return nil, clientErr("DeploymentConfigNameRequiredException", "deploymentConfigName is required")
		}
		if _, ok := m.configs[in.DeploymentConfigName]; ok {
			return nil, clientErr("DeploymentConfigAlreadyExistsException", "deployment config %s exists", in.DeploymentConfigName)
		}
		c := cdConfig{Name: in.DeploymentConfigName, Platform: in.ComputePlatform, Type: "AllAtOnce"}
		if tr := in.TrafficRoutingConfig; tr != nil {
			c.Type = tr.Type
			switch {
			case tr.Type == "TimeBasedCanary" && tr.TimeBasedCanary != nil:
				c.Percent, c.Interval = tr.TimeBasedCanary.Percentage, tr.TimeBasedCanary.Interval
			case tr.Type == "TimeBasedLinear" && tr.TimeBasedLinear != nil:
				c.Percent, c.Interval = tr.TimeBasedLinear.Percentage, tr.TimeBasedLinear.Interval
			case tr.Type != "AllAtOnce":
				return nil, clientErr("InvalidTrafficRoutingConfigurationException", "traffic routing %q without its settings", tr.Type)
			}
			if c.Type != "AllAtOnce" && (c.Percent < 1 || c.Percent > 99 || c.Interval < 1) {
				return nil, clientErr("InvalidTrafficRoutingConfigurationException", "percentage %d or interval %d out of range", c.Percent, c.Interval)
			}
		}
		m.configs[c.Name] = c
		return obj{"deploymentConfigId": "cfg-" + c.Name}, nil

	case "CreateDeployment":
		g, err := group()
		if err != nil {
			return nil, err
		}
		name := in.DeploymentConfigName
		if name == "" {
			name = g.DeploymentConfig
		}
		c, ok := m.configs[name]
		if !ok {
			return nil, clientErr("DeploymentConfigDoesNotExistException", "deployment config %s does not exist", name)
		}
		if c.Platform != g.ComputePlatform {
			return nil, clientErr("InvalidDeploymentConfigNameException", "deployment config %s is for %s", name, c.Platform)
		}
		for _, id := range m.cdOrder {
			if d := m.cdDeps[id]; d.group == g && !d.terminal() {
				return nil, clientErr("DeploymentLimitExceededException", "deployment group %s has active deployment %s", g.Name, id)
			}
		}
		r := in.Revision
		if r == nil || r.AppSpecContent == nil || r.AppSpecContent.Content == "" {
			return nil, clientErr("RevisionRequiredException", "an AppSpecContent revision is required")
		}
		content := r.AppSpecContent.Content
		sum := sha256.Sum256([]byte(content))
		if r.AppSpecContent.Sha256 != "" && r.AppSpecContent.Sha256 != hex.EncodeToString(sum[:]) {
			return nil, clientErr("InvalidRevisionException", "appSpecContent sha256 does not match its content")
		}
		mt := taskDefRE.FindStringSubmatch(content)
		if mt == nil {
			return nil, clientErr("InvalidRevisionException", "the AppSpec names no TaskDefinition")
		}
		if s := m.services[g.Cluster+"/"+g.Service]; s == nil || s.controller != "CODE_DEPLOY" {
			return nil, clientErr("InvalidECSServiceException", "ecs service %s does not use the CODE_DEPLOY deployment controller", g.Service)
		}
		if g.NoTargetGroups {
			return nil, clientErr("InvalidTargetGroupPairException", "deployment group %s has no target group pair", g.Name)
		}
		d := &cdDeployment{
			id: fmt.Sprintf("d-SIM%06d", m.nextID()), desc: in.Description, group: g, config: c,
			appSpec: content, sha: r.AppSpecContent.Sha256, taskDef: mt[1], status: "InProgress",
			created: now, installEnd: now.Add(m.opts.Provision),
		}
		m.cdDeps[d.id] = d
		m.cdOrder = append(m.cdOrder, d.id)
		return obj{"deploymentId": d.id}, nil

	case "GetDeployment":
		d, err := deployment()
		if err != nil {
			return nil, err
		}
		return obj{"deploymentInfo": d.json()}, nil

	case "GetDeploymentTarget":
		d, err := deployment()
		if err != nil {
			return nil, err
		}
		want := d.group.Cluster + ":" + d.group.Service
		if in.TargetID != want {
			return nil, clientErr("DeploymentTargetDoesNotExistException", "deployment %s has no target %s (it has %s)", d.id, in.TargetID, want)
		}
		status := d.targetStatus()
		return obj{"deploymentTarget": obj{
			"deploymentTargetType": "ECSTarget",
			"ecsTarget": obj{
				"deploymentId": d.id, "targetId": want, "status": status, "lifecycleEvents": d.events(now),
				"lastUpdatedAt": epoch(d.targetUpdated()),
				"taskSetsInfo": []obj{
					{"identifer": "ecs-svc/blue", "taskSetLabel": "Blue", "trafficWeight": 100 - d.weight, "status": "PRIMARY"},
					{"identifer": "ecs-svc/green", "taskSetLabel": "Green", "trafficWeight": d.weight, "status": "ACTIVE"},
				},
			},
		}}, nil

	case "ListDeployments":
		g, err := group()
		if err != nil {
			return nil, err
		}
		var start, end time.Time
		if tr := in.CreateTimeRange; tr != nil {
			start, end = fromEpoch(tr.Start), fromEpoch(tr.End)
		}
		ids := []string{}
		for _, id := range m.cdOrder {
			d := m.cdDeps[id]
			if d.group != g || len(in.IncludeOnlyStatuses) > 0 && !slices.Contains(in.IncludeOnlyStatuses, d.status) ||
				!start.IsZero() && d.created.Before(start) || !end.IsZero() && d.created.After(end) {
				continue
			}
			ids = append(ids, id)
		}
		return obj{"deployments": ids}, nil

	case "ContinueDeployment":
		d, err := deployment()
		if err != nil {
			return nil, err
		}
		if d.terminal() {
			return nil, clientErr("DeploymentAlreadyCompletedException", "deployment %s is %s", d.id, d.status)
		}
		switch in.DeploymentWaitType {
		case "", "READY_WAIT":
			if d.status != "Ready" || d.rerouted {
				return nil, clientErr("DeploymentIsNotInReadyStateException", "deployment %s is not waiting to reroute traffic", d.id)
			}
			d.rerouted, d.shiftStart, d.status = true, now, "InProgress"
			d.advance(m, now)
		case "TERMINATION_WAIT":
			if !d.waitStarted {
				return nil, clientErr("DeploymentIsNotInReadyStateException", "deployment %s is not in its termination wait", d.id)
			}
			d.succeed(m, now)
		default:
			return nil, clientErr("InvalidDeploymentWaitTypeException", "deploymentWaitType %q", in.DeploymentWaitType)
		}
		return obj{}, nil

	case "StopDeployment":
		d, err := deployment()
		if err != nil {
			return nil, err
		}
		if d.terminal() {
			return nil, clientErr("DeploymentAlreadyCompletedException", "deployment %s is %s", d.id, d.status)
		}
		d.status, d.completed, d.errCode, d.errMsg = "Stopped", now, "MANUAL_STOP", "stopped by request"
		if in.AutoRollbackEnabled != nil && *in.AutoRollbackEnabled {
			d.rollback(m, now)
		}
		return obj{"status": "Succeeded", "statusMessage": "stopped"}, nil
	}
	return nil, clientErr("UnknownOperationException", "CodeDeploy operation %q is not simulated", op)
}
