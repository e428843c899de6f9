package awstest

import (
	"fmt"
	"time"

	"github.com/safecutover/safecutover/providers"
)

// ManagedGroup describes a CodeDeploy ECS blue/green deployment group, and
// the ECS service it deploys, for AddDeploymentGroup. The zero values of
// the fields that are not required describe a group set up right; the
// "No…"/"Off" fields set one up wrongly, for tests.
type ManagedGroup struct {
	// Application and Name name the group. Required.
	Application, Name string
	// Cluster and Service name its ECS service. Defaults "default" and
	// Name.
	Cluster, Service string
	// TaskDefinition is what the service runs now. Default
	// "arn:aws:ecs:us-east-1:123456789012:task-definition/<service>:1".
	TaskDefinition string
	// DeploymentConfig is the group's default config. Default
	// "CodeDeployDefault.ECSAllAtOnce".
	DeploymentConfig string
	// TerminationWait is how long the original task set is kept after all
	// traffic has moved, in whole minutes. Default 1h.
	TerminationWait time.Duration
	// ManualReroute makes deployments wait, in status Ready, for
	// ContinueDeployment(READY_WAIT) before they shift traffic, for at most
	// ReadyWait (default 1h), after which they stop.
	ManualReroute bool
	ReadyWait     time.Duration
	// ComputePlatform defaults to "ECS".
	ComputePlatform string
	// InPlace makes the group's deployment style IN_PLACE.
	InPlace bool
	// NoTargetGroups leaves the target group pair out.
	NoTargetGroups bool
	// ServiceController is the service's deployment controller. Default
	// "CODE_DEPLOY".
	ServiceController string
	// AutoRollbackOff: a deployment that fails on its own is not rolled
	// back.
	AutoRollbackOff bool
	// Router, if set, follows the traffic shift: Blue and Green (defaults
	// "blue" and "green") get the original and the replacement task set's
	// shares.
	Router      providers.TrafficRouter
	Blue, Green string
	// TerminationWaitFlagOff makes GetDeployment answer
	// instanceTerminationWaitTimeStarted false throughout, as CodeDeploy
	// has been reported to for ECS (aws/containers-roadmap#269); by
	// default it is true once the termination wait has begun, as the API
	// reference documents. The ECS target's lifecycle events say when in
	// both cases.
	TerminationWaitFlagOff bool
}

type cdGroup struct {
	ManagedGroup
	id string
}

type cdConfig struct {
	Name     string
	Platform string
	Type     string // AllAtOnce, TimeBasedCanary, TimeBasedLinear
	Percent  int
	Interval int // minutes
}

func predefinedConfigs() []cdConfig {
	return []cdConfig{
		{Name: "CodeDeployDefault.ECSAllAtOnce", Platform: "ECS", Type: "AllAtOnce"},
		{Name: "CodeDeployDefault.ECSCanary10Percent5Minutes", Platform: "ECS", Type: "TimeBasedCanary", Percent: 10, Interval: 5},
		{Name: "CodeDeployDefault.ECSCanary10Percent15Minutes", Platform: "ECS", Type: "TimeBasedCanary", Percent: 10, Interval: 15},
		{Name: "CodeDeployDefault.ECSLinear10PercentEvery1Minutes", Platform: "ECS", Type: "TimeBasedLinear", Percent: 10, Interval: 1},
		{Name: "CodeDeployDefault.ECSLinear10PercentEvery3Minutes", Platform: "ECS", Type: "TimeBasedLinear", Percent: 10, Interval: 3},
		{Name: "CodeDeployDefault.OneAtATime", Platform: "Server"},
		{Name: "CodeDeployDefault.LambdaCanary10Percent5Minutes", Platform: "Lambda", Type: "TimeBasedCanary", Percent: 10, Interval: 5},
	}
}

func (c cdConfig) shift() time.Duration {
	iv := time.Duration(c.Interval) * time.Minute
	switch c.Type {
	case "TimeBasedCanary":
		return iv
	case "TimeBasedLinear":
		steps := (100 + c.Percent - 1) / c.Percent
		return time.Duration(steps-1) * iv
	}
	return 0
}

// weight is the replacement's share d after shifting began.
func (c cdConfig) weight(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	iv := time.Duration(c.Interval) * time.Minute
	switch c.Type {
	case "TimeBasedCanary":
		if d < iv {
			return float64(c.Percent)
		}
	case "TimeBasedLinear":
		return float64(min(100, (int(d/iv)+1)*c.Percent))
	}
	return 100
}

func (c cdConfig) json() obj {
	o := obj{"deploymentConfigName": c.Name, "deploymentConfigId": "cfg-" + c.Name, "computePlatform": c.Platform}
	if c.Platform == "Server" {
		return o
	}
	tr := obj{"type": c.Type}
	switch c.Type {
	case "TimeBasedCanary":
		tr["timeBasedCanary"] = obj{"canaryPercentage": c.Percent, "canaryInterval": c.Interval}
	case "TimeBasedLinear":
		tr["timeBasedLinear"] = obj{"linearPercentage": c.Percent, "linearInterval": c.Interval}
	}
	o["trafficRoutingConfig"] = tr
	return o
}

// AddDeploymentGroup adds a CodeDeploy ECS blue/green deployment group and
// its ECS service.
func (m *Managed) AddDeploymentGroup(g ManagedGroup) error {
	if g.Application == "" || g.Name == "" {
		return simInvalid("managed deployment group: Application and Name are required")
	}
	if g.Cluster == "" {
		g.Cluster = "default"
	}
	if g.Service == "" {
		g.Service = g.Name
	}
	if g.TaskDefinition == "" {
		g.TaskDefinition = fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/%s:1", g.Service)
	}
	if g.DeploymentConfig == "" {
		g.DeploymentConfig = "CodeDeployDefault.ECSAllAtOnce"
	}
	if g.TerminationWait == 0 {
		g.TerminationWait = time.Hour
	}
	if g.TerminationWait < 0 || g.TerminationWait%time.Minute != 0 {
		return simInvalid("managed deployment group %q: TerminationWait %s is not a whole number of minutes", g.Name, g.TerminationWait)
	}
	if g.ReadyWait <= 0 {
		g.ReadyWait = time.Hour
	}
	if g.ComputePlatform == "" {
		g.ComputePlatform = "ECS"
	}
	if g.ServiceController == "" {
		g.ServiceController = "CODE_DEPLOY"
	}
	if g.Blue == "" {
		g.Blue = "blue"
	}
	if g.Green == "" {
		g.Green = "green"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := g.Application + "/" + g.Name
	if _, ok := m.groups[key]; ok {
		return simInvalid("managed deployment group %q of application %q exists", g.Name, g.Application)
	}
	m.groups[key] = &cdGroup{ManagedGroup: g, id: fmt.Sprintf("dg-%d", m.nextID())}
	return m.addServiceLocked(ManagedService{
		Cluster: g.Cluster, Name: g.Service, TaskDefinition: g.TaskDefinition, Controller: g.ServiceController,
		NoAlternateTargetGroup: true, Router: g.Router, Blue: g.Blue, Green: g.Green,
	})
}

// cdDeployment is one simulated CodeDeploy deployment.
type cdDeployment struct {
	id, desc     string
	group        *cdGroup
	config       cdConfig
	appSpec, sha string
	taskDef      string
	status       string
	created      time.Time
	completed    time.Time
	installEnd   time.Time
	shiftStart   time.Time
	rerouted     bool
	waitStarted  bool
	weight       float64
	errCode      string
	errMsg       string
	rollbackOf   string
	rollbackID   string
	blueGone     bool
}

func (d *cdDeployment) terminal() bool {
	return d.status == "Succeeded" || d.status == "Failed" || d.status == "Stopped"
}

func (d *cdDeployment) setWeight(w float64) {
	if w != d.weight {
		d.weight = w
		g := d.group
		follow(g.Router, g.Blue, g.Green, w)
	}
}

func (d *cdDeployment) advance(m *Managed, now time.Time) {
	if d.terminal() {
		return
	}
	if d.rollbackOf != "" {
		if end := d.created.Add(m.opts.Rollback); !now.Before(end) {
			d.status, d.completed = "Succeeded", end
		}
		return
	}
	g := d.group
	if d.shiftStart.IsZero() {
		if now.Before(d.installEnd) {
			return
		}
		if g.ManualReroute && !d.rerouted {
			d.status = "Ready"
			if end := d.installEnd.Add(g.ReadyWait); !now.Before(end) {
				d.status, d.completed = "Stopped", end
				d.errCode, d.errMsg = "TIMEOUT", "traffic was not rerouted within the ready wait"
			}
			return
		}
		d.shiftStart, d.status = d.installEnd, "InProgress"
	}
	d.setWeight(d.config.weight(now.Sub(d.shiftStart)))
	shiftEnd := d.shiftStart.Add(d.config.shift())
	if now.Before(shiftEnd) {
		return
	}
	d.waitStarted = true
	if end := shiftEnd.Add(g.TerminationWait); !now.Before(end) {
		d.succeed(m, end)
	}
}

func (d *cdDeployment) succeed(m *Managed, at time.Time) {
	d.status, d.completed, d.blueGone = "Succeeded", at, true
	if s := m.services[d.group.Cluster+"/"+d.group.Service]; s != nil {
		s.taskDef = d.taskDef
	}
}

// rollback starts a rollback deployment and moves the traffic back.
func (d *cdDeployment) rollback(m *Managed, now time.Time) {
	rb := &cdDeployment{
		id: fmt.Sprintf("d-SIM%06d", m.nextID()), group: d.group, config: d.config, desc: "rollback of " + d.id,
		appSpec: d.appSpec, sha: d.sha, taskDef: d.taskDef, status: "InProgress", created: now, rollbackOf: d.id,
	}
	m.cdDeps[rb.id] = rb
	m.cdOrder = append(m.cdOrder, rb.id)
	d.rollbackID = rb.id
	d.setWeight(0)
}

// FailDeployment makes the deployment with the given ID (CodeDeploy) or ARN
// (ECS) fail as if one of its alarms fired; it is rolled back as the
// service would.
func (m *Managed) FailDeployment(id, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked()
	now := m.opts.Clock.Now()
	if d, ok := m.cdDeps[id]; ok {
		if d.terminal() {
			return simInvalid("managed deployment %s is %s", id, d.status)
		}
		d.status, d.completed, d.errCode, d.errMsg = "Failed", now, "ALARM_ACTIVE", reason
		if !d.group.AutoRollbackOff {
			d.rollback(m, now)
		}
		return nil
	}
	if d, ok := m.ecsDeps[id]; ok {
		if d.terminal() {
			return simInvalid("managed deployment %s is %s", id, d.status)
		}
		d.rollback(m, now, reason)
		return nil
	}
	return simNotFound("managed deployment", id)
}

// ManagedDeployment is a snapshot of one simulated deployment.
type ManagedDeployment struct {
	// ID is the CodeDeploy deployment ID or the ECS service deployment ARN.
	ID string
	// Kind is "codedeploy" or "ecs".
	Kind string
	// Service is "<cluster>/<service>".
	Service        string
	TaskDefinition string
	// Status is the service's status word (CodeDeploy's "InProgress",
	// ECS's "IN_PROGRESS", ...).
	Status string
	// Stage is ECS's lifecycle stage; for CodeDeploy "install", "ready",
	// "shift", "termination wait" or "".
	Stage string
	// GreenWeight is the new revision's share of production traffic.
	GreenWeight float64
	// RollbackOf is, for a CodeDeploy rollback deployment, the deployment
	// it rolls back. RolledBack says a rollback was started for it.
	RollbackOf string
	RolledBack bool
	// BlueGone says the original revision was terminated (the deployment
	// succeeded).
	BlueGone bool
	Created  time.Time
}

func (d *cdDeployment) snapshot() ManagedDeployment {
	stage := ""
	switch {
	case d.terminal():
	case d.shiftStart.IsZero() && d.status == "Ready":
		stage = "ready"
	case d.shiftStart.IsZero():
		stage = "install"
	case d.waitStarted:
		stage = "termination wait"
	default:
		stage = "shift"
	}
	return ManagedDeployment{
		ID: d.id, Kind: "codedeploy", Service: d.group.Cluster + "/" + d.group.Service, TaskDefinition: d.taskDef,
		Status: d.status, Stage: stage, GreenWeight: d.weight, RollbackOf: d.rollbackOf,
		RolledBack: d.rollbackID != "", BlueGone: d.blueGone, Created: d.created,
	}
}

// Deployments returns every deployment, CodeDeploy's then ECS's, each in
// the order they were created.
func (m *Managed) Deployments() []ManagedDeployment {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked()
	var out []ManagedDeployment
	for _, id := range m.cdOrder {
		out = append(out, m.cdDeps[id].snapshot())
	}
	for _, arn := range m.ecsOrder {
		out = append(out, m.ecsDeps[arn].snapshot())
	}
	return out
}

func (d *cdDeployment) json() obj {
	o := obj{
		"deploymentId": d.id, "applicationName": d.group.Application, "deploymentGroupName": d.group.Name,
		"deploymentConfigName": d.config.Name, "status": d.status, "description": d.desc,
		"computePlatform": "ECS", "createTime": epoch(d.created), "startTime": epoch(d.created),
		"completeTime":                       epoch(d.completed),
		"instanceTerminationWaitTimeStarted": d.waitStarted && !d.group.TerminationWaitFlagOff,
		"deploymentOverview":                 d.overview(),
		"deploymentStyle":                    obj{"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
		"revision":                           obj{"revisionType": "AppSpecContent", "appSpecContent": obj{"content": d.appSpec, "sha256": d.sha}},
	}
	if d.errCode != "" {
		o["errorInformation"] = obj{"code": d.errCode, "message": d.errMsg}
	}
	switch {
	case d.rollbackID != "":
		o["rollbackInfo"] = obj{"rollbackDeploymentId": d.rollbackID, "rollbackMessage": "rolled back by " + d.rollbackID}
	case d.rollbackOf != "":
		o["rollbackInfo"] = obj{"rollbackTriggeringDeploymentId": d.rollbackOf}
	}
	return o
}

// targetStatus is the status of the deployment's one ECS target.
func (d *cdDeployment) targetStatus() string {
	switch {
	case d.status == "Failed" || d.status == "Stopped":
		return "Failed"
	case d.waitStarted || d.status == "Succeeded":
		return "Succeeded"
	case d.status == "Ready":
		return "Ready"
	}
	return "InProgress"
}

// overview counts the deployment's targets (one ECS service) by status.
func (d *cdDeployment) overview() obj {
	o := obj{"Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0}
	o[d.targetStatus()] = 1
	return o
}

// targetUpdated is when the deployment target last changed status.
func (d *cdDeployment) targetUpdated() time.Time {
	switch {
	case !d.completed.IsZero() && d.status != "Succeeded":
		return d.completed
	case d.waitStarted:
		return d.shiftStart.Add(d.config.shift())
	case !d.shiftStart.IsZero():
		return d.shiftStart
	}
	return d.created
}

func (d *cdDeployment) events(now time.Time) []obj {
	type ev struct {
		name       string
		start, end time.Time
	}
	var evs []ev
	for _, n := range []string{"BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic"} {
		evs = append(evs, ev{n, d.created, d.installEnd})
	}
	if !d.shiftStart.IsZero() {
		end := d.shiftStart.Add(d.config.shift())
		evs = append(evs, ev{"BeforeAllowTraffic", d.shiftStart, d.shiftStart}, ev{"AllowTraffic", d.shiftStart, end}, ev{"AfterAllowTraffic", end, end})
	}
	out := make([]obj, 0, len(evs))
	for _, e := range evs {
		o := obj{"lifecycleEventName": e.name, "startTime": epoch(e.start), "status": "InProgress"}
		switch {
		case now.Before(e.start):
			o["status"], o["startTime"] = "Pending", nil
		case !now.Before(e.end):
			o["status"], o["endTime"] = "Succeeded", epoch(e.end)
		}
		out = append(out, o)
	}
	return out
}
