package awsprovider_test

// A stateful fake of ECS over awsJson1_1 (POST /, X-Amz-Target, JSON
// bodies): services with desired and running counts. Each DescribeServices
// moves the running count Step tasks toward the desired count, as tasks
// start and stop.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

const ecsTarget = "AmazonEC2ContainerServiceV20141113."

type fakeECSService struct {
	Desired, Running int
	// Rollout is the primary deployment's rolloutState: "" (not
	// reported), COMPLETED, IN_PROGRESS or FAILED.
	Rollout string
	Status  string
}

type fakeECS struct {
	wireCalls
	mu       sync.Mutex
	cluster  string
	services map[string]*fakeECSService
	// Step is how many tasks start or stop between two describes.
	Step int
}

func newFakeECS() *fakeECS {
	return &fakeECS{
		cluster:  "prod",
		services: map[string]*fakeECSService{"web": {Desired: 2, Running: 2, Rollout: "COMPLETED", Status: "ACTIVE"}},
		Step:     1,
	}
}

func (f *fakeECS) client(h wireHTTP) *ecs.Client {
	o := ecs.Options{BaseEndpoint: &h.url, Region: "us-east-1", Credentials: wireCreds, Retryer: wireRetryer()}
	if h.client != nil {
		o.HTTPClient = h.client
	}
	return ecs.New(o)
}

func (f *fakeECS) service(name string) fakeECSService {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.services[name]
}

func (f *fakeECS) set(name string, fn func(*fakeECSService)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.services[name])
}

func writeJSONError(w http.ResponseWriter, fl wireFault) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", fl.code)
	w.WriteHeader(fl.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": fl.code, "message": fl.msg})
}

// jsonOp returns the operation of an awsJson1_1 call whose X-Amz-Target
// starts with prefix, counted in calls; it answers a malformed call, or
// one with a fault queued, itself and returns false.
func jsonOp(w http.ResponseWriter, r *http.Request, prefix string, calls *wireCalls) (string, bool) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), prefix)
	if !ok || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
		writeJSONError(w, wireFault{http.StatusBadRequest, "UnknownOperationException", "bad target " + r.Header.Get("X-Amz-Target")})
		return "", false
	}
	if fault, ok := calls.hit(op); ok {
		if fault.code == "Throttling" {
			fault.code = "ThrottlingException"
		}
		writeJSONError(w, fault)
		return "", false
	}
	return op, true
}

func (f *fakeECS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := jsonOp(w, r, ecsTarget, &f.wireCalls)
	if !ok {
		return
	}
	var in struct {
		Cluster      string
		Service      string
		Services     []string
		DesiredCount *int
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSONError(w, wireFault{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.Cluster != "" && in.Cluster != f.cluster {
		writeJSONError(w, wireFault{http.StatusBadRequest, "ClusterNotFoundException", "Cluster not found."})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "UpdateService":
		s, ok := f.services[in.Service]
		if !ok {
			writeJSONError(w, wireFault{http.StatusBadRequest, "ServiceNotFoundException", "Service not found."})
			return
		}
		if in.DesiredCount != nil {
			s.Desired = *in.DesiredCount
		}
		json.NewEncoder(w).Encode(map[string]any{"service": f.render(in.Service, s)})
	case "DescribeServices":
		var svcs, failures []any
		for _, name := range in.Services {
			s, ok := f.services[name]
			if !ok {
				failures = append(failures, map[string]string{"arn": f.arn(name), "reason": "MISSING"})
				continue
			}
			svcs = append(svcs, f.render(name, s))
			switch {
			case s.Running < s.Desired:
				s.Running = min(s.Desired, s.Running+f.Step)
			case s.Running > s.Desired:
				s.Running = max(s.Desired, s.Running-f.Step)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"services": svcs, "failures": failures})
	default:
		writeJSONError(w, wireFault{http.StatusBadRequest, "UnknownOperationException", op})
	}
}

func (f *fakeECS) arn(name string) string {
	return fmt.Sprintf("arn:aws:ecs:us-east-1:%s:service/%s/%s", testAccount, f.cluster, name)
}

func (f *fakeECS) render(name string, s *fakeECSService) map[string]any {
	dep := map[string]any{"id": "ecs-svc/1", "status": "PRIMARY", "desiredCount": s.Desired, "runningCount": s.Running}
	if s.Rollout != "" {
		dep["rolloutState"] = s.Rollout
	}
	if s.Rollout == "FAILED" {
		dep["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
	}
	return map[string]any{
		"serviceName": name, "serviceArn": f.arn(name), "status": s.Status,
		"desiredCount": s.Desired, "runningCount": s.Running, "pendingCount": max(0, s.Desired-s.Running),
		"deployments": []any{dep},
	}
}
