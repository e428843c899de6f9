package awsprovider_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// Blue is an EC2 Auto Scaling group; retiring it scales it to zero with
// its minimum, and suspends launches so that nothing starts in it again.
// In production the client comes from config.LoadDefaultConfig; here it
// talks to this package's fake Auto Scaling on 127.0.0.1.
func ExampleNewASGFleet() {
	fake := awstest.NewAutoScaling()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := autoscaling.New(autoscaling.Options{BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", Credentials: awstest.Credentials()})

	blue, err := awsprovider.NewASGFleet(client, "shop-blue-asg", awsprovider.ASGOptions{
		SuspendAtZero: []string{"Launch", "AlarmNotification", "ScheduledActions"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	c, _ := blue.Capacity(ctx)
	fmt.Printf("before: desired %d, running %d, healthy %d\n", c.Desired, c.Running, c.Healthy)
	if err := blue.SetDesired(ctx, 0); err != nil {
		fmt.Println(err)
		return
	}
	g := fake.Group("shop-blue-asg")
	fmt.Printf("retired: desired %d, min %d, max %d, suspended %v\n", g.DesiredCapacity, g.MinSize, g.MaxSize, g.SuspendedProcesses)

	// Output:
	// before: desired 4, running 4, healthy 4
	// retired: desired 0, min 0, max 6, suspended [Launch AlarmNotification ScheduledActions]
}

// A pre-flight before the cutover journals anything: every problem at
// once, under the name of what configured the resource.
func ExamplePreflight() {
	fake := awstest.NewAutoScaling()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := autoscaling.New(autoscaling.Options{BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", Credentials: awstest.Credentials()})
	blue, _ := awsprovider.NewASGFleet(client, "shop-blue-asg", awsprovider.ASGOptions{})
	old, _ := awsprovider.NewASGFleet(client, "shop-old-asg", awsprovider.ASGOptions{})

	err := awsprovider.Preflight(context.Background(), awsprovider.PreflightOptions{},
		awsprovider.CheckCredentials("credentials", awstest.Credentials()),
		awsprovider.CheckFleet("-blue-asg", blue),
		awsprovider.CheckFleet("-old-asg", old),
		awsprovider.CheckCredentials("-profile", nil))
	var pe *awsprovider.PreflightError
	if errors.As(err, &pe) {
		for _, p := range pe.Problems {
			fmt.Println(p.Field)
		}
	}
	fmt.Println(err)

	// Output:
	// -old-asg
	// -profile
	// pre-flight: 2 problems:
	//   -old-asg: auto scaling group shop-old-asg: DescribeAutoScalingGroups: group not found
	//   -profile: no AWS credentials: set AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role provides them
}
