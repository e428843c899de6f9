package awsprovider_test

// Shared pieces of the wire tests: the real SDK clients talk to small
// stateful fake services in this package (fake*_test.go) that speak each
// service's wire protocol, on 127.0.0.1 through httptest, or in-process
// (a handler called as the client's HTTP transport) for tests that run in a
// testing/synctest bubble, where idle network connections would stop fake
// time from advancing.

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// wireMaxAttempts is how many times the test retryer tries a call.
const wireMaxAttempts = 4

// wireRetryer is the SDK's standard retryer with a tiny backoff and no
// retry quota, so tests of throttling are fast and deterministic.
func wireRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = wireMaxAttempts
		o.MaxBackoff = time.Millisecond
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		o.RateLimiter = ratelimit.None
	})
}

// wireCreds are static test credentials.
var wireCreds = credentials.NewStaticCredentialsProvider("AKIDWIRETEST", "wire-test-secret", "")

// wireHTTP is what a client needs to reach a fake: an endpoint, and the
// HTTP client (nil: the SDK's default, over the network).
type wireHTTP struct {
	url    string
	client interface {
		Do(*http.Request) (*http.Response, error)
	}
}

// wireServe serves h on 127.0.0.1 for the duration of the test.
func wireServe(t testing.TB, h http.Handler) wireHTTP {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return wireHTTP{url: srv.URL}
}

// wireInProcess calls h directly as the client's transport (for synctest).
func wireInProcess(h http.Handler) wireHTTP {
	return wireHTTP{url: "http://127.0.0.1:9", client: inProcessDoer{h}}
}

type inProcessDoer struct{ h http.Handler }

func (d inProcessDoer) Do(r *http.Request) (*http.Response, error) {
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

// wireFault is an error response a fake returns instead of serving a call.
type wireFault struct {
	status int
	code   string
	msg    string
}

var (
	faultThrottle = wireFault{http.StatusBadRequest, "Throttling", "Rate exceeded"}
	faultInternal = wireFault{http.StatusInternalServerError, "InternalFailure", "internal failure"}
)

// wireCalls counts calls per operation and hands out injected faults.
type wireCalls struct {
	mu     sync.Mutex
	calls  map[string]int
	faults map[string][]wireFault
	holds  map[string]int
}

// holdNext makes the next n calls of op hang until the caller gives up
// (its request context ends), without touching the fake's state.
func (c *wireCalls) holdNext(op string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holds == nil {
		c.holds = map[string]int{}
	}
	c.holds[op] += n
}

// held reports whether this call of op is to hang, and if so waits until
// r's context ends.
func (c *wireCalls) held(op string, r *http.Request) bool {
	c.mu.Lock()
	h := c.holds[op] > 0
	if h {
		c.holds[op]--
	}
	c.mu.Unlock()
	if h {
		<-r.Context().Done()
	}
	return h
}

// hit counts a call of op and returns the fault to answer it with, if one
// is queued.
func (c *wireCalls) hit(op string) (wireFault, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
	q := c.faults[op]
	if len(q) == 0 {
		return wireFault{}, false
	}
	c.faults[op] = q[1:]
	return q[0], true
}

// fail makes the next n calls of op answer with f.
func (c *wireCalls) fail(op string, n int, f wireFault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.faults == nil {
		c.faults = map[string][]wireFault{}
	}
	for range n {
		c.faults[op] = append(c.faults[op], f)
	}
}

// count returns the calls of op so far.
func (c *wireCalls) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// snapshot returns every operation's count.
func (c *wireCalls) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// since returns the calls made after before (a snapshot), without zeros.
func (c *wireCalls) since(before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range c.snapshot() {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// queryCall parses an awsQuery request of API version: its form and
// operation. It counts the call in c and answers a bad request, or an
// injected fault, itself: then ok is false.
func queryCall(w http.ResponseWriter, r *http.Request, version string, c *wireCalls) (form map[string][]string, op string, ok bool) {
	if err := r.ParseForm(); err != nil || formGet(r.PostForm, "Version") != version {
		writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidAction", "bad request"})
		return nil, "", false
	}
	op = formGet(r.PostForm, "Action")
	if fault, hit := c.hit(op); hit {
		writeQueryError(w, fault)
		return nil, "", false
	}
	return r.PostForm, op, true
}

// writeQueryError writes an awsQuery (and restXml) error document.
func writeQueryError(w http.ResponseWriter, f wireFault) {
	typ := "Sender"
	if f.status >= 500 {
		typ = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(f.status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>wire-test</RequestId></ErrorResponse>`,
		typ, xmlEscape(f.code), xmlEscape(f.msg))
}

// writeQueryResult writes an awsQuery success document for op whose
// Result element is result (marshalled with XMLName op+"Result").
func writeQueryResult(w http.ResponseWriter, op, ns string, result any) {
	inner, err := xml.Marshal(result)
	if err != nil {
		writeQueryError(w, wireFault{http.StatusInternalServerError, "InternalFailure", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>wire-test</RequestId></ResponseMetadata></%sResponse>`, op, ns, inner, op)
}

func xmlEscape(s string) string {
	var b []byte
	for _, r := range s {
		switch r {
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '&':
			b = append(b, "&amp;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, string(r)...)
		}
	}
	return string(b)
}

// formMembers returns the indexes N of prefix.member.N.* keys in form, in
// order.
func formMembers(form map[string][]string, prefix string) []int {
	seen := map[int]bool{}
	p := prefix + ".member."
	for k := range form {
		if len(k) <= len(p) || k[:len(p)] != p {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(k[len(p):], "%d", &n); err == nil {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// formList returns the values of prefix.member.1, .2, ... in order.
func formList(form map[string][]string, prefix string) []string {
	var out []string
	for _, n := range formMembers(form, prefix) {
		if v, ok := form[fmt.Sprintf("%s.member.%d", prefix, n)]; ok && len(v) > 0 {
			out = append(out, v[0])
		}
	}
	return out
}

func formGet(form map[string][]string, key string) string {
	if v := form[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
