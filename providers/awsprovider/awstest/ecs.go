package awstest

// A stateful fake of ECS over awsJson1_1 (POST /, X-Amz-Target, JSON
// bodies): services with desired and running counts. Each DescribeServices
// moves the running count Step tasks toward the desired count, as tasks
// start and stop.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

const ecsTarget = "AmazonEC2ContainerServiceV20141113."

// The ECS resources of NewECS.
const (
	ECSCluster = "prod"
	ECSService = "web"
)

// Service is an ECS service's state in the ECS fake.
type Service struct {
	Desired, Running int
	// Rollout is the primary deployment's rolloutState: "" (not
	// reported), COMPLETED, IN_PROGRESS or FAILED.
	Rollout string
	Status  string
}

// ECS is a fake ECS service: services with desired and running counts.
// Safe for concurrent use.
type ECS struct {
	*Faults
	mu       sync.Mutex
	cluster  string
	services map[string]*Service
	// Step is how many tasks start or stop between two describes.
	Step int
}

// NewECS returns cluster ECSCluster with service ECSService running 2 of 2
// tasks, its rollout COMPLETED, one task starting or stopping a describe.
func NewECS() *ECS {
	return &ECS{
		Faults:   &Faults{},
		cluster:  ECSCluster,
		services: map[string]*Service{ECSService: {Desired: 2, Running: 2, Rollout: "COMPLETED", Status: "ACTIVE"}},
		Step:     1,
	}
}

// AddService adds (or replaces) a service of the cluster.
func (f *ECS) AddService(name string, s Service) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services[name] = &s
}

// Client returns an SDK client of f at e.
func (f *ECS) Client(e Endpoint) *ecs.Client { return ecs.NewFromConfig(e.Config()) }

// Service returns a copy of a service's state.
func (f *ECS) Service(name string) Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.services[name]
}

// Set changes a service in place.
func (f *ECS) Set(name string, fn func(*Service)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.services[name])
}

// ServeHTTP serves one awsJson1_1 call.
func (f *ECS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := JSONCall(w, r, ecsTarget, f.Faults)
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
		WriteJSONError(w, Fault{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.Cluster != "" && in.Cluster != f.cluster {
		WriteJSONError(w, Fault{http.StatusBadRequest, "ClusterNotFoundException", "Cluster not found."})
		return
	}
	switch op {
	case "UpdateService":
		s, ok := f.services[in.Service]
		if !ok {
			WriteJSONError(w, Fault{http.StatusBadRequest, "ServiceNotFoundException", "Service not found."})
			return
		}
		if in.DesiredCount != nil {
			s.Desired = *in.DesiredCount
		}
		WriteJSON(w, map[string]any{"service": f.render(in.Service, s)})
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
		WriteJSON(w, map[string]any{"services": svcs, "failures": failures})
	default:
		WriteJSONError(w, Fault{http.StatusBadRequest, "UnknownOperationException", op})
	}
}

func (f *ECS) arn(name string) string {
	return fmt.Sprintf("arn:aws:ecs:us-east-1:%s:service/%s/%s", Account, f.cluster, name)
}

func (f *ECS) render(name string, s *Service) map[string]any {
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
