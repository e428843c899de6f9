package awstest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region of every fake and of Endpoint.Config.
const Region = "us-east-1"

// Account is the account ID in the fakes' ARNs.
const Account = "123456789012"

// MaxAttempts is how many times the retryer of Endpoint.Config tries a
// call.
const MaxAttempts = 4

// Endpoint is where an SDK client reaches a fake: its URL and, for a fake
// served in-process, the HTTP client that serves it (nil: the SDK's
// default, over the network).
type Endpoint struct {
	URL        string
	HTTPClient aws.HTTPClient
}

// Serve serves h on 127.0.0.1 with net/http/httptest for the rest of the
// test.
func Serve(t testing.TB, h http.Handler) Endpoint {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return Endpoint{URL: srv.URL}
}

// InProcess returns an endpoint whose HTTP client calls h directly, with no
// network and no goroutine: use it inside a testing/synctest bubble, where
// an idle network connection would keep fake time from advancing.
func InProcess(h http.Handler) Endpoint {
	return Endpoint{URL: "http://127.0.0.1:9", HTTPClient: InProcessClient(h)}
}

// InProcessClient returns an HTTP client (the SDK's aws.HTTPClient) that
// serves every request with h in the caller's goroutine. A request whose
// context ends while h holds it fails with the context's error, as a
// network client's would.
func InProcessClient(h http.Handler) aws.HTTPClient { return inProcess{h} }

type inProcess struct{ h http.Handler }

func (d inProcess) Do(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err // the caller gave up while the handler held the call
	}
	return rec.Result(), nil
}

// Retryer returns the SDK's standard retryer with MaxAttempts attempts, a
// millisecond's backoff and no retry quota, so that tests of throttling
// are fast and deterministic.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = time.Millisecond
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		o.RateLimiter = ratelimit.None
	})
}

// Credentials returns static test credentials.
func Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("AKIDAWSTEST", "awstest-secret", "")
}

// Config returns an SDK configuration that reaches e: Region, Credentials,
// Retryer, and e's URL and HTTP client. Give it to any service's
// NewFromConfig.
func (e Endpoint) Config() aws.Config {
	cfg := aws.Config{
		Region:       Region,
		Credentials:  Credentials(),
		Retryer:      Retryer,
		BaseEndpoint: aws.String(e.URL),
	}
	if e.HTTPClient != nil {
		cfg.HTTPClient = e.HTTPClient
	}
	return cfg
}
