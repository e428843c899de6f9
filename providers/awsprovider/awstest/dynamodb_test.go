package awstest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// TestLocalDynamoDB: only an http endpoint with a port on this machine is
// taken; unset is ErrNoDynamoDB.
func TestLocalDynamoDB(t *testing.T) {
	for _, tc := range []struct {
		env, want string // want: the endpoint, or a fragment of the error
		ok        bool
	}{
		{"", "is unset", false},
		{"http://127.0.0.1:18100", "http://127.0.0.1:18100", true},
		{"http://localhost:8000", "http://localhost:8000", true},
		{"http://[::1]:8000", "http://[::1]:8000", true},
		{"https://127.0.0.1:8000", "want http://127.0.0.1:PORT", false},
		{"http://127.0.0.1", "want http://127.0.0.1:PORT", false},
		{"http://dynamodb.example.com:80", "want a server on this machine", false},
		{"http://10.0.0.1:8000", "want a server on this machine", false},
	} {
		t.Setenv(awstest.EnvDynamoDBEndpoint, tc.env)
		ep, err := awstest.LocalDynamoDB()
		switch {
		case tc.ok && (err != nil || ep != tc.want):
			t.Errorf("%q: %q, %v; want %q", tc.env, ep, err, tc.want)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %q, %v; want an error saying %q", tc.env, ep, err, tc.want)
		case tc.env == "" && !errors.Is(err, awstest.ErrNoDynamoDB):
			t.Errorf("unset: %v, want ErrNoDynamoDB", err)
		}
	}
}
