package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/examples/internal/awsfake"
	"github.com/safecutover/safecutover/examples/internal/demo"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

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
			cloud := awsfake.New(awsfake.Options{BlueErrorRate: 0.005, GreenErrorRate: tt.greenErrors, Alarms: map[string]string{"web-5xx": tt.alarm}})
			cloud.Setenv(t)
			args := []string{
				"-aws", "-plain", "-journal", t.TempDir(),
				"-listener-arn", awsfake.ListenerARN,
				"-target-groups", "blue=" + awsfake.BlueTG + ",green=" + awsfake.GreenTG,
				"-alarms", "web-5xx",
			}
			synctest.Test(t, func(t *testing.T) {
				run := func() (int, string) {
					var out syncBuffer
					code := demo.Run(t.Context(), scenario, args, demo.IO{In: strings.NewReader(""), Out: &out, Err: &out,
						AWSConfig: []func(*config.LoadOptions) error{config.WithHTTPClient(cloud.HTTPClient())}})
					if testing.Verbose() {
						t.Log(out.String())
					}
					return code, out.String()
				}
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
