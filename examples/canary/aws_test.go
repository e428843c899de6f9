package main

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/examples/internal/demotest"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// TestAWSMode runs the -aws mode end to end: the example's real SDK
// clients, configured by config.LoadDefaultConfig from the environment
// (AWS_ENDPOINT_URL_*, static credentials), drive a fake ALB listener and
// read a fake CloudWatch, on the real clock — inside a synctest bubble, so
// the half hour of bakes takes no time.
func TestAWSMode(t *testing.T) {
	tests := []struct {
		name        string
		greenErrors float64
		alarm       string
		want        int
		wantWeights map[string]int
		// wantModify is the number of ModifyListener calls: one per
		// step, and one for the rollback.
		wantModify int
		output     []string
	}{
		{name: "healthy green", greenErrors: 0.005, alarm: "OK", want: demo.ExitCompleted,
			wantWeights: map[string]int{"blue": 0, "green": 100}, wantModify: 3,
			output: []string{"AWS region us-east-1, real clock", "alarms web-5xx", "gate judge green vs blue: pass (final)", "✓ completed", "all traffic is on green"}},
		{name: "bad green", greenErrors: 0.05, alarm: "OK", want: demo.ExitRolledBack,
			wantWeights: map[string]int{"blue": 100, "green": 0}, wantModify: 2,
			output: []string{"rolling back", "green error rate", "all traffic is back on blue"}},
		{name: "alarm", greenErrors: 0.005, alarm: "ALARM", want: demo.ExitRolledBack,
			wantWeights: map[string]int{"blue": 100, "green": 0}, wantModify: 2,
			output: []string{"gate alarms web-5xx: fail", "all traffic is back on blue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud, err := awstest.NewCloud(awstest.CloudOptions{BlueErrorRate: 0.005, GreenErrorRate: tt.greenErrors, Alarms: map[string]string{"web-5xx": tt.alarm}})
			if err != nil {
				t.Fatal(err)
			}
			cloud.Setenv(t)
			args := []string{
				"-aws", "-plain", "-journal", t.TempDir(),
				"-listener-arn", awstest.ListenerARN,
				"-target-groups", "blue=" + awstest.BlueTG + ",green=" + awstest.GreenTG,
				"-alarms", "web-5xx",
			}
			synctest.Test(t, func(t *testing.T) {
				run := func() (int, string) { return demotest.RunAWS(t, scenario, cloud, args) }
				code, out := run()
				if code != tt.want {
					t.Errorf("exit status %d, want %d; output:\n%s", code, tt.want, out)
				}
				if diff := cmp.Diff(tt.wantWeights, cloud.Weights()); diff != "" {
					t.Errorf("listener weights (-want +got):\n%s", diff)
				}
				if got := cloud.Calls("ModifyListener"); got != tt.wantModify {
					t.Errorf("ModifyListener called %d times, want %d", got, tt.wantModify)
				}
				// The pre-flight's one describe, then one right before each
				// write, none for the display (it shows the journal's
				// traffic notes) and none for a read-back (the write's
				// answer is checked).
				if got := cloud.Calls("DescribeListeners"); got != 1+tt.wantModify {
					t.Errorf("DescribeListeners called %d times, want %d (the pre-flight's and one per write)", got, 1+tt.wantModify)
				}
				t.Logf("calls: ModifyListener %d, DescribeListeners %d, GetMetricData %d, DescribeAlarms %d",
					cloud.Calls("ModifyListener"), cloud.Calls("DescribeListeners"), cloud.Calls("GetMetricData"), cloud.Calls("DescribeAlarms"))
				for _, want := range tt.output {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
				// The same command again finds the finished cutover in the
				// journal: same status, nothing changed.
				if code, out := run(); code != tt.want || !strings.Contains(out, "holds this finished cutover") {
					t.Errorf("second run: exit status %d, want %d; output:\n%s", code, tt.want, out)
				}
				if got := cloud.Calls("ModifyListener"); got != tt.wantModify {
					t.Errorf("after the second run ModifyListener called %d times, want %d", got, tt.wantModify)
				}
			})
		})
	}
}

// TestDynamoDBAWSMode runs the -aws mode with its journal and lease in
// DynamoDB — dynalite, started by make test — creating the table.
func TestDynamoDBAWSMode(t *testing.T) {
	ep := awstest.DynamoDBEndpoint(t)
	cloud, err := awstest.NewCloud(awstest.CloudOptions{BlueErrorRate: 0.005, GreenErrorRate: 0.005, DynamoDB: ep})
	if err != nil {
		t.Fatal(err)
	}
	cloud.Setenv(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "safecutover-example-" + hex.EncodeToString(b[:])
	args := []string{"-aws", "-plain", "-journal", "dynamodb:" + table, "-create-table", "-id", "release-1",
		"-listener-arn", awstest.ListenerARN, "-target-groups", "blue=" + awstest.BlueTG + ",green=" + awstest.GreenTG}
	synctest.Test(t, func(t *testing.T) {
		code, out := demotest.RunAWS(t, scenario, cloud, args)
		if code != demo.ExitCompleted {
			t.Fatalf("exit status %d, want %d; output:\n%s", code, demo.ExitCompleted, out)
		}
		for _, want := range []string{"DynamoDB journal and lease in table " + table, "✓ completed", "plan “canary-release”"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		// Without -create-table the table is checked, and the journal in it
		// holds the finished cutover.
		code, out = demotest.RunAWS(t, scenario, cloud, slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "-create-table" }))
		if code != demo.ExitCompleted || !strings.Contains(out, "DynamoDB journal and lease in table "+table+" — resuming") || !strings.Contains(out, `finished cutover "release-1"`) {
			t.Errorf("second run: exit status %d; output:\n%s", code, out)
		}
		if got := cloud.Calls("ModifyListener"); got != 3 {
			t.Errorf("ModifyListener called %d times, want 3", got)
		}
	})
}
