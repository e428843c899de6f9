package awscall

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultTimeout bounds one attempt of an AWS API call when an Options
// struct leaves CallTimeout at zero. The calls the library makes answer
// in well under a second; an attempt still open after this long is held
// somewhere (a stuck connection, an overloaded endpoint) and is abandoned
// so that the SDK's retryer tries again.
const DefaultTimeout = 20 * time.Second

// Doer is the HTTP client of every SDK service client.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Bound returns next with a deadline of timeout on every HTTP attempt;
// a nil next means http.DefaultClient.
func Bound(next Doer, timeout time.Duration) Doer {
	if next == nil {
		next = http.DefaultClient
	}
	return boundedDoer{next: next, timeout: timeout}
}

// Timeout validates an Options struct's CallTimeout, named by field, and
// applies the default: 0 means DefaultTimeout; a negative value is an
// error naming the field and the allowed range.
func Timeout(field string, d time.Duration) (time.Duration, error) {
	if d < 0 {
		return 0, fmt.Errorf("%s: %s is negative; want > 0 (0: %s)", field, d, DefaultTimeout)
	}
	if d == 0 {
		return DefaultTimeout, nil
	}
	return d, nil
}

// boundedDoer gives every HTTP attempt of an SDK call its own deadline.
type boundedDoer struct {
	next    Doer
	timeout time.Duration
}

func (d boundedDoer) Do(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(r.Context(), d.timeout)
	resp, err := d.next.Do(r.WithContext(ctx))
	if err != nil {
		cancel()
		if ctx.Err() != nil && r.Context().Err() == nil {
			return nil, &attemptTimeoutError{timeout: d.timeout, err: err}
		}
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

// attemptTimeoutError is an HTTP attempt cut off by the call timeout.
type attemptTimeoutError struct {
	timeout time.Duration
	err     error
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("attempt abandoned after call timeout %s: %s", e.timeout, e.err.Error())
}
func (e *attemptTimeoutError) Unwrap() error { return e.err }

// Timeout marks the error as a timeout for the SDK's retryer.
func (e *attemptTimeoutError) Timeout() bool { return true }

// cancelOnClose releases an attempt's deadline when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
