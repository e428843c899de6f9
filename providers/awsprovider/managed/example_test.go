package managed_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
)

// A CodeDeploy ECS blue/green deployment as a plan: traffic shifts by the
// deployment config while the gates judge, then the termination wait of
// the original task set is the point of no return. With real AWS, the
// client is codedeploy.NewFromConfig(cfg).
func ExampleNewCodeDeploy() {
	sim, _ := awstest.NewManaged(awstest.ManagedOptions{})
	_ = sim.AddDeploymentGroup(awstest.ManagedGroup{Application: "shop", Name: "shop-prod", TerminationWait: time.Hour})
	client := codedeploy.New(codedeploy.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), Credentials: aws.AnonymousCredentials{},
		HTTPClient: awstest.InProcessClient(sim),
	})

	cd, err := managed.NewCodeDeploy(client, managed.CodeDeploySpec{
		Application: "shop", DeploymentGroup: "shop-prod",
		TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:42",
		ContainerName:  "web", ContainerPort: 8080,
		DeploymentConfig: "CodeDeployDefault.ECSCanary10Percent5Minutes",
		Bake:             15 * time.Minute,
	}, managed.Options{})
	if err == nil {
		// Reads the deployment group: its termination wait is the
		// rollback window.
		err = cd.Prepare(context.Background())
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := cutover.Sequence("shop release 42", cd)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range plan.Stages {
		fmt.Printf("%-28s %-24s bake %s\n", s.Name, s.Reversibility, s.Bake)
	}
	fmt.Println("point of no return:", plan.Analyze().PNRStage)
	// Output:
	// codedeploy shift             reversible               bake 5m0s
	// codedeploy termination wait  reversible within 55m0s  bake 15m0s
	// point of no return: codedeploy termination wait
}

// An ECS native canary as a plan: one stage per traffic step, each
// continued from a PAUSE hook once the gates passed, then ECS's bake time,
// approved before it starts, as the point of no return.
func ExampleNewECS() {
	sim, _ := awstest.NewManaged(awstest.ManagedOptions{})
	_ = sim.AddService(awstest.ManagedService{Cluster: "prod", Name: "web"})
	client := ecs.New(ecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), Credentials: aws.AnonymousCredentials{},
		HTTPClient: awstest.InProcessClient(sim),
	})

	e, err := managed.NewECS(client, managed.ECSSpec{
		Cluster: "prod", Service: "web",
		TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
		Strategy:       managed.Canary, CanaryPercent: 5,
		Window: time.Hour, Bake: 10 * time.Minute,
	}, managed.Options{})
	if err == nil {
		err = e.Prepare(context.Background()) // reads the service
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := cutover.Sequence("web release 7", e)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range plan.Stages {
		fmt.Printf("%-9s %-24s approval first: %v\n", s.Name, s.Reversibility, s.Approval)
	}
	fmt.Println("point of no return:", plan.Analyze().PNRStage)
	// Output:
	// ecs 5%    reversible               approval first: false
	// ecs 100%  reversible               approval first: false
	// ecs bake  reversible within 55m0s  approval first: true
	// point of no return: ecs bake
}

// A service that is not set up for the strategy is refused up front, with
// an error naming the resource and the field.
func ExampleSetupError() {
	sim, _ := awstest.NewManaged(awstest.ManagedOptions{})
	_ = sim.AddService(awstest.ManagedService{Cluster: "prod", Name: "legacy", Controller: "CODE_DEPLOY"})
	client := ecs.New(ecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), Credentials: aws.AnonymousCredentials{},
		HTTPClient: awstest.InProcessClient(sim),
	})

	e, err := managed.NewECS(client, managed.ECSSpec{
		Cluster: "prod", Service: "legacy", TaskDefinition: "legacy:2",
		Strategy: managed.BlueGreen, Window: time.Hour,
	}, managed.Options{})
	if err == nil {
		err = e.Prepare(context.Background())
	}
	var se *managed.SetupError
	if errors.As(err, &se) {
		fmt.Println(se.Resource)
		fmt.Println(se.Field)
		fmt.Println(se.Msg)
	}
	// Output:
	// ecs service "legacy" in cluster "prod"
	// deploymentController
	// is CODE_DEPLOY; native BLUE_GREEN deployments need the ECS deployment controller
}
