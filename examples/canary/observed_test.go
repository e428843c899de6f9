package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// behindTheBack is another writer that puts the listener back on blue
// right after each of the cutover's writes.
type behindTheBack struct {
	providers.TrafficRouter
	cloud *awstest.Cloud
}

// VerifiesWrites is the ALB router's: the write's answer showed the
// weights; the other writer came after it.
func (b behindTheBack) VerifiesWrites() bool { return true }

func (b behindTheBack) SetWeights(ctx context.Context, w providers.Weights) error {
	err := b.TrafficRouter.SetWeights(ctx, w)
	b.cloud.Edit(0)
	return err
}

// TestAWSObservedShare: the canary's observed-share check through the
// real SDK clients, an ALB router and metric source over the fake ELB
// and CloudWatch (whose RequestCount follows the listener's weights):
// traffic that follows the weights passes each step; a listener put back
// behind the cutover's back fails the first step closed, naming the
// expected and observed shares, and rolls back.
func TestAWSObservedShare(t *testing.T) {
	for _, tc := range []struct {
		name string
		back bool
	}{{"follows", false}, {"changed behind the back", true}} {
		t.Run(tc.name, func(t *testing.T) {
			cloud, err := awstest.NewCloud(awstest.CloudOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cloud.Setenv(t)
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(cloud.HTTPClient()))
				if err != nil {
					t.Fatal(err)
				}
				tgs := map[string]string{"blue": awstest.BlueTG, "green": awstest.GreenTG}
				alb, err := awsprovider.NewALBRouter(elbv2.NewFromConfig(cfg), awstest.ListenerARN, tgs, awsprovider.ALBOptions{})
				if err != nil {
					t.Fatal(err)
				}
				src, err := awsprovider.NewALBMetricSource(cloudwatch.NewFromConfig(cfg), awstest.LBARN, tgs, awsprovider.ALBMetricsOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var router providers.TrafficRouter = alb
				if tc.back {
					router = behindTheBack{alb, cloud}
				}
				c, err := canary.New(router, canary.Options{Steps: canary.Weights(5, 50, 100), Bake: time.Minute,
					Observe: src, ObserveDeadline: 6 * time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				plan, err := cutover.Sequence("observed", c)
				if err != nil {
					t.Fatal(err)
				}
				_, err = cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: 15 * time.Second}).Run(ctx, "observed", plan)
				if !tc.back {
					if err != nil {
						t.Fatalf("Run: %v", err)
					}
					if w := cloud.Weights(); w["green"] != 100 {
						t.Errorf("listener %v, want all on green", w)
					}
					if n := cloud.Calls("GetMetricData"); n < 3 {
						t.Errorf("GetMetricData called %d times, want the shares of every step read", n)
					}
					return
				}
				if !errors.Is(err, canary.ErrTrafficNotMoved) || !strings.Contains(err.Error(), "observed 0.0% of") || !strings.Contains(err.Error(), "want green=5%") {
					t.Fatalf("Run = %v, want ErrTrafficNotMoved naming 5%% expected and 0%% observed", err)
				}
				if w := cloud.Weights(); w["green"] != 0 {
					t.Errorf("listener %v after the rollback, want green 0", w)
				}
			})
		})
	}
}
