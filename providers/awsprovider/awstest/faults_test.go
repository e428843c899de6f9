package awstest_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// TestFaultsHoldAndDelay: a held call is never answered and leaves the
// caller to give up; a delayed call is answered after the delay, on the
// bubble's clock, or not at all if the caller gives up first. Both are
// counted.
func TestFaultsHoldAndDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := awstest.NewELB()
		c := f.Client(awstest.InProcess(f))
		describe := func(timeout time.Duration) (time.Duration, error) {
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			start := time.Now()
			_, err := c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{awstest.ListenerARN}})
			return time.Since(start), err
		}
		f.HoldNext("DescribeListeners", 1)
		if took, err := describe(5 * time.Second); !errors.Is(err, context.DeadlineExceeded) || took != 5*time.Second {
			t.Errorf("held call: %v after %s, want the deadline after 5s", err, took)
		}
		f.DelayNext("DescribeListeners", 2, 30*time.Second)
		if took, err := describe(10 * time.Second); !errors.Is(err, context.DeadlineExceeded) || took != 10*time.Second {
			t.Errorf("call delayed past its deadline: %v after %s, want the deadline after 10s", err, took)
		}
		if took, err := describe(time.Minute); err != nil || took != 30*time.Second {
			t.Errorf("delayed call: %v after %s, want an answer after 30s", err, took)
		}
		if took, err := describe(time.Second); err != nil || took != 0 {
			t.Errorf("call after the faults: %v after %s, want an answer at once", err, took)
		}
		if n := f.Calls("DescribeListeners"); n != 4 {
			t.Errorf("DescribeListeners calls = %d, want 4", n)
		}
	})
}

// TestFaultsAnswerInEachProtocol: an injected fault reaches the SDK as the
// service's error code, in awsQuery, rpcv2Cbor and awsJson1_1; a server
// error is retried up to MaxAttempts, and FailNext faults are used up in
// order.
func TestFaultsAnswerInEachProtocol(t *testing.T) {
	ctx := t.Context()
	code := func(err error) string {
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			return "no API error: " + errText(err)
		}
		return ae.ErrorCode()
	}

	elb := awstest.NewELB()
	elb.FailNext("DescribeListeners", awstest.MaxAttempts, awstest.InternalError)
	_, err := elb.Client(awstest.Serve(t, elb)).DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{awstest.ListenerARN}})
	cw := awstest.NewCloudWatch()
	cw.FailNext("DescribeAlarms", 1, awstest.Fault{Status: 400, Code: "InvalidNextToken", Message: "bad token"})
	_, cwErr := cw.Client(awstest.Serve(t, cw)).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}})
	e := awstest.NewECS()
	e.FailNext("DescribeServices", awstest.MaxAttempts, awstest.Throttling)
	_, ecsErr := e.Client(awstest.Serve(t, e)).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(awstest.ECSCluster), Services: []string{awstest.ECSService}})

	got := map[string]string{"awsQuery": code(err), "rpcv2Cbor": code(cwErr), "awsJson1_1": code(ecsErr)}
	want := map[string]string{"awsQuery": "InternalFailure", "rpcv2Cbor": "InvalidNextToken", "awsJson1_1": "ThrottlingException"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error codes (-want +got):\n%s", diff)
	}
	calls := map[string]int{"DescribeListeners": elb.Calls("DescribeListeners"), "DescribeAlarms": cw.Calls("DescribeAlarms"), "DescribeServices": e.Calls("DescribeServices")}
	if diff := cmp.Diff(map[string]int{"DescribeListeners": awstest.MaxAttempts, "DescribeAlarms": 1, "DescribeServices": awstest.MaxAttempts}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if _, err := elb.Client(awstest.Serve(t, elb)).DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{awstest.ListenerARN}}); err != nil {
		t.Errorf("call after the faults were used up: %v", err)
	}
}

func errText(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
