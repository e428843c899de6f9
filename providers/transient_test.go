package providers_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// apiErr is an AWS API error as the SDK returns it: an OperationError
// around a ResponseError around the service's error code.
func apiErr(code string, status int) error {
	return &smithy.OperationError{ServiceID: "Route 53", OperationName: "ChangeResourceRecordSets",
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "m"},
		}}}
}

type classified struct{ transient bool }

func (c classified) Error() string   { return "classified" }
func (c classified) Transient() bool { return c.transient }

func TestIsTransient(t *testing.T) {
	t.Parallel()
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"throttling", apiErr("ThrottlingException", 400), true},
		{"route 53 prior request not complete", apiErr("PriorRequestNotComplete", 400), true},
		{"route 53 throttling", apiErr("Throttling", 400), true},
		{"too many requests", apiErr("TooManyRequestsException", 429), true},
		{"5xx", apiErr("InternalFailure", 500), true},
		{"503", apiErr("ServiceUnavailable", 503), true},
		{"request timeout code", apiErr("RequestTimeout", 400), true},
		{"validation", apiErr("ValidationError", 400), false},
		{"access denied", apiErr("AccessDenied", 403), false},
		{"not found", apiErr("NoSuchHostedZone", 404), false},
		{"connection reset", fmt.Errorf("set weights: %w", reset), true},
		{"deadline", context.DeadlineExceeded, true},
		{"cancelled", context.Canceled, false},
		{"cancelled, wrapped by the SDK", &smithy.OperationError{Err: context.Canceled}, false},
		{"unclassified", errors.New("boom"), false},
		{"says transient", fmt.Errorf("wrapped: %w", classified{true}), true},
		{"says permanent", classified{false}, false},
		{"fake throttled", &fake.Error{Op: fake.OpSetWeights, Resource: "r", Err: fake.ErrThrottled}, true},
		{"fake 5xx", &fake.Error{Op: fake.OpSetWeights, Resource: "r", Err: fake.ErrServer}, true},
		{"fake timeout", &fake.Error{Op: fake.OpSetWeights, Resource: "r", Err: fake.ErrTimeout}, true},
		{"fake not found", &fake.Error{Op: fake.OpSetWeights, Resource: "r", Err: fake.ErrNotFound}, false},
		{"fake invalid", &fake.Error{Op: fake.OpSetWeights, Resource: "r", Err: fake.ErrInvalid}, false},
		{"a stage error around a fake throttle", &cutover.StageError{Stage: "s", Action: "apply", Err: &fake.Error{Op: fake.OpSetWeights, Err: fake.ErrThrottled}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := providers.IsTransient(tc.err); got != tc.want {
				t.Errorf("IsTransient(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
