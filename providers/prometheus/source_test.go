package prometheus_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	client "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/safecutover/safecutover/internal/promtest"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/prometheus"
)

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	good := map[string]string{providers.MetricRequests: `sum(x{v="{{.Target}}"})`}
	creds := credentials.NewStaticCredentialsProvider("AKID", "secret", "")
	tests := []struct {
		name    string
		address string
		opts    prometheus.Options
		want    string
	}{
		{"no address", "", prometheus.Options{Queries: good}, `address ""`},
		{"not a URL", "prometheus:9090", prometheus.Options{Queries: good}, "address"},
		{"no queries", "http://127.0.0.1:9", prometheus.Options{}, "Queries: empty"},
		{"template does not parse", "http://127.0.0.1:9", prometheus.Options{Queries: map[string]string{"errors": `sum(x{v="{{.Target}"})`}}, `Queries["errors"]`},
		{"unknown field", "http://127.0.0.1:9", prometheus.Options{Queries: map[string]string{"slow": `sum(x{v="{{.Version}}"})`}}, `Queries["slow"]`},
		{"empty template", "http://127.0.0.1:9", prometheus.Options{Queries: map[string]string{"errors": " "}}, `Queries["errors"]: empty`},
		{"negative scrape interval", "http://127.0.0.1:9", prometheus.Options{Queries: good, ScrapeInterval: -time.Second}, "ScrapeInterval -1s"},
		{"negative timeout", "http://127.0.0.1:9", prometheus.Options{Queries: good, Timeout: -time.Second}, "Timeout -1s"},
		{"empty target value", "http://127.0.0.1:9", prometheus.Options{Queries: good, Targets: map[string]string{"green": ""}}, `Targets["green"]`},
		{"AMP bad region", "", prometheus.Options{Queries: good, AMP: &prometheus.AMPOptions{Region: "mars", Workspace: "ws-1", Credentials: creds}}, "AMP.Region"},
		{"AMP no workspace", "", prometheus.Options{Queries: good, AMP: &prometheus.AMPOptions{Region: "eu-west-1", Credentials: creds}}, "AMP.Workspace"},
		{"AMP no credentials", "", prometheus.Options{Queries: good, AMP: &prometheus.AMPOptions{Region: "eu-west-1", Workspace: "ws-1"}}, "AMP.Credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := prometheus.New(tc.address, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := prometheus.New("", prometheus.Options{Queries: good, AMP: &prometheus.AMPOptions{Region: "eu-west-1", Workspace: "ws-abc-123", Credentials: creds}}); err != nil {
		t.Fatalf("New with an AMP workspace: %v", err)
	}
}

func TestQueryFillsTheTemplate(t *testing.T) {
	t.Parallel()
	src, err := prometheus.New("http://127.0.0.1:9", prometheus.Options{
		Queries: map[string]string{providers.MetricErrors: `sum(increase(req{version="{{.Target}}",code=~"5.."}[{{.Window}}])) # {{.Name}} {{.WindowSeconds}}`},
		Targets: map[string]string{"green": "v2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	got, err := src.Query(providers.MetricQuery{Target: "green", Metric: providers.MetricErrors, Start: end.Add(-90 * time.Second), End: end})
	if err != nil {
		t.Fatal(err)
	}
	if want := `sum(increase(req{version="v2",code=~"5.."}[90000ms])) # green 90`; got != want {
		t.Fatalf("Query = %s, want %s", got, want)
	}
	_, err = src.Query(providers.MetricQuery{Target: "green", Metric: providers.MetricSlow, Start: end.Add(-time.Minute), End: end})
	if !errors.Is(err, prometheus.ErrUnsupportedMetric) {
		t.Fatalf("Query of a metric without a template: %v, want ErrUnsupportedMetric", err)
	}
	if _, err := src.Query(providers.MetricQuery{Target: "green", Metric: providers.MetricErrors, Start: end, End: end}); err == nil {
		t.Fatal("Query over an empty window: no error")
	}
}

// target serves counters of requests per version and code, as an
// instrumented service would.
type target struct {
	url string
	req *client.CounterVec
}

func newTarget(t *testing.T) *target {
	reg := client.NewRegistry()
	req := client.NewCounterVec(client.CounterOpts{Name: "http_requests_total", Help: "Requests served."}, []string{"version", "code"})
	reg.MustRegister(req)
	for _, v := range []string{"blue", "green"} {
		for _, c := range []string{"200", "500"} {
			req.WithLabelValues(v, c).Add(0)
		}
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return &target{url: srv.URL, req: req}
}

func TestRealServer(t *testing.T) {
	tg := newTarget(t)
	prom := promtest.Start(t, promtest.Options{ScrapeInterval: 200 * time.Millisecond}, tg.url)
	prom.WaitUp(t, 1)
	tg.req.WithLabelValues("blue", "200").Add(990)
	tg.req.WithLabelValues("blue", "500").Add(10)
	tg.req.WithLabelValues("green", "200").Add(95)
	tg.req.WithLabelValues("green", "500").Add(5)
	src, err := prometheus.New(prom.URL, prometheus.Options{
		Queries: map[string]string{
			providers.MetricRequests: `sum(http_requests_total{version="{{.Target}}"})`,
			providers.MetricErrors:   `sum(http_requests_total{version="{{.Target}}",code=~"5.."})`,
			"per_code":               `http_requests_total{version="{{.Target}}"}`,
			"increase":               `sum(increase(http_requests_total{version="{{.Target}}"}[{{.Window}}]))`,
		},
		ScrapeInterval: prom.ScrapeInterval,
		Timeout:        10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if src.Resolution() != prom.ScrapeInterval {
		t.Errorf("Resolution = %v, want %v", src.Resolution(), prom.ScrapeInterval)
	}
	ctx := t.Context()
	read := func(target, metric string, window time.Duration) (providers.MetricValue, error) {
		now := time.Now()
		return src.Metric(ctx, providers.MetricQuery{Target: target, Metric: metric, Start: now.Add(-window), End: now})
	}
	// Wait (bounded) until a scrape has seen the counts.
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := read("green", providers.MetricRequests, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if v.Value == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("green requests = %v after 30s, want 100", v)
		}
		time.Sleep(prom.ScrapeInterval / 2)
	}
	for _, tc := range []struct {
		target, metric string
		want           providers.MetricValue
	}{
		{"blue", providers.MetricRequests, providers.MetricValue{Value: 1000, Points: 1}},
		{"blue", providers.MetricErrors, providers.MetricValue{Value: 10, Points: 1}},
		{"green", providers.MetricErrors, providers.MetricValue{Value: 5, Points: 1}},
		{"purple", providers.MetricRequests, providers.MetricValue{}}, // no series: no data, not zero
	} {
		got, err := read(tc.target, tc.metric, time.Minute)
		if err != nil {
			t.Fatalf("%s of %s: %v", tc.metric, tc.target, err)
		}
		if got != tc.want {
			t.Errorf("%s of %s = %+v, want %+v", tc.metric, tc.target, got, tc.want)
		}
	}
	// The feed: green's data are complete up to a recent scrape; a target
	// without series never settles.
	if f := src.FeedInfo(); f.Resolution != prom.ScrapeInterval || !f.Supports(providers.MetricErrors) || f.Supports(providers.MetricSlow) {
		t.Errorf("FeedInfo = %+v, want resolution %v, errors supported, slow not", f, prom.ScrapeInterval)
	}
	var settled time.Time
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(prom.ScrapeInterval) {
		settled, err = src.Settled(ctx, "green")
		if err != nil || !settled.IsZero() || time.Now().After(end) {
			break
		}
	}
	if now := time.Now(); err != nil || settled.After(now) || now.Sub(settled) > time.Minute || settled.Truncate(prom.ScrapeInterval) != settled {
		t.Errorf("Settled(green) = %v, %v at %v: want a recent multiple of %v", settled, err, now, prom.ScrapeInterval)
	}
	if p, err := src.Settled(ctx, "purple"); err != nil || !p.IsZero() {
		t.Errorf("Settled(purple) = %v, %v: want the zero time, no error", p, err)
	}
	if _, err := read("blue", "per_code", time.Minute); err == nil || !strings.Contains(err.Error(), "2 series") {
		t.Errorf("a query of two series: error %v, want one saying it has 2 series", err)
	}
	// increase() over a window that saw the counts grow counts them,
	// give or take Prometheus's extrapolation to the window's edges.
	inc, err := read("blue", "increase", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Points != 1 || inc.Value < 500 || inc.Value > 2000 {
		t.Errorf("increase of blue over a minute = %+v, want about 1000", inc)
	}
	// A window shorter than two scrapes holds no increase: no data or 0,
	// never an error.
	if _, err := read("blue", "increase", time.Millisecond); err != nil {
		t.Errorf("increase over 1ms: %v", err)
	}
}

func TestUnreachableServerIsAnError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	src, err := prometheus.New(url, prometheus.Options{Queries: map[string]string{providers.MetricRequests: `sum(x)`}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	now := time.Now()
	if _, err := src.Metric(ctx, providers.MetricQuery{Target: "blue", Metric: providers.MetricRequests, Start: now.Add(-time.Minute), End: now}); err == nil {
		t.Fatal("Metric from a server that is down: no error")
	}
}
