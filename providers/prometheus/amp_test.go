package prometheus_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/prometheus"
)

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

// ampServer answers the query API as Amazon Managed Service for
// Prometheus does: only requests whose SigV4 signature, recomputed here with
// the AWS SDK's signer and the secret it knows, matches; 403 otherwise.
func ampServer(t *testing.T, secret, region string, signed *atomic.Int32, denied *atomic.Value) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		deny := func(why string) {
			denied.Store(why)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"message":%q}`, why)
		}
		m := authRE.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil {
			deny("missing or malformed Authorization")
			return
		}
		if m[3] != region || m[4] != "aps" {
			deny("wrong scope " + m[3] + "/" + m[4])
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/workspaces/ws-test/api/v1/") {
			deny("path " + r.URL.Path)
			return
		}
		when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil {
			deny("X-Amz-Date")
			return
		}
		sum := sha256.Sum256(body)
		if got := r.Header.Get("X-Amz-Content-Sha256"); got != "" && got != hex.EncodeToString(sum[:]) {
			deny("payload hash")
			return
		}
		check, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
		for _, h := range strings.Split(m[5], ";") {
			if h != "host" {
				check.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
			}
		}
		check.Header.Del("Authorization")
		creds := aws.Credentials{AccessKeyID: m[1], SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(r.Context(), creds, check, hex.EncodeToString(sum[:]), "aps", region, when); err != nil {
			deny(err.Error())
			return
		}
		if want := authRE.FindStringSubmatch(check.Header.Get("Authorization")); want == nil || want[6] != m[6] {
			deny("signature does not match")
			return
		}
		signed.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767268800,"42"]}]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAMPRequestsAreSignedWithSigV4(t *testing.T) {
	t.Parallel()
	var signed atomic.Int32
	var denied atomic.Value
	srv := ampServer(t, "the-secret", "eu-west-1", &signed, &denied)
	newSource := func(secret string) *prometheus.Source {
		src, err := prometheus.New(srv.URL+"/workspaces/ws-test", prometheus.Options{
			Queries: map[string]string{providers.MetricRequests: `sum(increase(http_requests_total{version="{{.Target}}"}[{{.Window}}]))`},
			AMP: &prometheus.AMPOptions{
				Region:      "eu-west-1",
				Credentials: credentials.NewStaticCredentialsProvider("AKIDAMPTEST", secret, ""),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	now := time.Now()
	q := providers.MetricQuery{Target: "green", Metric: providers.MetricRequests, Start: now.Add(-time.Minute), End: now}
	v, err := newSource("the-secret").Metric(t.Context(), q)
	if err != nil {
		t.Fatalf("signed query: %v", err)
	}
	if v != (providers.MetricValue{Value: 42, Points: 1}) || signed.Load() != 1 {
		t.Fatalf("signed query = %+v after %d accepted signatures, want 42 from 1", v, signed.Load())
	}
	_, err = newSource("a-wrong-secret").Metric(t.Context(), q)
	if err == nil || !strings.Contains(err.Error(), "403") || denied.Load() != "signature does not match" || signed.Load() != 1 {
		t.Fatalf("query signed with a wrong secret: error %v (server: %v), want a 403 for the signature", err, denied.Load())
	}
}
