package awsprovider_test

// A stateful fake of Elastic Beanstalk over awsQuery: environments with a
// CNAME and a status. SwapEnvironmentCNAMEs needs both environments Ready,
// swaps their CNAMEs and leaves both Updating for UpdatingPolls describes.

import (
	"encoding/xml"
	"fmt"
	"net/http"
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
}

// newFakeBeanstalk returns blue holding testCNAME and green on its own
// CNAME, both Ready.
func newFakeBeanstalk() *fakeBeanstalk {
	return &fakeBeanstalk{
		envs: map[string]*xEnv{
			testEnvBlue: {EnvironmentName: testEnvBlue, EnvironmentId: "e-blue12345", ApplicationName: "shop", CNAME: testCNAME, Status: "Ready", Health: "Green"},
			testEnvGrn:  {EnvironmentName: testEnvGrn, EnvironmentId: "e-green1234", ApplicationName: "shop", CNAME: "shop-green.us-east-1.elasticbeanstalk.com", Status: "Ready", Health: "Green"},
		},
		UpdatingPolls: 2,
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
	default:
		writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidAction", "unknown action " + op})
	}
}
