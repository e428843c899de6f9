package awstest

// A stateful fake of EC2 Auto Scaling over awsQuery: groups with bounds, a
// desired capacity, instances with lifecycle states, scale-in protection
// and suspended processes. UpdateAutoScalingGroup enforces
// min ≤ desired ≤ max, as the service does. Each DescribeAutoScalingGroups
// moves the group Step instances toward its desired capacity: a launched
// instance is Pending for one describe, then InService; a terminated one
// is Terminating:Wait for HookPolls describes (a lifecycle hook), then
// Terminating for one, then gone. Protected instances are never chosen to
// terminate, and nothing launches while Launch is suspended.

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
)

// BlueASG is the Auto Scaling group of NewAutoScaling.
const BlueASG = "shop-blue-asg"

const asNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

// Instance is an instance of a group, as DescribeAutoScalingGroups
// returns it.
type Instance struct {
	InstanceId           string
	LifecycleState       string
	HealthStatus         string
	ProtectedFromScaleIn bool
	left                 int // describes left in this state
}

type suspended struct {
	ProcessName string
}

// Group is an Auto Scaling group's state.
type Group struct {
	Name               string
	MinSize, MaxSize   int
	DesiredCapacity    int
	Status             string
	Instances          []*Instance
	TargetGroupARNs    []string
	SuspendedProcesses []string
	nextID             int
}

// AutoScaling is a fake EC2 Auto Scaling service. Set Step and HookPolls
// before serving. Safe for concurrent use.
type AutoScaling struct {
	*Faults
	mu     sync.Mutex
	groups map[string]*Group
	// Step is how many instances launch or terminate between two
	// describes.
	Step int
	// HookPolls is how many describes a terminating instance waits in
	// Terminating:Wait.
	HookPolls int
}

// NewAutoScaling returns BlueASG with bounds 2–6 and 4 instances in
// service.
func NewAutoScaling() *AutoScaling {
	f := &AutoScaling{Faults: &Faults{}, groups: map[string]*Group{}, Step: 2}
	g := &Group{Name: BlueASG, MinSize: 2, MaxSize: 6, DesiredCapacity: 4}
	for range 4 {
		g.Launch("InService")
	}
	f.groups[BlueASG] = g
	return f
}

// Launch adds an instance in the given lifecycle state, healthy.
func (g *Group) Launch(state string) *Instance {
	g.nextID++
	in := &Instance{InstanceId: fmt.Sprintf("i-%017x", g.nextID), LifecycleState: state, HealthStatus: "Healthy", left: 1}
	g.Instances = append(g.Instances, in)
	return in
}

// Client returns an SDK client of f at e.
func (f *AutoScaling) Client(e Endpoint) *autoscaling.Client {
	return autoscaling.NewFromConfig(e.Config())
}

// Group returns a copy of a group, without its instances.
func (f *AutoScaling) Group(name string) Group {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := *f.groups[name]
	g.Instances = nil
	return g
}

// Set changes a group in place.
func (f *AutoScaling) Set(name string, fn func(*Group)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.groups[name])
}

// step moves g toward its desired capacity by f.Step instances, and ages
// instances in transitional states.
func (f *AutoScaling) step(g *Group) {
	live := 0
	var kept []*Instance
	for _, in := range g.Instances {
		switch in.LifecycleState {
		case "Pending":
			if in.left--; in.left <= 0 {
				in.LifecycleState = "InService"
			}
		case "Terminating:Wait":
			if in.left--; in.left <= 0 {
				in.LifecycleState, in.left = "Terminating", 1
			}
		case "Terminating":
			if in.left--; in.left <= 0 {
				continue
			}
		}
		kept = append(kept, in)
		if in.LifecycleState == "Pending" || in.LifecycleState == "InService" {
			live++
		}
	}
	g.Instances = kept
	for i := 0; i < f.Step && live < g.DesiredCapacity && !slices.Contains(g.SuspendedProcesses, "Launch"); i++ {
		g.Launch("Pending")
		live++
	}
	for i := len(g.Instances) - 1; i >= 0 && live > g.DesiredCapacity; i-- {
		in := g.Instances[i]
		if in.ProtectedFromScaleIn || in.LifecycleState != "InService" && in.LifecycleState != "Pending" {
			continue
		}
		in.LifecycleState, in.left = "Terminating", 1
		if f.HookPolls > 0 {
			in.LifecycleState, in.left = "Terminating:Wait", f.HookPolls
		}
		live--
	}
}

// ServeHTTP serves one awsQuery call.
func (f *AutoScaling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, op, ok := QueryCall(w, r, "2011-01-01", f.Faults)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := xml.Name{Local: op + "Result"}
	empty := struct{ XMLName xml.Name }{name}
	validation := func(msg string) { WriteQueryError(w, Fault{http.StatusBadRequest, "ValidationError", msg}) }
	if op != "DescribeAutoScalingGroups" {
		if _, ok := f.groups[FormGet(form, "AutoScalingGroupName")]; !ok {
			validation("AutoScalingGroup name not found - " + FormGet(form, "AutoScalingGroupName"))
			return
		}
	}
	switch op {
	case "DescribeAutoScalingGroups":
		type xGroup struct {
			AutoScalingGroupName string
			MinSize, MaxSize     int
			DesiredCapacity      int
			Status               string      `xml:",omitempty"`
			Instances            []Instance  `xml:"Instances>member"`
			TargetGroupARNs      []string    `xml:"TargetGroupARNs>member"`
			SuspendedProcesses   []suspended `xml:"SuspendedProcesses>member"`
		}
		res := struct {
			XMLName xml.Name
			Groups  []xGroup `xml:"AutoScalingGroups>member"`
		}{XMLName: name}
		for _, n := range FormList(form, "AutoScalingGroupNames") {
			g, ok := f.groups[n]
			if !ok {
				continue // unknown names are left out
			}
			x := xGroup{AutoScalingGroupName: g.Name, MinSize: g.MinSize, MaxSize: g.MaxSize, DesiredCapacity: g.DesiredCapacity,
				Status: g.Status, TargetGroupARNs: g.TargetGroupARNs}
			for _, in := range g.Instances {
				x.Instances = append(x.Instances, *in)
			}
			for _, p := range g.SuspendedProcesses {
				x.SuspendedProcesses = append(x.SuspendedProcesses, suspended{p})
			}
			res.Groups = append(res.Groups, x)
			f.step(g)
		}
		WriteQueryResult(w, op, asNS, res)
	case "UpdateAutoScalingGroup":
		g := f.groups[FormGet(form, "AutoScalingGroupName")]
		lo, hi, want := g.MinSize, g.MaxSize, g.DesiredCapacity
		for _, p := range []struct {
			key string
			v   *int
		}{{"MinSize", &lo}, {"MaxSize", &hi}, {"DesiredCapacity", &want}} {
			if s := FormGet(form, p.key); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 0 {
					validation(fmt.Sprintf("%s %q", p.key, s))
					return
				}
				*p.v = n
			}
		}
		if lo > hi || want < lo || want > hi {
			validation(fmt.Sprintf("Desired capacity:%d must be between the specified min size:%d and max size:%d", want, lo, hi))
			return
		}
		g.MinSize, g.MaxSize, g.DesiredCapacity = lo, hi, want
		WriteQueryResult(w, op, asNS, empty)
	case "SuspendProcesses", "ResumeProcesses":
		g := f.groups[FormGet(form, "AutoScalingGroupName")]
		for _, p := range FormList(form, "ScalingProcesses") {
			i := slices.Index(g.SuspendedProcesses, p)
			switch {
			case op == "SuspendProcesses" && i < 0:
				g.SuspendedProcesses = append(g.SuspendedProcesses, p)
			case op == "ResumeProcesses" && i >= 0:
				g.SuspendedProcesses = slices.Delete(g.SuspendedProcesses, i, i+1)
			}
		}
		WriteQueryResult(w, op, asNS, empty)
	default:
		WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidAction", "unknown action " + op})
	}
}
