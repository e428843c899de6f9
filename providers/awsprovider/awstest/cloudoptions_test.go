package awstest_test

import (
	"math"
	"strings"
	"testing"

	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// NewCloud refuses options out of range, naming the field; the zero
// options are valid.
func TestNewCloudOptions(t *testing.T) {
	if c, err := awstest.NewCloud(awstest.CloudOptions{}); err != nil || c == nil {
		t.Fatalf("zero options: %v, %v; want a cloud", c, err)
	}
	tests := []struct {
		name string
		opts awstest.CloudOptions
		want string
	}{
		{"negative error rate", awstest.CloudOptions{BlueErrorRate: -0.1}, "BlueErrorRate: -0.1: want a share from 0 to 1"},
		{"error rate over 1", awstest.CloudOptions{GreenErrorRate: 5}, "GreenErrorRate: 5"},
		{"NaN error rate", awstest.CloudOptions{GreenErrorRate: math.NaN()}, "GreenErrorRate: NaN"},
		{"unknown alarm state", awstest.CloudOptions{Alarms: map[string]string{"web-5xx": "alarm"}}, `Alarms["web-5xx"]: "alarm"`},
		{"negative throttle", awstest.CloudOptions{Throttle: map[string]int{"DescribeListeners": -1}}, `Throttle["DescribeListeners"]: -1`},
		{"DynamoDB not a URL", awstest.CloudOptions{DynamoDB: "127.0.0.1:8000"}, "DynamoDB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := awstest.NewCloud(tt.opts)
			if err == nil || c != nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewCloud: %v, %v; want an error naming %q", c, err, tt.want)
			}
		})
	}
}
