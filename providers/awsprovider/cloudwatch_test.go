package awsprovider_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/providertest"
)

const testLBSuffix = "app/front/50dc6c495c0c9188"

func newAlarms(t *testing.T, f *awstest.CloudWatch) *awsprovider.AlarmSource {
	t.Helper()
	s, err := awsprovider.NewAlarmSource(f.Client(awstest.Serve(t, f)), awsprovider.AlarmSourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAlarmSourceConformance(t *testing.T) {
	providertest.TestAlarmSource(t, func(t *testing.T, alarms map[string]providers.AlarmState) providers.AlarmSource {
		f := awstest.NewCloudWatch()
		kinds := []string{"MetricAlarm", "CompositeAlarm", "LogAlarm"}
		i := 0
		for name, st := range alarms {
			f.AddAlarm(awstest.Alarm{Name: name, Type: kinds[i%3], State: string(st)})
			i++
		}
		return newAlarms(t, f)
	})
}

func TestAlarmSource(t *testing.T) {
	updated := time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)
	t.Run("CompositeNeedsAlarmTypes", func(t *testing.T) {
		f := awstest.NewCloudWatch()
		f.AddAlarm(awstest.Alarm{Name: "checkout-slo", Type: "CompositeAlarm", State: "ALARM", Reason: "child alarm p99 in ALARM", Updated: updated})
		f.AddAlarm(awstest.Alarm{Name: "green-5xx", Type: "MetricAlarm", State: "OK", Reason: "Threshold Crossed: 0 datapoints", Updated: updated})
		got, err := newAlarms(t, f).Alarms(context.Background(), []string{"green-5xx", "checkout-slo", "green-5xx"})
		if err != nil {
			t.Fatal(err)
		}
		want := []providers.Alarm{
			{Name: "green-5xx", State: providers.AlarmOK, Reason: "Threshold Crossed: 0 datapoints", Updated: updated},
			{Name: "checkout-slo", State: providers.AlarmAlarm, Reason: "child alarm p99 in ALARM", Updated: updated},
			{Name: "green-5xx", State: providers.AlarmOK, Reason: "Threshold Crossed: 0 datapoints", Updated: updated},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Alarms (-want +got):\n%s", diff)
		}
		if n := f.Calls("DescribeAlarms"); n != 1 {
			t.Errorf("DescribeAlarms calls = %d, want 1", n)
		}
	})
	t.Run("ManyNamesAndPages", func(t *testing.T) {
		f := awstest.NewCloudWatch()
		f.AlarmPage = 40
		var names []string
		for i := range 150 {
			n := fmt.Sprintf("alarm-%03d", i)
			names = append(names, n)
			f.AddAlarm(awstest.Alarm{Name: n, Type: "MetricAlarm", State: "OK"})
		}
		got, err := newAlarms(t, f).Alarms(context.Background(), names)
		if err != nil || len(got) != 150 || got[149].Name != "alarm-149" {
			t.Fatalf("Alarms(150 names) = %d alarms, %v", len(got), err)
		}
		// 100 names in 3 pages of 40, then 50 in 2 pages.
		if n := f.Calls("DescribeAlarms"); n != 5 {
			t.Errorf("DescribeAlarms calls = %d, want 5", n)
		}
	})
	t.Run("UnknownNamed", func(t *testing.T) {
		f := awstest.NewCloudWatch()
		f.AddAlarm(awstest.Alarm{Name: "known", Type: "MetricAlarm", State: "OK"})
		_, err := newAlarms(t, f).Alarms(context.Background(), []string{"known", "typo-alarm"})
		if err == nil || !strings.Contains(err.Error(), `no alarm named "typo-alarm"`) {
			t.Errorf("Alarms with an unknown name: %v", err)
		}
	})
	t.Run("Throttled", func(t *testing.T) {
		f := awstest.NewCloudWatch()
		f.AddAlarm(awstest.Alarm{Name: "a", Type: "MetricAlarm", State: "ALARM"})
		f.FailNext("DescribeAlarms", 2, awstest.Throttling)
		got, err := newAlarms(t, f).Alarms(context.Background(), []string{"a"})
		if err != nil || len(got) != 1 || got[0].State != providers.AlarmAlarm {
			t.Fatalf("Alarms after throttling = %+v, %v", got, err)
		}
		if n := f.Calls("DescribeAlarms"); n != 3 {
			t.Errorf("DescribeAlarms calls = %d, want 3", n)
		}
		f.FailNext("DescribeAlarms", awstest.MaxAttempts, awstest.InternalError)
		_, err = newAlarms(t, f).Alarms(context.Background(), []string{"a"})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" {
			t.Errorf("Alarms past the retries: %v, want the InternalFailure APIError", err)
		}
	})
	t.Run("BadNames", func(t *testing.T) {
		f := awstest.NewCloudWatch()
		s := newAlarms(t, f)
		if _, err := s.Alarms(context.Background(), []string{""}); err == nil {
			t.Error("empty name: nil error")
		}
		if got, err := s.Alarms(context.Background(), nil); err != nil || len(got) != 0 || f.Calls("DescribeAlarms") != 0 {
			t.Errorf("no names: %v, %v after %d calls", got, err, f.Calls("DescribeAlarms"))
		}
	})
}

// albTraffic fills the fake with six minutes of blue traffic from start:
// 100+10i requests in minute i, 5xx in the even minutes only (ALB
// publishes no 5xx count for a minute without one), latencies, and a slow
// count through the expression. Green has none.
func albTraffic(f *awstest.CloudWatch, start time.Time, slowExpr string) {
	for i := range 6 {
		m := start.Add(time.Duration(i)*time.Minute + 17*time.Second)
		n := 100 + 10*i
		f.Add("RequestCount", awstest.BlueTG, testLBSuffix, m, float64(n))
		if i%2 == 0 {
			f.Add("HTTPCode_Target_5XX_Count", awstest.BlueTG, testLBSuffix, m, float64(i+1))
		}
		lat := make([]float64, n)
		for j := range lat {
			lat[j] = 0.05 + 0.001*float64(j%100)
		}
		f.Add("TargetResponseTime", awstest.BlueTG, testLBSuffix, m, lat...)
		if slowExpr != "" {
			f.AddExpression(strings.ReplaceAll(slowExpr, "${TargetGroup}", "targetgroup/blue/73e2d6bc24d8a067"), m, float64(i))
		}
	}
	if slowExpr != "" {
		f.DefineExpression(strings.ReplaceAll(slowExpr, "${TargetGroup}", "targetgroup/green/4b8d2f4e9c1a7d35"))
	}
}

const testSlowExpr = `SUM(SEARCH('{MyApp,TargetGroup} MetricName="SlowRequests" TargetGroup="${TargetGroup}"', 'Sum', 60))`

func newMetrics(t *testing.T, f *awstest.CloudWatch, lb string, opts awsprovider.ALBMetricsOptions) *awsprovider.ALBMetricSource {
	t.Helper()
	s, err := awsprovider.NewALBMetricSource(f.Client(awstest.Serve(t, f)), lb, blueGreen, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestALBMetricSourceConformance(t *testing.T) {
	providertest.TestMetricSource(t, func(t *testing.T) providertest.MetricFixture {
		f := awstest.NewCloudWatch()
		start := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
		albTraffic(f, start, testSlowExpr)
		return providertest.MetricFixture{
			Source: newMetrics(t, f, awstest.LBARN, awsprovider.ALBMetricsOptions{SlowExpression: testSlowExpr}),
			Target: "blue", Idle: "green", Start: start, End: start.Add(6 * time.Minute),
		}
	})
}

func TestALBMetricSource(t *testing.T) {
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	end := start.Add(6 * time.Minute)
	f := awstest.NewCloudWatch()
	albTraffic(f, start, testSlowExpr)
	// From a listener ARN: the same LoadBalancer dimension.
	s := newMetrics(t, f, awstest.ListenerARN, awsprovider.ALBMetricsOptions{SlowExpression: testSlowExpr})
	q := func(target, metric string, from, to time.Time) providers.MetricValue {
		t.Helper()
		v, err := s.Metric(context.Background(), providers.MetricQuery{Target: target, Metric: metric, Start: from, End: to})
		if err != nil {
			t.Fatalf("Metric(%s, %s): %v", target, metric, err)
		}
		return v
	}
	for _, tc := range []struct {
		name         string
		target, m    string
		from, to     time.Time
		want         providers.MetricValue
		approxLatncy bool
	}{
		{"Requests", "blue", providers.MetricRequests, start, end, providers.MetricValue{Value: 750, Points: 6}, false},
		// 5xx in minutes 0, 2, 4 (1+3+5); minutes 1, 3, 5 had requests and no 5xx: zero, with data.
		{"Errors", "blue", providers.MetricErrors, start, end, providers.MetricValue{Value: 9, Points: 6}, false},
		{"ErrorsNo5xxMinute", "blue", providers.MetricErrors, start.Add(time.Minute), start.Add(2 * time.Minute), providers.MetricValue{Value: 0, Points: 1}, false},
		{"Slow", "blue", providers.MetricSlow, start, end, providers.MetricValue{Value: 15, Points: 6}, false},
		{"IdleRequests", "green", providers.MetricRequests, start, end, providers.MetricValue{}, false},
		{"IdleErrors", "green", providers.MetricErrors, start, end, providers.MetricValue{}, false},
		{"IdleLatency", "green", providers.MetricLatencyAvg, start, end, providers.MetricValue{}, false},
		{"IdleP99", "green", providers.MetricLatencyP99, start, end, providers.MetricValue{}, false},
		{"IdleSlow", "green", providers.MetricSlow, start, end, providers.MetricValue{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, q(tc.target, tc.m, tc.from, tc.to)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("LatencyAverageIsWeighted", func(t *testing.T) {
		// Minute 0: 100 requests at 0.05–0.149 (mean 0.0995); minute 5: 150
		// requests, 0.05–0.149 then 0.05–0.099 (mean 0.0912). Weighted by
		// requests, not the mean of the two minutes' means.
		got := q("blue", providers.MetricLatencyAvg, start, start.Add(time.Minute))
		if math.Abs(got.Value-0.0995) > 1e-9 || got.Points != 1 {
			t.Errorf("minute 0 average = %+v, want 0.0995 from 1 point", got)
		}
		var sum, n float64
		for i := range 6 {
			for j := range 100 + 10*i {
				sum += 0.05 + 0.001*float64(j%100)
				n++
			}
		}
		all := q("blue", providers.MetricLatencyAvg, start, end)
		if math.Abs(all.Value-sum/n) > 1e-9 || all.Points != 6 {
			t.Errorf("average over 6 minutes = %+v, want %v (weighted by requests) from 6 points", all, sum/n)
		}
	})
	t.Run("P99OverTheWholeWindow", func(t *testing.T) {
		f.Periods() // forget earlier queries
		got := q("blue", providers.MetricLatencyP99, start, start.Add(5*time.Minute+30*time.Second))
		if got.Points != 1 || math.Abs(got.Value-0.148) > 1e-9 { // 743rd of 750 samples
			t.Errorf("p99 = %+v, want 0.148 from one period", got)
		}
		if diff := cmp.Diff([]int{360}, f.Periods()); diff != "" {
			t.Errorf("periods asked for (-want +got):\n%s", diff)
		}
	})
	t.Run("OneCallPerPoll", func(t *testing.T) {
		// A poll: the judge reads requests and errors of both arms since
		// the step began, a threshold gate errors and requests of the
		// last five minutes, the latency gate the average, the observed
		// share the request counts.
		fresh := newMetrics(t, f, awstest.ListenerARN, awsprovider.ALBMetricsOptions{SlowExpression: testSlowExpr})
		before := f.Snapshot()
		for _, target := range []string{"blue", "green"} {
			for _, m := range []string{providers.MetricRequests, providers.MetricErrors, providers.MetricLatencyAvg, providers.MetricSlow} {
				if _, err := fresh.Metric(context.Background(), providers.MetricQuery{Target: target, Metric: m, Start: start, End: end}); err != nil {
					t.Fatal(err)
				}
			}
		}
		v, err := fresh.Metric(context.Background(), providers.MetricQuery{Target: "blue", Metric: providers.MetricErrors, Start: end.Add(-2 * time.Minute), End: end})
		if err != nil || v != (providers.MetricValue{Value: 5, Points: 2}) {
			t.Errorf("errors of the last 2 minutes from the batch = %+v, %v; want 5 over 2", v, err)
		}
		counts, err := fresh.RequestCounts(context.Background(), []string{"blue", "green"}, start, end)
		if err != nil || counts["blue"].Value != 750 || counts["green"].Points != 0 {
			t.Errorf("RequestCounts = %v, %v; want blue 750, green no data", counts, err)
		}
		if diff := cmp.Diff(map[string]int{"GetMetricData": 1}, f.Since(before)); diff != "" {
			t.Errorf("calls of one poll (-want +got):\n%s", diff)
		}
		// p99 does not combine across minutes: its own call.
		before = f.Snapshot()
		q("blue", providers.MetricLatencyP99, start, end)
		if n := f.Since(before)["GetMetricData"]; n != 1 {
			t.Errorf("p99: %d calls, want 1", n)
		}
	})
	t.Run("OneCallPerJudgedPoll", func(t *testing.T) {
		// The judge asks both arms how far their data are complete, then
		// reads both arms over that settled window: one call in all.
		clock := cutover.NewManualClock(end.Add(90 * time.Second))
		fresh := newMetrics(t, f, awstest.ListenerARN, awsprovider.ALBMetricsOptions{Clock: clock})
		before := f.Snapshot()
		var settled []time.Time
		for _, target := range []string{"blue", "green"} {
			at, err := fresh.Settled(context.Background(), target)
			if err != nil {
				t.Fatal(err)
			}
			settled = append(settled, at)
		}
		for _, target := range []string{"blue", "green"} {
			for _, m := range []string{providers.MetricRequests, providers.MetricErrors} {
				if _, err := fresh.Metric(context.Background(), providers.MetricQuery{Target: target, Metric: m, Start: start, End: settled[0]}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if diff := cmp.Diff(map[string]int{"GetMetricData": 1}, f.Since(before)); diff != "" {
			t.Errorf("calls of one judged poll (-want +got):\n%s", diff)
		}
		if !settled[0].Equal(end) || !settled[1].IsZero() {
			t.Errorf("Settled = %v, want blue %v (its last minute) and green the zero time (no data)", settled, end)
		}
	})
	t.Run("PagedResults", func(t *testing.T) {
		f.SetPagePerQuery(true)
		defer f.SetPagePerQuery(false)
		s = newMetrics(t, f, awstest.ListenerARN, awsprovider.ALBMetricsOptions{SlowExpression: testSlowExpr})
		before := f.Snapshot()
		if got := q("blue", providers.MetricErrors, start, end); got != (providers.MetricValue{Value: 9, Points: 6}) {
			t.Errorf("errors over pages = %+v", got)
		}
		if n := f.Since(before)["GetMetricData"]; n != 10 {
			t.Errorf("GetMetricData calls = %d, want 10 pages (a query a page)", n)
		}
	})
	t.Run("Throttled", func(t *testing.T) {
		s = newMetrics(t, f, awstest.ListenerARN, awsprovider.ALBMetricsOptions{SlowExpression: testSlowExpr})
		before := f.Snapshot()
		f.FailNext("GetMetricData", 2, awstest.Throttling)
		if got := q("blue", providers.MetricRequests, start, end); got.Value != 750 {
			t.Errorf("requests after throttling = %+v", got)
		}
		if n := f.Since(before)["GetMetricData"]; n != 3 {
			t.Errorf("GetMetricData calls = %d, want 3", n)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		noSlow := newMetrics(t, f, awstest.LBARN, awsprovider.ALBMetricsOptions{})
		for _, tc := range []struct {
			name string
			src  *awsprovider.ALBMetricSource
			q    providers.MetricQuery
			is   error
			want string
		}{
			{"SlowUnconfigured", noSlow, providers.MetricQuery{Target: "blue", Metric: providers.MetricSlow, Start: start, End: end}, awsprovider.ErrUnsupportedMetric, "SlowExpression"},
			{"UnknownMetric", s, providers.MetricQuery{Target: "blue", Metric: "p50", Start: start, End: end}, awsprovider.ErrUnsupportedMetric, "want one of"},
			{"UnknownTarget", s, providers.MetricQuery{Target: "teal", Metric: providers.MetricRequests, Start: start, End: end}, nil, `unknown target`},
			{"EmptyWindow", s, providers.MetricQuery{Target: "blue", Metric: providers.MetricRequests, Start: end, End: end}, nil, "is empty"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v, err := tc.src.Metric(context.Background(), tc.q)
				if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
					t.Errorf("Metric(%+v) = %+v, %v; want an error saying %q", tc.q, v, err, tc.want)
				}
			})
		}
	})
}

func TestNewALBMetricSourceBadInput(t *testing.T) {
	f := awstest.NewCloudWatch()
	c := f.Client(awstest.Serve(t, f))
	for _, tc := range []struct {
		name    string
		lb      string
		targets map[string]string
		want    string
	}{
		{"TargetGroupAsLB", awstest.BlueTG, blueGreen, "want the load balancer's"},
		{"NLB", strings.Replace(awstest.LBARN, "/app/", "/net/", 1), blueGreen, "not an Application Load Balancer"},
		{"Malformed", "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/front", blueGreen, "malformed ELB ARN"},
		{"NoTargets", awstest.LBARN, nil, "at least one target group"},
		{"BadTarget", awstest.LBARN, map[string]string{"blue": "targetgroup/blue/1"}, "malformed ELB ARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := awsprovider.NewALBMetricSource(c, tc.lb, tc.targets, awsprovider.ALBMetricsOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewALBMetricSource = %v, %v; want an error saying %q", s, err, tc.want)
			}
		})
	}
}

func TestTargetHealthSourceConformance(t *testing.T) {
	providertest.TestTargetHealthSource(t, func(t *testing.T, healthy, unhealthy int) (providers.TargetHealthSource, string) {
		f := awstest.NewELB()
		var states []string
		for range healthy {
			states = append(states, "healthy")
		}
		for range unhealthy {
			states = append(states, "unhealthy")
		}
		f.AddTargetGroup(awstest.GreenTG, states...)
		s, err := awsprovider.NewTargetHealthSource(f.Client(awstest.Serve(t, f)), blueGreen, awsprovider.TargetHealthOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s, "green"
	})
}

func TestTargetHealthSource(t *testing.T) {
	f := awstest.NewELB()
	f.AddTargetGroup(awstest.GreenTG, "healthy", "unhealthy", "draining")
	f.FailNext("DescribeTargetHealth", 1, awstest.Throttling)
	s, err := awsprovider.NewTargetHealthSource(f.Client(awstest.Serve(t, f)), blueGreen, awsprovider.TargetHealthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TargetHealth(context.Background(), "green")
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.TargetHealth{
		{ID: "i-00000000000000001:8080", State: providers.HealthHealthy},
		{ID: "i-00000000000000002:8080", State: providers.HealthUnhealthy, Reason: "Target.ResponseCodeMismatch: Health checks failed with these codes: [502]"},
		{ID: "i-00000000000000003:8080", State: providers.HealthDraining},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TargetHealth (-want +got):\n%s", diff)
	}
	if n := f.Calls("DescribeTargetHealth"); n != 2 {
		t.Errorf("DescribeTargetHealth calls = %d, want 2 (one throttled)", n)
	}
	f2 := awstest.NewELB()
	f2.RemoveTargetGroup(awstest.GreenTG)
	s2, _ := awsprovider.NewTargetHealthSource(f2.Client(awstest.Serve(t, f2)), blueGreen, awsprovider.TargetHealthOptions{})
	_, err = s2.TargetHealth(context.Background(), "green")
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "TargetGroupNotFound" || !strings.Contains(err.Error(), awstest.GreenTG) {
		t.Errorf("TargetHealth of a deleted target group: %v", err)
	}
}
