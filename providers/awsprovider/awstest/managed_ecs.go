package awstest

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/safecutover/safecutover/providers"
)

// ManagedService describes an ECS service for native deployments, for
// AddService. The zero values of the fields that are not required describe
// a service set up right for BLUE_GREEN, CANARY and LINEAR deployments; the
// "No…" fields set one up wrongly, for tests.
type ManagedService struct {
	// Cluster and Name name the service. Cluster defaults to "default";
	// Name is required.
	Cluster, Name string
	// TaskDefinition is what the service runs now. Default
	// "arn:aws:ecs:us-east-1:123456789012:task-definition/<name>:1".
	TaskDefinition string
	// Controller is the deployment controller. Default "ECS".
	Controller string
	// NoLoadBalancer leaves the load balancer out; NoAlternateTargetGroup
	// leaves out its advanced configuration (alternate target group,
	// production listener rule, role).
	NoLoadBalancer         bool
	NoAlternateTargetGroup bool
	// Router, if set, follows the traffic shift: Blue and Green (defaults
	// "blue" and "green") get the old and the new revision's shares.
	Router      providers.TrafficRouter
	Blue, Green string
}

// ecsService is one ECS service: its setup (ManagedService), its capacity
// (Service) and what its deployments changed.
type ecsService struct {
	ManagedService
	Service
	arn, clusterArn string
	taskDef         string
	controller      string
	config          json.RawMessage // deploymentConfiguration as last set
	current         string          // current service deployment ARN
}

// AddService adds an ECS service.
func (m *Managed) AddService(s ManagedService) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addServiceLocked(s)
}

func (m *Managed) addServiceLocked(s ManagedService) error {
	if s.Name == "" {
		return simInvalid("managed service: Name is required")
	}
	if s.Cluster == "" {
		s.Cluster = "default"
	}
	if s.TaskDefinition == "" {
		s.TaskDefinition = fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/%s:1", s.Name)
	}
	if s.Controller == "" {
		s.Controller = "ECS"
	}
	if s.Blue == "" {
		s.Blue = "blue"
	}
	if s.Green == "" {
		s.Green = "green"
	}
	key := s.Cluster + "/" + s.Name
	if _, ok := m.services[key]; ok {
		return simInvalid("managed service %q in cluster %q exists", s.Name, s.Cluster)
	}
	m.services[key] = &ecsService{
		ManagedService: s,
		arn:            fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:service/%s/%s", s.Cluster, s.Name),
		clusterArn:     "arn:aws:ecs:us-east-1:123456789012:cluster/" + s.Cluster,
		taskDef:        s.TaskDefinition,
		controller:     s.Controller,
		Service:        Service{Desired: 2, Running: 2, Status: "ACTIVE"},
		config:         json.RawMessage(`{"maximumPercent":200,"minimumHealthyPercent":100,"strategy":"ROLLING"}`),
	}
	return nil
}

// ServiceTaskDefinition returns the service's task definition: the new one
// from the moment a deployment starts, the old one again after a rollback.
func (m *Managed) ServiceTaskDefinition(cluster, service string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked()
	if cluster == "" {
		cluster = "default"
	}
	s := m.services[cluster+"/"+service]
	if s == nil {
		return "", simNotFound("managed service", cluster+"/"+service)
	}
	return s.taskDef, nil
}

func (s *ecsService) json() obj {
	o := obj{
		"serviceArn": s.arn, "serviceName": s.Name, "clusterArn": s.clusterArn, "status": s.Status,
		"taskDefinition": s.taskDef, "launchType": "FARGATE",
		"desiredCount": s.Desired, "runningCount": s.Running, "pendingCount": max(0, s.Desired-s.Running),
		"deployments":              []obj{s.primary()},
		"deploymentController":     obj{"type": s.controller},
		"deploymentConfiguration":  s.config,
		"currentServiceDeployment": s.current,
	}
	if !s.NoLoadBalancer {
		lb := obj{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/" + s.Name + "-blue/1",
			"containerName": "web", "containerPort": 8080}
		if !s.NoAlternateTargetGroup {
			lb["advancedConfiguration"] = obj{
				"alternateTargetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/" + s.Name + "-green/2",
				"productionListenerRule":  "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/" + s.Name + "/1/1/1",
				"roleArn":                 "arn:aws:iam::123456789012:role/ecs-infrastructure",
			}
		}
		o["loadBalancers"] = []obj{lb}
	}
	return o
}

// primary is the service's PRIMARY deployment as DescribeServices shows
// it (its rolloutState only if Rollout is set).
func (s *ecsService) primary() obj {
	dep := obj{"id": "ecs-svc/1", "status": "PRIMARY", "desiredCount": s.Desired, "runningCount": s.Running, "rolloutState": s.Rollout}
	if s.Rollout == "FAILED" {
		dep["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
	}
	return dep
}

// step moves the running count ecsStep tasks toward the desired count, as
// tasks start and stop between two describes.
func (s *ecsService) step(n int) {
	switch {
	case s.Running < s.Desired:
		s.Running = min(s.Desired, s.Running+n)
	case s.Running > s.Desired:
		s.Running = max(s.Desired, s.Running-n)
	}
}

// ecsConfig is the part of a deploymentConfiguration the simulation reads.
type ecsConfig struct {
	Strategy            string `json:"strategy"`
	BakeTimeInMinutes   *int   `json:"bakeTimeInMinutes"`
	CanaryConfiguration *struct {
		Percent *float64 `json:"canaryPercent"`
		Bake    *int     `json:"canaryBakeTimeInMinutes"`
	} `json:"canaryConfiguration"`
	LinearConfiguration *struct {
		Percent *float64 `json:"stepPercent"`
		Bake    *int     `json:"stepBakeTimeInMinutes"`
	} `json:"linearConfiguration"`
	LifecycleHooks []struct {
		TargetType           string   `json:"targetType"`
		LifecycleStages      []string `json:"lifecycleStages"`
		TimeoutConfiguration *struct {
			Action  string `json:"action"`
			Minutes *int   `json:"timeoutInMinutes"`
		} `json:"timeoutConfiguration"`
	} `json:"lifecycleHooks"`
}

type ecsPhase struct {
	stage  string
	dur    time.Duration
	weight float64 // ≥ 0: the new revision's share from this phase on
}

type ecsPause struct {
	timeout time.Duration
	action  string
}

type ecsHook struct {
	id      string
	status  string
	expires time.Time
	action  string
}

// ecsDeployment is one simulated ECS service deployment.
type ecsDeployment struct {
	arn        string
	svc        *ecsService
	config     json.RawMessage
	source     string // old task definition
	target     string // new task definition
	status     string
	reason     string
	stage      string
	phases     []ecsPhase
	idx        int
	phaseStart time.Time
	pauses     map[string]ecsPause
	hooks      []*ecsHook
	awaiting   *ecsHook
	weight     float64
	created    time.Time
	finished   time.Time
	updated    time.Time
	rbReason   string
	rbStart    time.Time
	rbEnd      time.Time
}

func (d *ecsDeployment) terminal() bool {
	switch d.status {
	case "SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED":
		return true
	}
	return false
}

func (d *ecsDeployment) setWeight(w float64) {
	if w != d.weight {
		d.weight = w
		follow(d.svc.Router, d.svc.Blue, d.svc.Green, w)
	}
}

// enter starts phase idx at t, pausing at a PAUSE hook configured for it.
func (d *ecsDeployment) enter(m *Managed, idx int, t time.Time) {
	d.idx, d.phaseStart, d.updated = idx, t, t
	p := d.phases[idx]
	d.stage = p.stage
	if p.weight >= 0 {
		d.setWeight(p.weight)
	}
	if pz, ok := d.pauses[p.stage]; ok {
		h := &ecsHook{id: fmt.Sprintf("ecs-pause-%d", m.nextID()), status: "AWAITING_ACTION", expires: t.Add(pz.timeout), action: pz.action}
		d.hooks = append(d.hooks, h)
		d.awaiting = h
	}
}

func (d *ecsDeployment) advance(m *Managed, now time.Time) {
	for !d.terminal() {
		if d.status == "ROLLBACK_IN_PROGRESS" {
			if !now.Before(d.rbEnd) {
				d.status, d.finished, d.updated = "ROLLBACK_SUCCESSFUL", d.rbEnd, d.rbEnd
			}
			return
		}
		if h := d.awaiting; h != nil {
			if now.Before(h.expires) {
				return
			}
			h.status, d.awaiting = "TIMED_OUT", nil
			if h.action != "CONTINUE" {
				d.rollback(m, h.expires, "lifecycle hook "+h.id+" timed out")
				continue
			}
			d.phaseStart = h.expires
		}
		end := d.phaseStart.Add(d.phases[d.idx].dur)
		if now.Before(end) {
			return
		}
		if d.idx+1 == len(d.phases) {
			d.status, d.finished, d.updated, d.stage = "SUCCESSFUL", end, end, "CLEAN_UP"
			return
		}
		d.enter(m, d.idx+1, end)
	}
}

func (d *ecsDeployment) rollback(m *Managed, at time.Time, reason string) {
	if d.awaiting != nil {
		d.awaiting.status, d.awaiting = "FAILED", nil
	}
	d.status, d.rbReason, d.rbStart, d.rbEnd, d.updated = "ROLLBACK_IN_PROGRESS", reason, at, at.Add(m.opts.Rollback), at
	d.reason = reason
	d.setWeight(0)
	d.svc.taskDef = d.source
}

func (d *ecsDeployment) snapshot() ManagedDeployment {
	return ManagedDeployment{
		ID: d.arn, Kind: "ecs", Service: d.svc.Cluster + "/" + d.svc.Name, TaskDefinition: d.target,
		Status: d.status, Stage: d.stage, GreenWeight: d.weight, RolledBack: !d.rbStart.IsZero(),
		BlueGone: d.status == "SUCCESSFUL", Created: d.created,
	}
}

func (d *ecsDeployment) json() obj {
	rev := func(arn string, w float64) obj {
		return obj{"arn": arn, "requestedTaskCount": 2, "runningTaskCount": 2, "pendingTaskCount": 0, "requestedProductionTrafficWeight": w}
	}
	var hooks []obj
	for _, h := range d.hooks {
		hooks = append(hooks, obj{"hookId": h.id, "targetType": "PAUSE", "status": h.status, "expiresAt": epoch(h.expires), "timeoutAction": h.action})
	}
	o := obj{
		"serviceDeploymentArn": d.arn, "serviceArn": d.svc.arn, "clusterArn": d.svc.clusterArn,
		"createdAt": epoch(d.created), "startedAt": epoch(d.created), "updatedAt": epoch(d.updated), "finishedAt": epoch(d.finished),
		"status": d.status, "statusReason": d.reason, "lifecycleStage": d.stage,
		"sourceServiceRevisions":  []obj{rev(d.arn+"/source", 100-d.weight)},
		"targetServiceRevision":   rev(d.arn+"/target", d.weight),
		"deploymentConfiguration": d.config,
		"lifecycleHookDetails":    hooks,
	}
	if !d.rbStart.IsZero() {
		o["rollback"] = obj{"reason": d.rbReason, "startedAt": epoch(d.rbStart), "serviceRevisionArn": d.arn + "/source"}
	}
	return o
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// newECSDeployment builds the lifecycle of a deployment of s to taskDef
// under cfg, or explains why ECS would refuse it.
func (m *Managed) newECSDeployment(s *ecsService, taskDef string, raw json.RawMessage, now time.Time) (*ecsDeployment, *Fault) {
	var cfg ecsConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, clientErr("InvalidParameterException", "deploymentConfiguration: %v", err)
	}
	var steps []float64
	stepBake := 0
	switch cfg.Strategy {
	case "BLUE_GREEN":
		if cfg.BakeTimeInMinutes == nil {
			return nil, clientErr("InvalidParameterException", "bakeTimeInMinutes is required for BLUE_GREEN")
		}
		steps = []float64{100}
	case "CANARY":
		p, b := 5.0, 10
		if c := cfg.CanaryConfiguration; c != nil {
			if c.Percent != nil {
				p = *c.Percent
			}
			b = intOr(c.Bake, b)
		}
		steps, stepBake = []float64{p, 100}, b
	case "LINEAR":
		p, b := 10.0, 6
		if c := cfg.LinearConfiguration; c != nil {
			if c.Percent != nil {
				p = *c.Percent
			}
			b = intOr(c.Bake, b)
		}
		if p < 3 {
			return nil, clientErr("InvalidParameterException", "linearConfiguration.stepPercent %g below 3", p)
		}
		tenths := int(math.Round(p * 10))
		for w := tenths; w < 1000; w += tenths {
			steps = append(steps, float64(w)/10)
		}
		steps = append(steps, 100)
	default:
		return nil, clientErr("InvalidParameterException", "strategy %q is not simulated (BLUE_GREEN, CANARY, LINEAR are)", cfg.Strategy)
	}
	if s.NoLoadBalancer || s.NoAlternateTargetGroup {
		return nil, clientErr("InvalidParameterException", "%s deployments need a load balancer with advancedConfiguration", cfg.Strategy)
	}
	pauses := map[string]ecsPause{}
	for _, h := range cfg.LifecycleHooks {
		if h.TargetType != "PAUSE" {
			continue
		}
		pz := ecsPause{timeout: 1440 * time.Minute, action: "ROLLBACK"}
		if tc := h.TimeoutConfiguration; tc != nil {
			pz.timeout = time.Duration(intOr(tc.Minutes, 1440)) * time.Minute
			if tc.Action != "" {
				pz.action = tc.Action
			}
		}
		for _, st := range h.LifecycleStages {
			if st == "PRODUCTION_TRAFFIC_SHIFT" || st == "TEST_TRAFFIC_SHIFT" {
				return nil, clientErr("InvalidParameterException", "PAUSE hooks cannot be configured at %s", st)
			}
			pauses[st] = pz
		}
	}
	phases := []ecsPhase{
		{stage: "PRE_SCALE_UP", weight: -1}, {stage: "SCALE_UP", dur: m.opts.Provision, weight: -1},
		{stage: "POST_SCALE_UP", weight: -1}, {stage: "TEST_TRAFFIC_SHIFT", weight: -1}, {stage: "POST_TEST_TRAFFIC_SHIFT", weight: -1},
	}
	for i, w := range steps {
		bake := time.Duration(stepBake) * time.Minute
		if i == len(steps)-1 {
			bake = 0
		}
		phases = append(phases, ecsPhase{stage: "PRE_PRODUCTION_TRAFFIC_SHIFT", weight: -1}, ecsPhase{stage: "PRODUCTION_TRAFFIC_SHIFT", dur: bake, weight: w})
	}
	phases = append(phases,
		ecsPhase{stage: "POST_PRODUCTION_TRAFFIC_SHIFT", weight: -1},
		ecsPhase{stage: "BAKE_TIME", dur: time.Duration(intOr(cfg.BakeTimeInMinutes, 0)) * time.Minute, weight: -1},
		ecsPhase{stage: "CLEAN_UP", dur: m.opts.CleanUp, weight: -1})
	d := &ecsDeployment{
		arn: fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:service-deployment/%s/%s/sim%06d", s.Cluster, s.Name, m.nextID()),
		svc: s, config: raw, source: s.taskDef, target: taskDef, status: "IN_PROGRESS",
		phases: phases, pauses: pauses, created: now,
	}
	d.enter(m, 0, now)
	return d, nil
}

// ecs answers one ECS operation. m.mu is held.
func (m *Managed) ecs(op string, body []byte) (any, *Fault) {
	var in struct {
		Cluster                 string          `json:"cluster"`
		Service                 string          `json:"service"`
		Services                []string        `json:"services"`
		TaskDefinition          string          `json:"taskDefinition"`
		DesiredCount            *int            `json:"desiredCount"`
		DeploymentConfiguration json.RawMessage `json:"deploymentConfiguration"`
		ServiceDeploymentArns   []string        `json:"serviceDeploymentArns"`
		ServiceDeploymentArn    string          `json:"serviceDeploymentArn"`
		HookID                  string          `json:"hookId"`
		Action                  string          `json:"action"`
		StopType                string          `json:"stopType"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	now := m.opts.Clock.Now()
	cluster := in.Cluster
	if cluster == "" {
		cluster = "default"
	}
	if op == "DescribeServices" || op == "UpdateService" {
		known := false
		for _, s := range m.services {
			known = known || s.Cluster == cluster
		}
		if !known {
			return nil, clientErr("ClusterNotFoundException", "Cluster not found.")
		}
	}
	deployment := func() (*ecsDeployment, *Fault) {
		d := m.ecsDeps[in.ServiceDeploymentArn]
		if d == nil {
			return nil, clientErr("ServiceDeploymentNotFoundException", "service deployment %s not found", in.ServiceDeploymentArn)
		}
		return d, nil
	}
	switch op {
	case "DescribeServices":
		out := obj{"services": []obj{}, "failures": []obj{}}
		var svcs, fails []obj
		for _, name := range in.Services {
			if s := m.services[cluster+"/"+name]; s != nil {
				svcs = append(svcs, s.json())
				s.step(m.ecsStep)
			} else {
				fails = append(fails, obj{"arn": fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:service/%s/%s", cluster, name), "reason": "MISSING"})
			}
		}
		if svcs != nil {
			out["services"] = svcs
		}
		if fails != nil {
			out["failures"] = fails
		}
		return out, nil

	case "UpdateService":
		s := m.services[cluster+"/"+in.Service]
		if s == nil {
			return nil, clientErr("ServiceNotFoundException", "service %s not found in cluster %s", in.Service, cluster)
		}
		if in.DesiredCount != nil {
			if *in.DesiredCount < 0 {
				return nil, clientErr("InvalidParameterException", "desiredCount %d: want ≥ 0", *in.DesiredCount)
			}
			s.Desired = *in.DesiredCount
		}
		if s.controller != "ECS" && in.TaskDefinition != "" {
			return nil, clientErr("InvalidParameterException",
				"unable to update task definition on services with a %s deployment controller", s.controller)
		}
		raw := s.config
		if len(in.DeploymentConfiguration) > 0 {
			raw = in.DeploymentConfiguration
		}
		if in.TaskDefinition != "" && in.TaskDefinition != s.taskDef {
			if cur := m.ecsDeps[s.current]; cur != nil && !cur.terminal() {
				return nil, clientErr("InvalidParameterException", "service %s has deployment %s in progress", s.Name, cur.arn)
			}
			d, err := m.newECSDeployment(s, in.TaskDefinition, raw, now)
			if err != nil {
				return nil, err
			}
			m.ecsDeps[d.arn] = d
			m.ecsOrder = append(m.ecsOrder, d.arn)
			s.current = d.arn
			s.taskDef = in.TaskDefinition
		}
		s.config = raw
		return obj{"service": s.json()}, nil

	case "DescribeServiceDeployments":
		var deps, fails []obj
		for _, arn := range in.ServiceDeploymentArns {
			if d := m.ecsDeps[arn]; d != nil {
				deps = append(deps, d.json())
			} else {
				fails = append(fails, obj{"arn": arn, "reason": "MISSING"})
			}
		}
		out := obj{"serviceDeployments": []obj{}, "failures": []obj{}}
		if deps != nil {
			out["serviceDeployments"] = deps
		}
		if fails != nil {
			out["failures"] = fails
		}
		return out, nil

	case "ContinueServiceDeployment":
		d, err := deployment()
		if err != nil {
			return nil, err
		}
		h := d.awaiting
		if d.status != "IN_PROGRESS" || h == nil || h.id != in.HookID {
			return nil, clientErr("InvalidParameterException", "hook %s of service deployment %s is not awaiting action", in.HookID, d.arn)
		}
		switch in.Action {
		case "", "CONTINUE":
			h.status, d.awaiting, d.phaseStart, d.updated = "SUCCEEDED", nil, now, now
			d.advance(m, now)
		case "ROLLBACK":
			h.status = "SUCCEEDED"
			d.rollback(m, now, "rolled back at lifecycle hook "+h.id)
		default:
			return nil, clientErr("InvalidParameterException", "action %q", in.Action)
		}
		return obj{"serviceDeploymentArn": d.arn}, nil

	case "StopServiceDeployment":
		d, err := deployment()
		if err != nil {
			return nil, err
		}
		if d.terminal() || d.status == "ROLLBACK_IN_PROGRESS" {
			return nil, clientErr("ConflictException", "service deployment %s is %s", d.arn, d.status)
		}
		switch in.StopType {
		case "", "ROLLBACK":
			d.rollback(m, now, "stopped with rollback by request")
		case "ABORT":
			d.status, d.finished, d.reason = "STOPPED", now, "stopped by request"
		default:
			return nil, clientErr("InvalidParameterException", "stopType %q", in.StopType)
		}
		return obj{"serviceDeploymentArn": d.arn}, nil
	}
	return nil, clientErr("UnknownOperationException", "ECS operation %q is not simulated", op)
}
