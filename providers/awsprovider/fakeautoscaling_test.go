package awsprovider_test

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

const (
	asNS    = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
	testASG = "shop-blue-asg"
)

type xASGInstance struct {
	InstanceId           string
	LifecycleState       string
	HealthStatus         string
	ProtectedFromScaleIn bool
	left                 int // describes left in this state
}

type xSuspended struct {
	ProcessName string
}

type fakeASG struct {
	Name               string
	MinSize, MaxSize   int
	DesiredCapacity    int
	Status             string
	Instances          []*xASGInstance
	TargetGroupARNs    []string
	SuspendedProcesses []string
	nextID             int
}

type fakeAutoScaling struct {
	wireCalls
	mu     sync.Mutex
	groups map[string]*fakeASG
	// Step is how many instances launch or terminate between two
	// describes.
	Step int
	// HookPolls is how many describes a terminating instance waits in
	// Terminating:Wait.
	HookPolls int
}

// newFakeAutoScaling returns testASG with bounds 2–6 and 4 instances in
// service.
func newFakeAutoScaling() *fakeAutoScaling {
	f := &fakeAutoScaling{groups: map[string]*fakeASG{}, Step: 2}
	g := &fakeASG{Name: testASG, MinSize: 2, MaxSize: 6, DesiredCapacity: 4}
	for range 4 {
		g.launch("InService")
	}
	f.groups[testASG] = g
	return f
}

func (g *fakeASG) launch(state string) *xASGInstance {
	g.nextID++
	in := &xASGInstance{InstanceId: fmt.Sprintf("i-%017x", g.nextID), LifecycleState: state, HealthStatus: "Healthy", left: 1}
	g.Instances = append(g.Instances, in)
	return in
}

func (f *fakeAutoScaling) client(h wireHTTP) *autoscaling.Client {
	o := autoscaling.Options{BaseEndpoint: &h.url, Region: "us-east-1", Credentials: wireCreds, Retryer: wireRetryer()}
	if h.client != nil {
		o.HTTPClient = h.client
	}
	return autoscaling.New(o)
}

// group returns a copy of a group, without its instances.
func (f *fakeAutoScaling) group(name string) fakeASG {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := *f.groups[name]
	g.Instances = nil
	return g
}

// set changes a group in place.
func (f *fakeAutoScaling) set(name string, fn func(*fakeASG)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.groups[name])
}

// step moves g toward its desired capacity by f.Step instances, and ages
// instances in transitional states.
func (f *fakeAutoScaling) step(g *fakeASG) {
	live := 0
	var kept []*xASGInstance
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
		g.launch("Pending")
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

func (f *fakeAutoScaling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, op, ok := queryCall(w, r, "2011-01-01", &f.wireCalls)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := xml.Name{Local: op + "Result"}
	empty := struct{ XMLName xml.Name }{name}
	validation := func(msg string) { writeQueryError(w, wireFault{http.StatusBadRequest, "ValidationError", msg}) }
	if op != "DescribeAutoScalingGroups" {
		if _, ok := f.groups[formGet(form, "AutoScalingGroupName")]; !ok {
			validation("AutoScalingGroup name not found - " + formGet(form, "AutoScalingGroupName"))
			return
		}
	}
	switch op {
	case "DescribeAutoScalingGroups":
		type xGroup struct {
			AutoScalingGroupName string
			MinSize, MaxSize     int
			DesiredCapacity      int
			Status               string         `xml:",omitempty"`
			Instances            []xASGInstance `xml:"Instances>member"`
			TargetGroupARNs      []string       `xml:"TargetGroupARNs>member"`
			SuspendedProcesses   []xSuspended   `xml:"SuspendedProcesses>member"`
		}
		res := struct {
			XMLName xml.Name
			Groups  []xGroup `xml:"AutoScalingGroups>member"`
		}{XMLName: name}
		for _, n := range formList(form, "AutoScalingGroupNames") {
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
				x.SuspendedProcesses = append(x.SuspendedProcesses, xSuspended{p})
			}
			res.Groups = append(res.Groups, x)
			f.step(g)
		}
		writeQueryResult(w, op, asNS, res)
	case "UpdateAutoScalingGroup":
		g := f.groups[formGet(form, "AutoScalingGroupName")]
		lo, hi, want := g.MinSize, g.MaxSize, g.DesiredCapacity
		for _, p := range []struct {
			key string
			v   *int
		}{{"MinSize", &lo}, {"MaxSize", &hi}, {"DesiredCapacity", &want}} {
			if s := formGet(form, p.key); s != "" {
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
		writeQueryResult(w, op, asNS, empty)
	case "SuspendProcesses", "ResumeProcesses":
		g := f.groups[formGet(form, "AutoScalingGroupName")]
		for _, p := range formList(form, "ScalingProcesses") {
			i := slices.Index(g.SuspendedProcesses, p)
			switch {
			case op == "SuspendProcesses" && i < 0:
				g.SuspendedProcesses = append(g.SuspendedProcesses, p)
			case op == "ResumeProcesses" && i >= 0:
				g.SuspendedProcesses = slices.Delete(g.SuspendedProcesses, i, i+1)
			}
		}
		writeQueryResult(w, op, asNS, empty)
	default:
		writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidAction", "unknown action " + op})
	}
}
