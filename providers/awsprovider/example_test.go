package awsprovider_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// A canary step on an ALB listener, then a rollback. In production the
// client comes from config.LoadDefaultConfig; here it talks to this
// package's fake ELB on 127.0.0.1.
func ExampleNewALBRouter() {
	fake := awstest.NewELB()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := elbv2.New(elbv2.Options{BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", Credentials: awstest.Credentials()})

	pacer, err := awsprovider.NewPacer(5, 5) // shared by everything that calls ELB
	if err != nil {
		fmt.Println(err)
		return
	}
	listenerARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2"
	router, err := awsprovider.NewALBRouter(client, listenerARN, map[string]string{
		"blue":  "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067",
		"green": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/4b8d2f4e9c1a7d35",
	}, awsprovider.ALBOptions{
		Pacer:       pacer,
		CallTimeout: 10 * time.Second, // each attempt; a held one is retried
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	// Each step: a describe right before the write (another writer's
	// change is kept, or refuses the step), one write checked by its answer.
	if err := router.SetWeights(ctx, providers.Weights{"blue": 90, "green": 10}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("canary:", fake.Forward(listenerARN).TargetGroups)
	// The rollback turns stickiness off in the same write, so that no
	// client stays pinned to green.
	_ = router.SetWeights(ctx, providers.Weights{"blue": 100})
	fmt.Println("rolled back:", fake.Forward(listenerARN).TargetGroups, "sticky:", fake.Forward(listenerARN).TargetGroupStickinessConfig.Enabled)
	fmt.Println("calls:", fake.Snapshot())

	// Output:
	// canary: [{arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067 90} {arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/4b8d2f4e9c1a7d35 10}]
	// rolled back: [{arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067 100} {arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/4b8d2f4e9c1a7d35 0}] sticky: false
	// calls: map[DescribeListeners:2 ModifyListener:2]
}

// Errors name the resource and what was being done, and still unwrap to
// the SDK's smithy.APIError.
func ExampleALBRouter_Weights_error() {
	fake := awstest.NewELB()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := elbv2.New(elbv2.Options{BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", Credentials: awstest.Credentials()})
	gone := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/front/50dc6c495c0c9188/0000000000000000"
	router, _ := awsprovider.NewALBRouter(client, gone, blueGreen, awsprovider.ALBOptions{})

	_, err := router.Weights(context.Background())
	var ae smithy.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.ErrorCode())
	}
	// Output:
	// ListenerNotFound
}

// Per-target-group counts for a gate or the sequential judge.
func ExampleALBMetricSource_Metric() {
	fake := awstest.NewCloudWatch()
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	albTraffic(fake, start, "")
	srv := httptest.NewServer(fake)
	defer srv.Close()

	src, _ := awsprovider.NewALBMetricSource(fake.Client(awstest.Endpoint{URL: srv.URL}), awstest.LBARN, blueGreen, awsprovider.ALBMetricsOptions{})
	for _, target := range []string{"blue", "green"} {
		for _, m := range []string{providers.MetricRequests, providers.MetricErrors} {
			v, err := src.Metric(context.Background(), providers.MetricQuery{Target: target, Metric: m, Start: start, End: start.Add(6 * time.Minute)})
			if err != nil {
				fmt.Println(err)
				return
			}
			if v.Points == 0 {
				fmt.Printf("%s %s: no data\n", target, m)
				continue
			}
			fmt.Printf("%s %s: %v over %d minutes\n", target, m, v.Value, v.Points)
		}
	}
	// Output:
	// blue requests: 750 over 6 minutes
	// blue errors: 9 over 6 minutes
	// green requests: no data
	// green errors: no data
}
