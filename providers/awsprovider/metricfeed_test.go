package awsprovider_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// The ALB source as a metric feed, at the wire: Settled follows the
// latest published minute less the publication lag, and the health
// package's shortest real use — a judge with default options — decides on
// it: a 2× canary fails, a healthy one does not, and a canary whose data
// stop is pending, named.
func TestALBMetricFeedJudge(t *testing.T) {
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		greenErrors float64 // per minute, among 1000 requests; blue has 45 among 9000
		stallAt     int     // minute after which green publishes nothing; 0: never
		want        cutover.Decision
		fragment    string
	}{
		{"a 2x canary fails", 10, 0, cutover.Fail, "green is worse than blue"},
		{"a healthy canary is not failed", 5, 0, cutover.Pass, "no worse"},
		{"a stalled canary is pending, named", 5, 4, cutover.Pending, "no data for green since 12:04:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := awstest.NewCloudWatch()
			for i := range 40 {
				m := start.Add(time.Duration(i)*time.Minute + 7*time.Second)
				f.Add("RequestCount", awstest.BlueTG, testLBSuffix, m, 9000)
				f.Add("HTTPCode_Target_5XX_Count", awstest.BlueTG, testLBSuffix, m, 45)
				if tc.stallAt > 0 && i >= tc.stallAt {
					continue
				}
				f.Add("RequestCount", awstest.GreenTG, testLBSuffix, m, 1000)
				f.Add("HTTPCode_Target_5XX_Count", awstest.GreenTG, testLBSuffix, m, tc.greenErrors)
			}
			clock := cutover.NewManualClock(start)
			src := newMetrics(t, f, awstest.LBARN, awsprovider.ALBMetricsOptions{Clock: clock})
			if info := src.FeedInfo(); info.Supports(providers.MetricSlow) || info.Resolution != time.Minute {
				t.Fatalf("FeedInfo %+v: want minutes and no slow metric without an expression", info)
			}
			judge, err := health.NewJudge(src, "blue", "green", health.JudgeOptions{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			var v cutover.Verdict
			for range 30 {
				if v, err = judge.Evaluate(context.Background()); err != nil {
					t.Fatal(err)
				}
				if v.Decision == cutover.Fail || v.Final {
					break
				}
				clock.Advance(time.Minute)
			}
			if v.Decision != tc.want || !strings.Contains(v.Reason, tc.fragment) {
				t.Fatalf("after %v: %v; want %v mentioning %q", clock.Now().Sub(start), v, tc.want, tc.fragment)
			}
			settled, err := src.Settled(context.Background(), "blue")
			if err != nil {
				t.Fatal(err)
			}
			if want := clock.Now().Add(-awsprovider.DefaultALBPublishLag).Truncate(time.Minute); !settled.Equal(want) {
				t.Errorf("blue settled %v at %v, want %v", settled, clock.Now(), want)
			}
		})
	}
}
