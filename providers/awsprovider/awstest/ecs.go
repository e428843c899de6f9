package awstest

// ECS over awsJson1_1 (POST /, X-Amz-Target, JSON bodies). One home for
// ECS services: Managed serves them, with their capacity (desired and
// running counts, which DescribeServices moves a step at a time, as tasks
// start and stop) and their native deployments; ECS is a Managed set up
// for tests of capacity.

import (
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

const ecsTarget = "AmazonEC2ContainerServiceV20141113."

// The ECS resources of NewECS.
const (
	ECSCluster = "prod"
	ECSService = "web"
)

// Service is an ECS service's capacity as DescribeServices reports it.
type Service struct {
	Desired, Running int
	// Rollout is the primary deployment's rolloutState: "" (not
	// reported), COMPLETED, IN_PROGRESS or FAILED.
	Rollout string
	// Status is the service's status: ACTIVE, DRAINING or INACTIVE.
	Status string
}

// ECS is a fake ECS service for tests of capacity: the ECS side of a
// Managed (which it is), with service ECSService in cluster ECSCluster.
// Safe for concurrent use.
type ECS struct {
	*Managed
}

// NewECS returns cluster ECSCluster with service ECSService running 2 of 2
// tasks, its rollout COMPLETED, one task starting or stopping a describe.
func NewECS() *ECS {
	m, _ := NewManaged(ManagedOptions{}) // the zero options are valid
	_ = m.AddService(ManagedService{Cluster: ECSCluster, Name: ECSService})
	f := &ECS{m}
	f.Set(ECSService, func(s *Service) { s.Rollout = "COMPLETED" })
	return f
}

// Client returns an SDK client of f at e.
func (f *ECS) Client(e Endpoint) *ecs.Client { return ecs.NewFromConfig(e.Config()) }

// SetStep sets how many tasks start or stop between two describes.
func (f *ECS) SetStep(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ecsStep = n
}

// Service returns a copy of the capacity of a service of ECSCluster (the
// zero Service if there is none).
func (f *ECS) Service(name string) Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.services[ECSCluster+"/"+name]; s != nil {
		return s.Service
	}
	return Service{}
}

// Set changes the capacity of a service of ECSCluster in place.
func (f *ECS) Set(name string, fn func(*Service)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.services[ECSCluster+"/"+name]; s != nil {
		fn(&s.Service)
	}
}
