package awstest

// A stateful fake of Elastic Beanstalk over awsQuery: environments with a
// CNAME, a status, a health, aws:autoscaling:asg MinSize and MaxSize
// settings and instances. SwapEnvironmentCNAMEs needs both environments
// Ready, swaps their CNAMEs and leaves both Updating for UpdatingPolls
// describes; UpdateEnvironment needs the environment Ready, checks
// MinSize ≤ MaxSize and leaves it Updating likewise. Each
// DescribeEnvironmentResources moves the instances InstanceStep toward the
// bounds. TerminateEnvironment leaves the environment Terminating.

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	eb "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
)

// The Elastic Beanstalk resources of NewBeanstalk.
const (
	CNAME    = "shop.us-east-1.elasticbeanstalk.com"
	BlueEnv  = "shop-blue"
	GreenEnv = "shop-green"

	ebNS = "http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/"
)

// Environment is an Elastic Beanstalk environment's state: what
// DescribeEnvironments returns, its aws:autoscaling:asg bounds and its
// instance count.
type Environment struct {
	EnvironmentName string
	EnvironmentId   string
	ApplicationName string
	CNAME           string
	Status          string
	Health          string
	// Updating is how many describes left show the environment Updating.
	Updating  int `xml:"-"`
	MinSize   int `xml:"-"`
	MaxSize   int `xml:"-"`
	Instances int `xml:"-"`
}

// Beanstalk is a fake Elastic Beanstalk service. Set UpdatingPolls,
// IgnoreSwap and InstanceStep before serving. Safe for concurrent use.
type Beanstalk struct {
	*Faults
	mu   sync.Mutex
	envs map[string]*Environment
	// UpdatingPolls is how many describes show an environment Updating
	// after a swap.
	UpdatingPolls int
	// IgnoreSwap makes a swap change the statuses but not the CNAMEs.
	IgnoreSwap bool
	// InstanceStep is how many instances start or stop between two
	// DescribeEnvironmentResources calls.
	InstanceStep int
}

// NewBeanstalk returns blue holding CNAME and green on its own
// CNAME, both Ready.
func NewBeanstalk() *Beanstalk {
	return &Beanstalk{
		Faults: &Faults{},
		envs: map[string]*Environment{
			BlueEnv: {EnvironmentName: BlueEnv, EnvironmentId: "e-blue12345", ApplicationName: "shop", CNAME: CNAME, Status: "Ready", Health: "Green",
				MinSize: 2, MaxSize: 6, Instances: 4},
			GreenEnv: {EnvironmentName: GreenEnv, EnvironmentId: "e-green1234", ApplicationName: "shop", CNAME: "shop-green.us-east-1.elasticbeanstalk.com", Status: "Ready", Health: "Green",
				MinSize: 1, MaxSize: 1, Instances: 1},
		},
		UpdatingPolls: 2,
		InstanceStep:  2,
	}
}

// Client returns an SDK client of f at e.
func (f *Beanstalk) Client(e Endpoint) *eb.Client { return eb.NewFromConfig(e.Config()) }

// Holder returns the environment holding CNAME.
func (f *Beanstalk) Holder() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, e := range f.envs {
		if e.CNAME == CNAME {
			return n
		}
	}
	return ""
}

// Set changes an environment in place.
func (f *Beanstalk) Set(name string, fn func(*Environment)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.envs[name])
}

// ServeHTTP serves one awsQuery call.
func (f *Beanstalk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, op, ok := QueryCall(w, r, "2010-12-01", f.Faults)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := xml.Name{Local: op + "Result"}
	switch op {
	case "DescribeEnvironments":
		res := struct {
			XMLName      xml.Name
			Environments []Environment `xml:"Environments>member"`
		}{XMLName: name}
		for _, n := range FormList(form, "EnvironmentNames") {
			e, ok := f.envs[n]
			if !ok {
				continue // DescribeEnvironments leaves unknown names out
			}
			out := *e
			if e.Updating > 0 {
				out.Status = "Updating"
				e.Updating--
			}
			res.Environments = append(res.Environments, out)
		}
		WriteQueryResult(w, op, ebNS, res)
	case "SwapEnvironmentCNAMEs":
		src, dst := f.envs[FormGet(form, "SourceEnvironmentName")], f.envs[FormGet(form, "DestinationEnvironmentName")]
		if src == nil || dst == nil {
			WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidParameterValue", "No Environment found"})
			return
		}
		for _, e := range []*Environment{src, dst} {
			if e.Status != "Ready" || e.Updating > 0 {
				WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidParameterValue",
					fmt.Sprintf("Environment named %s is in an invalid state for this operation. Must be Ready.", e.EnvironmentName)})
				return
			}
		}
		if !f.IgnoreSwap {
			src.CNAME, dst.CNAME = dst.CNAME, src.CNAME
		}
		src.Updating, dst.Updating = f.UpdatingPolls, f.UpdatingPolls
		WriteQueryResult(w, op, ebNS, struct{ XMLName xml.Name }{name})
	case "DescribeConfigurationSettings", "DescribeEnvironmentResources", "UpdateEnvironment", "TerminateEnvironment":
		e, ok := f.envs[FormGet(form, "EnvironmentName")]
		if !ok || e.Status == "Terminated" {
			WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidParameterValue", "No Environment found for EnvironmentName = '" + FormGet(form, "EnvironmentName") + "'."})
			return
		}
		f.serveEnv(w, op, form, e)
	default:
		WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidAction", "unknown action " + op})
	}
}

type option struct {
	Namespace, OptionName, Value string
}

// serveEnv serves the calls on one environment e.
func (f *Beanstalk) serveEnv(w http.ResponseWriter, op string, form map[string][]string, e *Environment) {
	name := xml.Name{Local: op + "Result"}
	invalid := func(msg string) { WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidParameterValue", msg}) }
	switch op {
	case "DescribeConfigurationSettings":
		if FormGet(form, "ApplicationName") != e.ApplicationName {
			invalid("No Application named '" + FormGet(form, "ApplicationName") + "' found.")
			return
		}
		type xSettings struct {
			ApplicationName, EnvironmentName string
			OptionSettings                   []option `xml:"OptionSettings>member"`
		}
		WriteQueryResult(w, op, ebNS, struct {
			XMLName  xml.Name
			Settings []xSettings `xml:"ConfigurationSettings>member"`
		}{name, []xSettings{{e.ApplicationName, e.EnvironmentName, []option{
			{"aws:autoscaling:asg", "Availability Zones", "Any"},
			{"aws:autoscaling:asg", "MaxSize", strconv.Itoa(e.MaxSize)},
			{"aws:autoscaling:asg", "MinSize", strconv.Itoa(e.MinSize)},
		}}}})
	case "DescribeEnvironmentResources":
		type xInstance struct{ Id string }
		res := struct {
			XMLName   xml.Name
			Instances []xInstance `xml:"EnvironmentResources>Instances>member"`
		}{XMLName: name}
		for i := range e.Instances {
			res.Instances = append(res.Instances, xInstance{fmt.Sprintf("i-%s%04d", e.EnvironmentId, i)})
		}
		switch {
		case e.Instances < e.MinSize:
			e.Instances = min(e.MinSize, e.Instances+f.InstanceStep)
		case e.Instances > e.MaxSize:
			e.Instances = max(e.MaxSize, e.Instances-f.InstanceStep)
		}
		WriteQueryResult(w, op, ebNS, res)
	case "UpdateEnvironment":
		if e.Status != "Ready" || e.Updating > 0 {
			invalid(fmt.Sprintf("Environment named %s is in an invalid state for this operation. Must be Ready.", e.EnvironmentName))
			return
		}
		lo, hi := e.MinSize, e.MaxSize
		for _, n := range FormMembers(form, "OptionSettings") {
			p := fmt.Sprintf("OptionSettings.member.%d.", n)
			if FormGet(form, p+"Namespace") != "aws:autoscaling:asg" {
				continue
			}
			v, err := strconv.Atoi(FormGet(form, p+"Value"))
			if err != nil || v < 0 || v > 10000 {
				WriteQueryError(w, Fault{http.StatusBadRequest, "ConfigurationValidationException", "Invalid option value: " + FormGet(form, p+"Value")})
				return
			}
			switch FormGet(form, p+"OptionName") {
			case "MinSize":
				lo = v
			case "MaxSize":
				hi = v
			}
		}
		if lo > hi {
			WriteQueryError(w, Fault{http.StatusBadRequest, "ConfigurationValidationException",
				fmt.Sprintf("Configuration validation exception: MinSize (%d) must be less than or equal to MaxSize (%d)", lo, hi)})
			return
		}
		e.MinSize, e.MaxSize, e.Updating = lo, hi, f.UpdatingPolls
		WriteQueryResult(w, op, ebNS, struct {
			XMLName xml.Name
			Environment
		}{name, *e})
	case "TerminateEnvironment":
		if e.Status == "Terminating" {
			invalid("Environment named " + e.EnvironmentName + " is in an invalid state for this operation. Must be Ready.")
			return
		}
		e.Status, e.Instances = "Terminating", 0
		WriteQueryResult(w, op, ebNS, struct {
			XMLName xml.Name
			Environment
		}{name, *e})
	}
}

// Remove deletes an environment.
func (f *Beanstalk) Remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.envs, name)
}

// Environment returns a copy of an environment.
func (f *Beanstalk) Environment(name string) Environment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.envs[name]
}
