package providers

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/safecutover/safecutover/cutover"
)

// retryables and throttles are the AWS SDK's own classification, as its
// standard retryer applies it to every call: retryable error codes
// (RequestTimeout), throttling codes (Throttling, ThrottlingException,
// TooManyRequestsException, PriorRequestNotComplete, ...), HTTP 5xx and
// 429, connection errors (resets, refused, timeouts), and never a
// cancelled context.
var (
	retryables = retry.IsErrorRetryables(retry.DefaultRetryables)
	throttles  = retry.IsErrorThrottles(retry.DefaultThrottles)
)

// IsTransient reports whether err is one that making the same call again
// may cure: throttling (an AWS throttling code, Route 53's
// PriorRequestNotComplete, ECS and CodeDeploy throttles, HTTP 429), a
// server error (HTTP 5xx), a timeout, a reset or refused connection, and
// any error cutover.IsTransient accepts (an error with a Transient() bool,
// RetryableError() bool, Temporary() bool or Timeout() bool method, which
// is how the fake cloud's throttling, 5xx and timeouts say so). Anything
// else is permanent: validation errors, access denied, not found, a
// cancelled context, an error nobody classified.
//
// It classifies by the errors' types and interfaces (smithy-go's APIError
// codes and HTTP status, net errors), the way the AWS SDK's standard
// retryer does, never by matching message text. Give it to the runner as
// cutover.RunnerOptions.Transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	switch retryables.IsErrorRetryable(err) {
	case aws.TrueTernary:
		return true
	case aws.FalseTernary:
		return false
	}
	if throttles.IsErrorThrottle(err) == aws.TrueTernary {
		return true
	}
	return cutover.IsTransient(err)
}
