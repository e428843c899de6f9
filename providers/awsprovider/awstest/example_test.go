package awstest_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// A tool of your own, tested against the fake ELB through the real SDK
// client: it moves a tenth of the listener's traffic to green, and the
// fake answers as ALB would — and refuses a weight ALB refuses. The
// first call is throttled, and the SDK's retryer retries it.
func Example() {
	elb := awstest.NewELB()
	srv := httptest.NewServer(elb)
	defer srv.Close()
	client := elb.Client(awstest.Endpoint{URL: srv.URL})
	elb.FailNext("ModifyListener", 1, awstest.Throttling)

	shift := func(green int32) error {
		_, err := client.ModifyListener(context.Background(), &elbv2.ModifyListenerInput{
			ListenerArn: aws.String(awstest.ListenerARN),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
				TargetGroups: []elbtypes.TargetGroupTuple{
					{TargetGroupArn: aws.String(awstest.BlueTG), Weight: aws.Int32(100 - green)},
					{TargetGroupArn: aws.String(awstest.GreenTG), Weight: aws.Int32(green)},
				}}}},
		})
		return err
	}
	fmt.Println("shift 10:", shift(10))
	for _, tg := range elb.Forward(awstest.ListenerARN).TargetGroups {
		fmt.Println(tg.TargetGroupArn == awstest.GreenTG, tg.Weight)
	}
	fmt.Println("ModifyListener calls:", elb.Calls("ModifyListener"))
	fmt.Println("shift 1000 refused:", shift(1000) != nil)
	// Output:
	// shift 10: <nil>
	// false 90
	// true 10
	// ModifyListener calls: 2
	// shift 1000 refused: true
}
