package awsprovider_test

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

const (
	ebNS        = "http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/"
	testCNAME   = "shop.us-east-1.elasticbeanstalk.com"
	testEnvBlue = "shop-blue"
	testEnvGrn  = "shop-green"
)

type xEnv struct {
	EnvironmentName string
	EnvironmentId   string
	ApplicationName string
	CNAME           string
	Status          string
	Health          string
	updating        int // describes left that show Updating
	minSize         int
	maxSize         int
	instances       int
}

type fakeBeanstalk struct {
	wireCalls
	mu   sync.Mutex
	envs map[string]*xEnv
	// UpdatingPolls is how many describes show an environment Updating
	// after a swap.
	UpdatingPolls int
	// IgnoreSwap makes a swap change the statuses but not the CNAMEs.
	IgnoreSwap bool
	// InstanceStep is how many instances start or stop between two
	// DescribeEnvironmentResources calls.
	InstanceStep int
}

// newFakeBeanstalk returns blue holding testCNAME and green on its own
// CNAME, both Ready.
func newFakeBeanstalk() *fakeBeanstalk {
	return &fakeBeanstalk{
		envs: map[string]*xEnv{
			testEnvBlue: {EnvironmentName: testEnvBlue, EnvironmentId: "e-blue12345", ApplicationName: "shop", CNAME: testCNAME, Status: "Ready", Health: "Green",
				minSize: 2, maxSize: 6, instances: 4},
			testEnvGrn: {EnvironmentName: testEnvGrn, EnvironmentId: "e-green1234", ApplicationName: "shop", CNAME: "shop-green.us-east-1.elasticbeanstalk.com", Status: "Ready", Health: "Green",
				minSize: 1, maxSize: 1, instances: 1},
		},
		UpdatingPolls: 2,
		InstanceStep:  2,
	}
}

func (f *fakeBeanstalk) client(h wireHTTP) *eb.Client {
	o := eb.Options{BaseEndpoint: &h.url, Region: "us-east-1", Credentials: wireCreds, Retryer: wireRetryer()}
	if h.client != nil {
		o.HTTPClient = h.client
	}
	return eb.New(o)
}

// holder returns the environment holding testCNAME.
func (f *fakeBeanstalk) holder() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, e := range f.envs {
		if e.CNAME == testCNAME {
			return n
		}
	}
	return ""
}

// set changes an environment in place.
func (f *fakeBeanstalk) set(name string, fn func(*xEnv)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.envs[name])
}

func (f *fakeBeanstalk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, op, ok := queryCall(w, r, "2010-12-01", &f.wireCalls)
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
			Environments []xEnv `xml:"Environments>member"`
		}{XMLName: name}
		for _, n := range formList(form, "EnvironmentNames") {
			e, ok := f.envs[n]
			if !ok {
				continue // DescribeEnvironments leaves unknown names out
			}
			out := *e
			if e.updating > 0 {
				out.Status = "Updating"
				e.updating--
			}
			res.Environments = append(res.Environments, out)
		}
		writeQueryResult(w, op, ebNS, res)
	case "SwapEnvironmentCNAMEs":
		src, dst := f.envs[formGet(form, "SourceEnvironmentName")], f.envs[formGet(form, "DestinationEnvironmentName")]
		if src == nil || dst == nil {
			writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidParameterValue", "No Environment found"})
			return
		}
		for _, e := range []*xEnv{src, dst} {
			if e.Status != "Ready" || e.updating > 0 {
				writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidParameterValue",
					fmt.Sprintf("Environment named %s is in an invalid state for this operation. Must be Ready.", e.EnvironmentName)})
				return
			}
		}
		if !f.IgnoreSwap {
			src.CNAME, dst.CNAME = dst.CNAME, src.CNAME
		}
		src.updating, dst.updating = f.UpdatingPolls, f.UpdatingPolls
		writeQueryResult(w, op, ebNS, struct{ XMLName xml.Name }{name})
	case "DescribeConfigurationSettings", "DescribeEnvironmentResources", "UpdateEnvironment", "TerminateEnvironment":
		e, ok := f.envs[formGet(form, "EnvironmentName")]
		if !ok || e.Status == "Terminated" {
			writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidParameterValue", "No Environment found for EnvironmentName = '" + formGet(form, "EnvironmentName") + "'."})
			return
		}
		f.serveEnv(w, op, form, e)
	default:
		writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidAction", "unknown action " + op})
	}
}

type xOption struct {
	Namespace, OptionName, Value string
}

// serveEnv serves the calls on one environment e.
func (f *fakeBeanstalk) serveEnv(w http.ResponseWriter, op string, form map[string][]string, e *xEnv) {
	name := xml.Name{Local: op + "Result"}
	invalid := func(msg string) { writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidParameterValue", msg}) }
	switch op {
	case "DescribeConfigurationSettings":
		if formGet(form, "ApplicationName") != e.ApplicationName {
			invalid("No Application named '" + formGet(form, "ApplicationName") + "' found.")
			return
		}
		type xSettings struct {
			ApplicationName, EnvironmentName string
			OptionSettings                   []xOption `xml:"OptionSettings>member"`
		}
		writeQueryResult(w, op, ebNS, struct {
			XMLName  xml.Name
			Settings []xSettings `xml:"ConfigurationSettings>member"`
		}{name, []xSettings{{e.ApplicationName, e.EnvironmentName, []xOption{
			{"aws:autoscaling:asg", "Availability Zones", "Any"},
			{"aws:autoscaling:asg", "MaxSize", strconv.Itoa(e.maxSize)},
			{"aws:autoscaling:asg", "MinSize", strconv.Itoa(e.minSize)},
		}}}})
	case "DescribeEnvironmentResources":
		type xInstance struct{ Id string }
		res := struct {
			XMLName   xml.Name
			Instances []xInstance `xml:"EnvironmentResources>Instances>member"`
		}{XMLName: name}
		for i := range e.instances {
			res.Instances = append(res.Instances, xInstance{fmt.Sprintf("i-%s%04d", e.EnvironmentId, i)})
		}
		switch {
		case e.instances < e.minSize:
			e.instances = min(e.minSize, e.instances+f.InstanceStep)
		case e.instances > e.maxSize:
			e.instances = max(e.maxSize, e.instances-f.InstanceStep)
		}
		writeQueryResult(w, op, ebNS, res)
	case "UpdateEnvironment":
		if e.Status != "Ready" || e.updating > 0 {
			invalid(fmt.Sprintf("Environment named %s is in an invalid state for this operation. Must be Ready.", e.EnvironmentName))
			return
		}
		lo, hi := e.minSize, e.maxSize
		for _, n := range formMembers(form, "OptionSettings") {
			p := fmt.Sprintf("OptionSettings.member.%d.", n)
			if formGet(form, p+"Namespace") != "aws:autoscaling:asg" {
				continue
			}
			v, err := strconv.Atoi(formGet(form, p+"Value"))
			if err != nil || v < 0 || v > 10000 {
				writeQueryError(w, wireFault{http.StatusBadRequest, "ConfigurationValidationException", "Invalid option value: " + formGet(form, p+"Value")})
				return
			}
			switch formGet(form, p+"OptionName") {
			case "MinSize":
				lo = v
			case "MaxSize":
				hi = v
			}
		}
		if lo > hi {
			writeQueryError(w, wireFault{http.StatusBadRequest, "ConfigurationValidationException",
				fmt.Sprintf("Configuration validation exception: MinSize (%d) must be less than or equal to MaxSize (%d)", lo, hi)})
			return
		}
		e.minSize, e.maxSize, e.updating = lo, hi, f.UpdatingPolls
		writeQueryResult(w, op, ebNS, struct {
			XMLName xml.Name
			xEnv
		}{name, *e})
	case "TerminateEnvironment":
		if e.Status == "Terminating" {
			invalid("Environment named " + e.EnvironmentName + " is in an invalid state for this operation. Must be Ready.")
			return
		}
		e.Status, e.instances = "Terminating", 0
		writeQueryResult(w, op, ebNS, struct {
			XMLName xml.Name
			xEnv
		}{name, *e})
	}
}

// env returns a copy of an environment.
func (f *fakeBeanstalk) env(name string) xEnv {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.envs[name]
}
