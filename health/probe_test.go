package health_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
)

// stepClock advances by step at every Now, so a probe measures exactly
// step of latency.
type stepClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func TestProbe(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Probe") != "yes" {
			http.Error(w, "missing header", http.StatusBadRequest)
			return
		}
		w.WriteHeader(int(status.Load()))
		fmt.Fprintf(w, `{"status":"ok","version":"2.1.0"}`)
	}))
	defer srv.Close()
	hdr := http.Header{"X-Probe": {"yes"}}

	for _, tc := range []struct {
		name    string
		opts    health.ProbeOptions
		status  int
		latency time.Duration
		want    []cutover.Decision
		reason  string
	}{
		{"ok", health.ProbeOptions{}, 200, 0, []cutover.Decision{cutover.Pass}, "ok in"},
		{"status 503", health.ProbeOptions{}, 503, 0, []cutover.Decision{cutover.Fail}, "status 503, want 2xx"},
		{"accepted statuses", health.ProbeOptions{Statuses: []int{503}}, 503, 0, []cutover.Decision{cutover.Pass}, "ok"},
		{"body matches", health.ProbeOptions{Body: `"version":"2\.`}, 200, 0, []cutover.Decision{cutover.Pass}, "ok"},
		{"body does not match", health.ProbeOptions{Body: `"version":"3\.`}, 200, 0, []cutover.Decision{cutover.Fail}, "body does not match"},
		{"latency within bound", health.ProbeOptions{MaxLatency: 200 * time.Millisecond}, 200, 100 * time.Millisecond, []cutover.Decision{cutover.Pass}, "ok in 100ms"},
		{"latency beyond bound", health.ProbeOptions{MaxLatency: 200 * time.Millisecond}, 200, 300 * time.Millisecond, []cutover.Decision{cutover.Fail}, "took 300ms, want ≤ 200ms"},
		{"three in a row", health.ProbeOptions{Successes: 3}, 200, 0,
			[]cutover.Decision{cutover.Pending, cutover.Pending, cutover.Pass, cutover.Pass}, "consecutive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Header = hdr
			opts.Clock = &stepClock{step: tc.latency}
			status.Store(int32(tc.status))
			g, err := health.NewProbe(srv.URL+"/healthz", opts)
			if err != nil {
				t.Fatal(err)
			}
			var v cutover.Verdict
			for i, d := range tc.want {
				v = evaluate(t, g)
				if v.Decision != d {
					t.Fatalf("probe %d: %v, want %v", i+1, v, d)
				}
			}
			want(t, tc.name, v, v.Decision, tc.reason)
		})
	}
}

func TestProbeFailureRestartsTheCount(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	g, err := health.NewProbe(srv.URL, health.ProbeOptions{Successes: 2})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "first", evaluate(t, g), cutover.Pending, "1/2")
	fail.Store(true)
	want(t, "500", evaluate(t, g), cutover.Fail, "status 500")
	fail.Store(false)
	want(t, "count restarted", evaluate(t, g), cutover.Pending, "1/2")
	want(t, "second in a row", evaluate(t, g), cutover.Pass, "2/2")
	g.(cutover.Resetter).Reset()
	want(t, "after reset", evaluate(t, g), cutover.Pending, "1/2")
}

func TestProbeUnreachableAndSlow(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	slow, err := health.NewProbe(srv.URL, health.ProbeOptions{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "hanging server", evaluate(t, slow), cutover.Fail, "request failed")

	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	down, err := health.NewProbe(url, health.ProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "closed port", evaluate(t, down), cutover.Fail, "request failed")
}

func TestProbeBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		url  string
		opts health.ProbeOptions
		want string
	}{
		{"unparsable url", "http://[::1", health.ProbeOptions{}, "does not parse"},
		{"relative url", "/healthz", health.ProbeOptions{}, "absolute http or https"},
		{"other scheme", "ftp://example.test/", health.ProbeOptions{}, "absolute http or https"},
		{"bad regexp", "http://127.0.0.1/", health.ProbeOptions{Body: "("}, "Body"},
		{"bad status", "http://127.0.0.1/", health.ProbeOptions{Statuses: []int{200, 42}}, "Statuses[1]"},
		{"negative successes", "http://127.0.0.1/", health.ProbeOptions{Successes: -1}, "Successes"},
		{"negative timeout", "http://127.0.0.1/", health.ProbeOptions{Timeout: -time.Second}, "Timeout"},
		{"negative latency", "http://127.0.0.1/", health.ProbeOptions{MaxLatency: -time.Second}, "MaxLatency"},
		{"bad method", "http://127.0.0.1/", health.ProbeOptions{Method: "GET /"}, "Method"},
	} {
		_, err := health.NewProbe(tc.url, tc.opts)
		refused(t, tc.name, err, tc.want)
	}
}

// TestProbeMethod: a method net/http refuses is refused by the
// constructor, not at every evaluation.
func TestProbeMethod(t *testing.T) {
	for _, m := range []string{"GET(", "GE\x00T", "GET\tX", "PO,ST"} {
		if _, err := health.NewProbe("http://127.0.0.1/health", health.ProbeOptions{Method: m}); err == nil || !strings.Contains(err.Error(), "Method") {
			t.Errorf("Method %q: err = %v, want one naming Method", m, err)
		}
	}
	if _, err := health.NewProbe("http://127.0.0.1/health", health.ProbeOptions{Method: "PROPFIND"}); err != nil {
		t.Errorf("Method PROPFIND: %v", err)
	}
}
