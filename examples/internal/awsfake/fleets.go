package awsfake

// The fleets of the fake: blue as an EC2 Auto Scaling group (awsQuery) or
// an Elastic Beanstalk environment (awsQuery), green as an ECS service
// (awsJson1_1), and the members of the target groups (ELB
// DescribeTargetHealth). Every DescribeAutoScalingGroups,
// DescribeEnvironmentResources and DescribeServices moves a fleet up to
// Step members toward what it was asked for.

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The fleets' names.
const (
	BlueASG      = "shop-blue-asg" // blue's Auto Scaling group: bounds 2–6, 4 instances, BlueTG attached
	BlueEnv      = "shop-blue"     // blue's Beanstalk environment: MinSize 2, MaxSize 6, 4 instances
	ECSCluster   = "prod"
	GreenService = "shop-green" // green's ECS service in ECSCluster: 0 tasks

	// Step is how many members a fleet gains or loses between two reads.
	Step = 2

	asHost  = "autoscaling.awsfake.test"
	ebHost  = "elasticbeanstalk.awsfake.test"
	ecsHost = "ecs.awsfake.test"
	asNS    = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
	ebNS    = "http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/"
)

// fleets is the state of the fleets; guarded by Cloud.mu.
type fleets struct {
	asgMin, asgMax, asgDesired, asgRunning int
	asgSuspended                           []string
	envMin, envMax, envRunning             int
	envUpdating                            int // describes left that show Updating
	greenDesired, greenRunning             int
}

func newFleets() fleets {
	return fleets{asgMin: 2, asgMax: 6, asgDesired: 4, asgRunning: 4, envMin: 2, envMax: 6, envRunning: 4}
}

func toward(have, want int) int {
	if have < want {
		return min(want, have+Step)
	}
	return max(want, have-Step)
}

// Fleet returns the desired and running counts of the fleet named by
// BlueASG, BlueEnv or GreenService (a Beanstalk environment's desired count
// is its MinSize).
func (c *Cloud) Fleet(name string) (desired, running int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch name {
	case BlueASG:
		return c.fl.asgDesired, c.fl.asgRunning
	case BlueEnv:
		return c.fl.envMin, c.fl.envRunning
	case GreenService:
		return c.fl.greenDesired, c.fl.greenRunning
	}
	return -1, -1
}

// throttled reports whether this call of op is one of the first
// Options.Throttle[op] ones, which are answered with a throttling error.
func (c *Cloud) throttled(op string) bool {
	c.calls[op]++
	return c.calls[op] <= c.opts.Throttle[op]
}

// queryCall parses an awsQuery request of API version and counts it;
// a bad request or a throttled call is answered here (ok false).
func (c *Cloud) queryCall(w http.ResponseWriter, r *http.Request, version string) (form map[string][]string, op string, ok bool) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.PostForm.Get("Version") != version {
		queryError(w, "MalformedQueryString", "want a form POST of version "+version)
		return nil, "", false
	}
	op = r.PostForm.Get("Action")
	if c.throttled(op) {
		queryError(w, "Throttling", "Rate exceeded")
		return nil, "", false
	}
	return r.PostForm, op, true
}

func queryResult(w http.ResponseWriter, op, ns string, result any) {
	inner, err := xml.Marshal(result)
	if err != nil {
		queryError(w, "InternalFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>awsfake</RequestId></ResponseMetadata></%sResponse>`, op, ns, inner, op)
}

func get(form map[string][]string, key string) string {
	if v := form[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// members returns the values of prefix.member.1, .2, ...
func members(form map[string][]string, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v := get(form, fmt.Sprintf("%s.member.%d", prefix, i))
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}

func instanceID(prefix string, i int) string { return fmt.Sprintf("i-%s%08d", prefix, i) }

func (c *Cloud) serveAutoScaling(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	form, op, ok := c.queryCall(w, r, "2011-01-01")
	if !ok {
		return
	}
	name := xml.Name{Local: op + "Result"}
	if op != "DescribeAutoScalingGroups" && get(form, "AutoScalingGroupName") != BlueASG {
		queryError(w, "ValidationError", "AutoScalingGroup name not found - "+get(form, "AutoScalingGroupName"))
		return
	}
	f := &c.fl
	switch op {
	case "DescribeAutoScalingGroups":
		type xInstance struct {
			InstanceId, LifecycleState, HealthStatus string
			ProtectedFromScaleIn                     bool
		}
		type xGroup struct {
			AutoScalingGroupName              string
			MinSize, MaxSize, DesiredCapacity int
			Instances                         []xInstance `xml:"Instances>member"`
			TargetGroupARNs                   []string    `xml:"TargetGroupARNs>member"`
		}
		res := struct {
			XMLName xml.Name
			Groups  []xGroup `xml:"AutoScalingGroups>member"`
		}{XMLName: name}
		if slices.Contains(members(form, "AutoScalingGroupNames"), BlueASG) {
			g := xGroup{AutoScalingGroupName: BlueASG, MinSize: f.asgMin, MaxSize: f.asgMax, DesiredCapacity: f.asgDesired, TargetGroupARNs: []string{BlueTG}}
			for i := range f.asgRunning {
				g.Instances = append(g.Instances, xInstance{instanceID("b", i), "InService", "Healthy", false})
			}
			res.Groups = append(res.Groups, g)
			if !slices.Contains(f.asgSuspended, "Launch") || f.asgRunning > f.asgDesired {
				f.asgRunning = toward(f.asgRunning, f.asgDesired)
			}
		}
		queryResult(w, op, asNS, res)
	case "UpdateAutoScalingGroup":
		lo, hi, want := f.asgMin, f.asgMax, f.asgDesired
		for _, p := range []struct {
			key string
			v   *int
		}{{"MinSize", &lo}, {"MaxSize", &hi}, {"DesiredCapacity", &want}} {
			if s := get(form, p.key); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 0 {
					queryError(w, "ValidationError", p.key+" "+s)
					return
				}
				*p.v = n
			}
		}
		if lo > hi || want < lo || want > hi {
			queryError(w, "ValidationError", fmt.Sprintf("Desired capacity:%d must be between the specified min size:%d and max size:%d", want, lo, hi))
			return
		}
		f.asgMin, f.asgMax, f.asgDesired = lo, hi, want
		queryResult(w, op, asNS, struct{ XMLName xml.Name }{name})
	case "SuspendProcesses", "ResumeProcesses":
		for _, p := range members(form, "ScalingProcesses") {
			f.asgSuspended = slices.DeleteFunc(f.asgSuspended, func(s string) bool { return s == p })
			if op == "SuspendProcesses" {
				f.asgSuspended = append(f.asgSuspended, p)
			}
		}
		queryResult(w, op, asNS, struct{ XMLName xml.Name }{name})
	default:
		queryError(w, "InvalidAction", "awsfake: unknown action "+op)
	}
}

func (c *Cloud) serveBeanstalk(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	form, op, ok := c.queryCall(w, r, "2010-12-01")
	if !ok {
		return
	}
	name := xml.Name{Local: op + "Result"}
	f := &c.fl
	if env := get(form, "EnvironmentName"); op != "DescribeEnvironments" && env != BlueEnv {
		queryError(w, "InvalidParameterValue", "No Environment found for EnvironmentName = '"+env+"'.")
		return
	}
	switch op {
	case "DescribeEnvironments":
		type xEnv struct{ EnvironmentName, ApplicationName, CNAME, Status, Health string }
		res := struct {
			XMLName xml.Name
			Envs    []xEnv `xml:"Environments>member"`
		}{XMLName: name}
		if slices.Contains(members(form, "EnvironmentNames"), BlueEnv) {
			e := xEnv{BlueEnv, "shop", "shop.us-east-1.elasticbeanstalk.com", "Ready", "Green"}
			// Updating until the instances are within the bounds, as an
			// environment update does.
			if f.envUpdating > 0 || f.envRunning < f.envMin || f.envRunning > f.envMax {
				e.Status, e.Health = "Updating", "Grey"
				f.envUpdating = max(0, f.envUpdating-1)
			}
			res.Envs = append(res.Envs, e)
		}
		queryResult(w, op, ebNS, res)
	case "DescribeConfigurationSettings":
		type xOption struct{ Namespace, OptionName, Value string }
		type xSettings struct {
			OptionSettings []xOption `xml:"OptionSettings>member"`
		}
		queryResult(w, op, ebNS, struct {
			XMLName  xml.Name
			Settings []xSettings `xml:"ConfigurationSettings>member"`
		}{name, []xSettings{{[]xOption{
			{"aws:autoscaling:asg", "MinSize", strconv.Itoa(f.envMin)},
			{"aws:autoscaling:asg", "MaxSize", strconv.Itoa(f.envMax)},
		}}}})
	case "DescribeEnvironmentResources":
		type xID struct{ Id string }
		res := struct {
			XMLName   xml.Name
			Instances []xID `xml:"EnvironmentResources>Instances>member"`
		}{XMLName: name}
		for i := range f.envRunning {
			res.Instances = append(res.Instances, xID{instanceID("e", i)})
		}
		f.envRunning = toward(f.envRunning, min(max(f.envRunning, f.envMin), f.envMax))
		queryResult(w, op, ebNS, res)
	case "UpdateEnvironment":
		if f.envUpdating > 0 || f.envRunning < f.envMin || f.envRunning > f.envMax {
			queryError(w, "InvalidParameterValue", "Environment named "+BlueEnv+" is in an invalid state for this operation. Must be Ready.")
			return
		}
		lo, hi := f.envMin, f.envMax
		for i := 1; get(form, fmt.Sprintf("OptionSettings.member.%d.OptionName", i)) != ""; i++ {
			p := fmt.Sprintf("OptionSettings.member.%d.", i)
			v, err := strconv.Atoi(get(form, p+"Value"))
			if get(form, p+"Namespace") != "aws:autoscaling:asg" || err != nil || v < 0 {
				queryError(w, "ConfigurationValidationException", "awsfake: option "+get(form, p+"OptionName"))
				return
			}
			switch get(form, p+"OptionName") {
			case "MinSize":
				lo = v
			case "MaxSize":
				hi = v
			}
		}
		if lo > hi {
			queryError(w, "ConfigurationValidationException", "MinSize must be less than or equal to MaxSize")
			return
		}
		f.envMin, f.envMax, f.envUpdating = lo, hi, 1
		queryResult(w, op, ebNS, struct{ XMLName xml.Name }{name})
	default:
		queryError(w, "InvalidAction", "awsfake: unknown action "+op)
	}
}

func jsonError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func (c *Cloud) serveECS(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonEC2ContainerServiceV20141113.")
	if !ok {
		jsonError(w, "UnknownOperationException", "awsfake: target "+r.Header.Get("X-Amz-Target"))
		return
	}
	if c.throttled(op) {
		jsonError(w, "ThrottlingException", "Rate exceeded")
		return
	}
	var in struct {
		Cluster, Service string
		Services         []string
		DesiredCount     *int
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		jsonError(w, "SerializationException", err.Error())
		return
	}
	if in.Cluster != ECSCluster {
		jsonError(w, "ClusterNotFoundException", "Cluster not found.")
		return
	}
	f := &c.fl
	render := func() map[string]any {
		return map[string]any{"serviceName": GreenService, "status": "ACTIVE", "desiredCount": f.greenDesired, "runningCount": f.greenRunning,
			"deployments": []any{map[string]any{"status": "PRIMARY", "rolloutState": "COMPLETED", "desiredCount": f.greenDesired, "runningCount": f.greenRunning}}}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "UpdateService":
		if in.Service != GreenService {
			jsonError(w, "ServiceNotFoundException", "Service not found.")
			return
		}
		if in.DesiredCount != nil {
			f.greenDesired = *in.DesiredCount
		}
		json.NewEncoder(w).Encode(map[string]any{"service": render()})
	case "DescribeServices":
		out := map[string]any{"services": []any{}, "failures": []any{}}
		if slices.Contains(in.Services, GreenService) {
			out["services"] = []any{render()}
			f.greenRunning = toward(f.greenRunning, f.greenDesired)
		}
		for _, s := range in.Services {
			if s != GreenService {
				out["failures"] = []any{map[string]string{"arn": s, "reason": "MISSING"}}
			}
		}
		json.NewEncoder(w).Encode(out)
	default:
		jsonError(w, "UnknownOperationException", op)
	}
}

// targetHealth answers ELB DescribeTargetHealth: blue's members are the
// Auto Scaling group's instances, green's the ECS service's tasks, all
// healthy.
func (c *Cloud) targetHealth(arn string) (any, bool) {
	type xMember struct {
		Target       struct{ Id string }
		TargetHealth struct{ State string }
	}
	var n int
	var id func(int) string
	switch arn {
	case BlueTG:
		n, id = c.fl.asgRunning, func(i int) string { return instanceID("b", i) }
	case GreenTG:
		n, id = c.fl.greenRunning, func(i int) string { return fmt.Sprintf("10.0.1.%d", i+10) }
	default:
		return nil, false
	}
	ms := make([]xMember, n)
	for i := range ms {
		ms[i].Target.Id, ms[i].TargetHealth.State = id(i), "healthy"
	}
	return struct {
		XMLName xml.Name
		Members []xMember `xml:"TargetHealthDescriptions>member"`
	}{xml.Name{Local: "DescribeTargetHealthResult"}, ms}, true
}
