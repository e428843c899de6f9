package awsprovider_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// At the wire, the errors the real SDK returns after its own retries are
// classified by providers.IsTransient: Route 53's PriorRequestNotComplete,
// throttling and a 5xx are transient, a missing hosted zone and access
// denied are permanent, and a refused connection is transient.
func TestIsTransientAtTheWire(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault awstest.Fault
		want  bool
	}{
		{"prior request not complete", awstest.Fault{Status: http.StatusBadRequest, Code: "PriorRequestNotComplete", Message: "The request was rejected because Route 53 was still processing a prior request."}, true},
		{"throttling", awstest.Throttling, true},
		{"internal failure", awstest.InternalError, true},
		{"access denied", awstest.Fault{Status: http.StatusForbidden, Code: "AccessDenied", Message: "User is not authorized"}, false},
		{"invalid input", awstest.Fault{Status: http.StatusBadRequest, Code: "InvalidInput", Message: "bad weight"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The router's own wait for a prior change is cut short.
			opts := awsprovider.Route53Options{SyncTimeout: time.Millisecond, PollInterval: time.Millisecond}
			f, r := newR53(t, func(f *awstest.Route53) awstest.Endpoint { return awstest.Serve(t, f) }, testRecords, opts)
			f.FailNext("ChangeResourceRecordSets", 10*awstest.MaxAttempts, tc.fault)
			err := r.SetWeights(t.Context(), providers.Weights{"blue": 90, "green": 10})
			if err == nil {
				t.Fatal("SetWeights succeeded, want the injected error")
			}
			if got := providers.IsTransient(err); got != tc.want {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
	t.Run("missing hosted zone", func(t *testing.T) {
		t.Parallel()
		rec := testRecords
		rec.HostedZoneID = "/hostedzone/ZNOSUCHZONE"
		_, r := newR53(t, func(f *awstest.Route53) awstest.Endpoint { return awstest.Serve(t, f) }, rec, awsprovider.Route53Options{})
		err := r.SetWeights(t.Context(), providers.Weights{"blue": 90, "green": 10})
		if err == nil || providers.IsTransient(err) {
			t.Errorf("SetWeights on a missing zone: %v, want a permanent error", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		f := awstest.NewRoute53()
		closed := awstest.Endpoint{URL: "http://127.0.0.1:1"}
		r, err := awsprovider.NewRoute53Router(f.Client(closed), testRecords, awsprovider.Route53Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Weights(t.Context())
		if err == nil || !providers.IsTransient(err) {
			t.Errorf("Weights from a closed port: %v, want a transient error", err)
		}
	})
}
