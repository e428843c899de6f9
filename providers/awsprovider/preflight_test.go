package awsprovider_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// TestPreflight: every problem is reported at once, each under the field
// that names the resource, through the real SDK; the resources that are
// fine are not reported; nothing is changed.
func TestPreflight(t *testing.T) {
	ctx := context.Background()
	elb, router := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{})
	_, gone := newALB(t, strings.Replace(awstest.ListenerARN, "f2f7dc8efc522ab2", "0000000000000000", 1), blueGreen, awsprovider.ALBOptions{})
	as := awstest.NewAutoScaling()
	missingASG, err := awsprovider.NewASGFleet(as.Client(awstest.Serve(t, as)), "shop-old-asg", awsprovider.ASGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ebf := awstest.NewBeanstalk()
	ecsf := awstest.NewECS()
	cw := awstest.NewCloudWatch()
	cw.AddAlarm(awstest.Alarm{Name: "checkout-5xx", Type: "MetricAlarm", State: "OK"})
	metrics := newMetrics(t, cw, awstest.LBARN, awsprovider.ALBMetricsOptions{})
	now := time.Now()
	checks := []awsprovider.PreflightCheck{
		awsprovider.CheckCredentials("credentials", awstest.Credentials()),
		awsprovider.CheckCredentials("-profile", nil),
		awsprovider.CheckRouter("-listener-arn", router),
		awsprovider.CheckRouter("-rule-arn", gone),
		awsprovider.CheckFleet("-blue-asg", missingASG),
		awsprovider.CheckFleet("-blue-env", newEBFleet(t, ebf, awstest.Serve(t, ebf), awsprovider.BeanstalkFleetOptions{})),
		awsprovider.CheckFleet("-green-service", newECS(t, ecsf, awstest.Serve(t, ecsf), "web", awsprovider.ECSOptions{})),
		awsprovider.CheckAlarms("-alarms", newAlarms(t, cw), []string{"checkout-5xx", "checkout-latency"}),
		awsprovider.CheckMetrics("-lb-arn", metrics,
			providers.MetricQuery{Target: "green", Metric: providers.MetricRequests, Start: now.Add(-5 * time.Minute), End: now},
			providers.MetricQuery{Target: "green", Metric: providers.MetricSlow, Start: now.Add(-5 * time.Minute), End: now}),
		{Field: "", Check: func(context.Context) error { return nil }},
	}
	err = awsprovider.Preflight(ctx, awsprovider.PreflightOptions{}, checks...)
	var pe *awsprovider.PreflightError
	if !errors.As(err, &pe) {
		t.Fatalf("Preflight: %v, want a *PreflightError", err)
	}
	var fields []string
	for _, p := range pe.Problems {
		fields = append(fields, p.Field)
	}
	if got, want := strings.Join(fields, " "), "-profile -rule-arn -blue-asg -alarms -lb-arn "; got != want {
		t.Errorf("problems under %q, want %q:\n%v", got, want, err)
	}
	for _, want := range []string{"pre-flight: 6 problems:", "\n  -blue-asg: auto scaling group shop-old-asg", "not found", "checkout-latency",
		"\n  -rule-arn: ", "\n  -lb-arn: metric slow of green", "a check with no field naming it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ListenerNotFound" {
		t.Errorf("errors.As finds %v, want the listener's ListenerNotFound", ae)
	}
	if !errors.Is(err, awsprovider.ErrUnsupportedMetric) {
		t.Errorf("errors.Is(err, ErrUnsupportedMetric) = false: %v", err)
	}
	for op, n := range elb.Snapshot() {
		if !strings.HasPrefix(op, "Describe") {
			t.Errorf("pre-flight called %s %d times", op, n)
		}
	}
	if err := awsprovider.Preflight(ctx, awsprovider.PreflightOptions{}, checks[0], checks[2], checks[5], checks[6]); err != nil {
		t.Errorf("Preflight of usable resources: %v", err)
	}
}

// TestPreflightTimeout: a check that does not answer is a problem once the
// bound has passed, and the others are still reported.
func TestPreflightTimeout(t *testing.T) {
	as := awstest.NewAutoScaling()
	as.FailNext("DescribeAutoScalingGroups", 1000, awstest.InternalError)
	fl := newASG(t, as, awstest.Serve(t, as), awsprovider.ASGOptions{})
	hang := awsprovider.PreflightCheck{Field: "-hang", Check: func(ctx context.Context) error {
		<-ctx.Done()
		return context.Cause(ctx)
	}}
	err := awsprovider.Preflight(context.Background(), awsprovider.PreflightOptions{Timeout: 50 * time.Millisecond},
		hang, awsprovider.CheckFleet("-blue-asg", fl), awsprovider.CheckCredentials("credentials", awstest.Credentials()))
	var pe *awsprovider.PreflightError
	if !errors.As(err, &pe) || len(pe.Problems) != 2 || !strings.Contains(err.Error(), "-hang: pre-flight: no answer within 50ms") ||
		!strings.Contains(err.Error(), "-blue-asg: ") {
		t.Errorf("Preflight: %v; want -hang timed out and -blue-asg failing", err)
	}
	if err := awsprovider.Preflight(context.Background(), awsprovider.PreflightOptions{Timeout: -1}); err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("negative Timeout: %v", err)
	}
}
