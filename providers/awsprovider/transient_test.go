package awsprovider_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

// At the wire, the errors the real SDK returns after its own retries are
// classified by providers.IsTransient: Route 53's PriorRequestNotComplete,
// throttling and a 5xx are transient, a missing hosted zone and access
// denied are permanent, and a refused connection is transient.
func TestIsTransientAtTheWire(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault wireFault
		want  bool
	}{
		{"prior request not complete", wireFault{http.StatusBadRequest, "PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request."}, true},
		{"throttling", faultThrottle, true},
		{"internal failure", faultInternal, true},
		{"access denied", wireFault{http.StatusForbidden, "AccessDenied", "User is not authorized"}, false},
		{"invalid input", wireFault{http.StatusBadRequest, "InvalidInput", "bad weight"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The router's own wait for a prior change is cut short.
			opts := awsprovider.Route53Options{SyncTimeout: time.Millisecond, PollInterval: time.Millisecond}
			f, r := newR53(t, func(f *fakeRoute53) wireHTTP { return wireServe(t, f) }, testRecords, opts)
			f.fail("ChangeResourceRecordSets", 10*wireMaxAttempts, tc.fault)
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
		_, r := newR53(t, func(f *fakeRoute53) wireHTTP { return wireServe(t, f) }, rec, awsprovider.Route53Options{})
		err := r.SetWeights(t.Context(), providers.Weights{"blue": 90, "green": 10})
		if err == nil || providers.IsTransient(err) {
			t.Errorf("SetWeights on a missing zone: %v, want a permanent error", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		f := newFakeRoute53()
		closed := wireHTTP{url: "http://127.0.0.1:1"}
		r, err := awsprovider.NewRoute53Router(f.client(closed), testRecords, awsprovider.Route53Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Weights(t.Context())
		if err == nil || !providers.IsTransient(err) {
			t.Errorf("Weights from a closed port: %v, want a transient error", err)
		}
	})
}
