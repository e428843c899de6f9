package promtest

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Traffic is a simulated service behind a weighted router: requests split
// between blue and green by green's share, each failing with its arm's
// error rate, counted in http_requests_total{version, code} as an
// instrumented service counts them, and served at URL/metrics for a
// Prometheus server to scrape.
type Traffic struct {
	// URL is the base URL of the metrics endpoint, on 127.0.0.1.
	URL string

	srv *httptest.Server
	req *prometheus.CounterVec

	mu         sync.Mutex
	rng        *rand.Rand
	share      int        // green's percentage
	errorRates [2]float64 // blue, green
}

// NewTraffic starts the metrics endpoint; Close stops it.
func NewTraffic(seed uint64, blueErrors, greenErrors float64) *Traffic {
	reg := prometheus.NewRegistry()
	req := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests served."}, []string{"version", "code"})
	reg.MustRegister(req)
	for _, v := range []string{"blue", "green"} {
		for _, c := range []string{"200", "500"} {
			req.WithLabelValues(v, c).Add(0)
		}
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return &Traffic{URL: srv.URL, srv: srv, req: req, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), errorRates: [2]float64{blueErrors, greenErrors}}
}

// SetShare sets green's share of the traffic, 0–100.
func (t *Traffic) SetShare(percent int) {
	t.mu.Lock()
	t.share = min(max(percent, 0), 100)
	t.mu.Unlock()
}

// SetErrorRates sets the probability that a request fails, per arm.
func (t *Traffic) SetErrorRates(blue, green float64) {
	t.mu.Lock()
	t.errorRates = [2]float64{blue, green}
	t.mu.Unlock()
}

// Serve serves perSecond requests a second, in ticks of 10ms, until ctx
// ends.
func (t *Traffic) Serve(ctx context.Context, perSecond float64) {
	const every = 10 * time.Millisecond
	n := int(math.Round(perSecond * every.Seconds()))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.serve(n)
		}
	}
}

func (t *Traffic) serve(n int) {
	t.mu.Lock()
	var counts [2][2]float64 // [blue, green][ok, error]
	for range n {
		arm := 0
		if t.rng.IntN(100) < t.share {
			arm = 1
		}
		bad := 0
		if t.rng.Float64() < t.errorRates[arm] {
			bad = 1
		}
		counts[arm][bad]++
	}
	t.mu.Unlock()
	for arm, v := range []string{"blue", "green"} {
		t.req.WithLabelValues(v, "200").Add(counts[arm][0])
		t.req.WithLabelValues(v, "500").Add(counts[arm][1])
	}
}

// Close stops the metrics endpoint.
func (t *Traffic) Close() { t.srv.Close() }

// Queries are the PromQL templates of providers/prometheus for Traffic's
// counters: requests and errors of a version over the query's window.
var Queries = map[string]string{
	"requests": `sum(increase(http_requests_total{version="{{.Target}}"}[{{.Window}}]))`,
	"errors":   `sum(increase(http_requests_total{version="{{.Target}}",code="500"}[{{.Window}}]))`,
}
