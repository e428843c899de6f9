package awstest_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// TestCloudMetricsFollowWeights: the Cloud's CloudWatch publishes each
// target group's share of the listener's traffic, minute by minute, by the
// weights in force then, a minute late; its throttling hits the first
// calls of an operation; its target health follows the fleets.
func TestCloudMetricsFollowWeights(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		c, err := awstest.NewCloud(awstest.CloudOptions{GreenErrorRate: 0.1, Throttle: map[string]int{"DescribeListeners": 2}})
		if err != nil {
			t.Fatal(err)
		}
		ep := awstest.Endpoint{URL: "http://127.0.0.1:9", HTTPClient: awstest.InProcessClient(c.CloudWatch)}
		start := time.Now().Truncate(time.Minute).Add(time.Minute)
		time.Sleep(time.Until(start))
		c.Edit(20)
		time.Sleep(2 * time.Minute)
		c.Edit(50)
		time.Sleep(2*time.Minute + 30*time.Second)

		if diff := cmp.Diff(map[string]int{"blue": 50, "green": 50}, c.Weights()); diff != "" {
			t.Errorf("weights (-want +got):\n%s", diff)
		}
		query := func(metric string) []float64 {
			out, err := c.CloudWatch.Client(ep).GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
				StartTime: aws.Time(start), EndTime: aws.Time(time.Now()),
				MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("q"), MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String(metric), Dimensions: []cwtypes.Dimension{
						{Name: aws.String("LoadBalancer"), Value: aws.String("app/front/50dc6c495c0c9188")},
						{Name: aws.String("TargetGroup"), Value: aws.String("targetgroup/green/4b8d2f4e9c1a7d35")},
					}},
					Period: aws.Int32(60), Stat: aws.String("Sum"),
				}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			return out.MetricDataResults[0].Values
		}
		// Minutes 0 and 1 at 20%, minute 2 at 50%; minute 3 is not
		// published yet (Lag), minute 4 not over.
		if diff := cmp.Diff([]float64{4000, 4000, 10000}, query("RequestCount")); diff != "" {
			t.Errorf("green's requests per minute (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]float64{400, 400, 1000}, query("HTTPCode_Target_5XX_Count")); diff != "" {
			t.Errorf("green's 5xx per minute (-want +got):\n%s", diff)
		}

		elb := c.ELB.Client(awstest.Endpoint{URL: "http://" + "127.0.0.1:9", HTTPClient: awstest.InProcessClient(c.ELB)})
		if _, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{awstest.ListenerARN}}); err != nil {
			t.Fatal(err)
		}
		if n := c.Calls("DescribeListeners"); n != 3 {
			t.Errorf("DescribeListeners calls = %d, want 3 (2 throttled, retried)", n)
		}
		th, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(awstest.BlueTG)})
		if err != nil || len(th.TargetHealthDescriptions) != 4 {
			t.Errorf("blue's target health: %v, %d members; want the 4 instances of %s", err, len(th.TargetHealthDescriptions), awstest.BlueASG)
		}
		if d, r := c.Fleet(awstest.GreenService); d != 0 || r != 0 {
			t.Errorf("green's service %d/%d, want 0/0", d, r)
		}
	})
}
