package prometheus

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// ErrUnsupportedMetric is wrapped by the error for a metric that has no
// query template. It is providers.ErrUnsupportedMetric, so gates know not
// to retry it.
var ErrUnsupportedMetric = providers.ErrUnsupportedMetric

// DefaultScrapeInterval is the resolution assumed when
// Options.ScrapeInterval is zero: Prometheus's own default.
const DefaultScrapeInterval = time.Minute

// QueryData is what a query template is executed with.
type QueryData struct {
	// Target is the target's label value: Options.Targets[name], or the
	// target's name when Targets does not list it.
	Target string
	// Name is the target's name as the library knows it ("blue", "green").
	Name string
	// Window is the query's window as a PromQL duration ("90000ms"), for a
	// range selector: rate(x[{{.Window}}]).
	Window string
	// WindowSeconds is the window in seconds, for arithmetic.
	WindowSeconds float64
}

// Options configure a Source. Queries is required; the rest may be zero.
type Options struct {
	// Queries maps the library's metric names to PromQL templates
	// (text/template syntax, fields of QueryData). Each query is evaluated
	// as an instant query at the end of the window and must yield one
	// sample: a scalar, or a vector of at most one element. Counts are sums
	// over the window (sum(increase(…[{{.Window}}]))), latencies in
	// seconds. At least one entry.
	Queries map[string]string
	// Targets maps target names to the value {{.Target}} stands for (a
	// version label, a service name); a target not listed stands for
	// itself.
	Targets map[string]string
	// ScrapeInterval is the resolution of the data: how often the server
	// scrapes the targets. Zero means DefaultScrapeInterval; ≥ 0.
	ScrapeInterval time.Duration
	// Timeout bounds each query on the server (the API's timeout
	// parameter). Zero means the server's default; ≥ 0.
	Timeout time.Duration
	// AMP, if set, signs every request for Amazon Managed Service for
	// Prometheus; the address may then be empty.
	AMP *AMPOptions
	// RoundTripper carries the requests; nil means
	// api.DefaultRoundTripper.
	RoundTripper http.RoundTripper
	// Logger receives debug logs and the server's warnings; nil means
	// none.
	Logger *zap.Logger
	// Clock is the clock Settled reads; nil means cutover.RealClock.
	Clock cutover.Clock
}

// Source is a providers.MetricSource over the Prometheus HTTP query API.
// Safe for concurrent use.
type Source struct {
	api      v1.API
	queries  map[string]*template.Template
	targets  map[string]string
	interval time.Duration
	timeout  time.Duration
	log      *zap.Logger
	clock    cutover.Clock

	mu      sync.Mutex
	settled map[string]time.Time // Settled's answers, by target
}

var _ providers.MetricFeed = (*Source)(nil)

// New returns a source that queries the server at address (its base URL,
// http://prometheus:9090; for Amazon Managed Service for Prometheus it may
// be empty, see AMPOptions). Every template is parsed and tried here, so
// a bad one is an error now, not at the first query.
func New(address string, opts Options) (*Source, error) {
	const what = "prometheus source"
	if opts.AMP != nil {
		a, err := opts.AMP.address(address)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		address = a
	}
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: address %q: want an http:// or https:// URL of the server", what, address)
	}
	if opts.ScrapeInterval < 0 {
		return nil, fmt.Errorf("%s: ScrapeInterval %v: want ≥ 0 (0 means %v)", what, opts.ScrapeInterval, DefaultScrapeInterval)
	}
	if opts.ScrapeInterval == 0 {
		opts.ScrapeInterval = DefaultScrapeInterval
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("%s: Timeout %v: want ≥ 0 (0 means the server's default)", what, opts.Timeout)
	}
	if len(opts.Queries) == 0 {
		return nil, fmt.Errorf("%s: Queries: empty: want a PromQL template for at least %s", what, providers.MetricRequests)
	}
	s := &Source{
		queries:  make(map[string]*template.Template, len(opts.Queries)),
		targets:  make(map[string]string, len(opts.Targets)),
		interval: opts.ScrapeInterval,
		timeout:  opts.Timeout,
		log:      opts.Logger,
		clock:    opts.Clock,
		settled:  make(map[string]time.Time),
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.clock == nil {
		s.clock = cutover.RealClock{}
	}
	for name, v := range opts.Targets {
		if name == "" || v == "" {
			return nil, fmt.Errorf("%s: Targets[%q] = %q: want a non-empty name and value", what, name, v)
		}
		s.targets[name] = v
	}
	for _, m := range slices.Sorted(maps.Keys(opts.Queries)) {
		t, err := parseQuery(m, opts.Queries[m])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		s.queries[m] = t
	}
	rt := opts.RoundTripper
	if rt == nil {
		rt = api.DefaultRoundTripper
	}
	if opts.AMP != nil {
		if rt, err = opts.AMP.roundTripper(rt); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	c, err := api.NewClient(api.Config{Address: address, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	s.api = v1.NewAPI(c)
	return s, nil
}

// parseQuery parses the template of metric m and executes it once with
// sample data, so that an unknown field is found now.
func parseQuery(m, text string) (*template.Template, error) {
	if m == "" {
		return nil, fmt.Errorf("Queries: empty metric name")
	}
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("Queries[%q]: empty template: want PromQL", m)
	}
	t, err := template.New(m).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("Queries[%q]: %w", m, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, QueryData{Target: "t", Name: "t", Window: "60000ms", WindowSeconds: 60}); err != nil {
		return nil, fmt.Errorf("Queries[%q]: %w (fields: .Target, .Name, .Window, .WindowSeconds)", m, err)
	}
	if strings.TrimSpace(b.String()) == "" {
		return nil, fmt.Errorf("Queries[%q]: template yields an empty query", m)
	}
	return t, nil
}

// Resolution returns the interval at which the server scrapes the targets:
// no count is finer than this, and the newest scrape may be this old.
func (s *Source) Resolution() time.Duration { return s.interval }

// FeedInfo returns the scrape interval as both resolution and lag (the
// newest scrape may be one interval old) and the metrics that have a
// query template (providers.MetricFeed).
func (s *Source) FeedInfo() providers.FeedInfo {
	ms := slices.Sorted(maps.Keys(s.queries))
	return providers.FeedInfo{Resolution: s.interval, Lag: s.interval, Metrics: slices.Clip(ms)}
}

// Settled returns the end of target's complete data (providers.MetricFeed):
// one scrape interval before now, rounded down to the interval, as long
// as the requests query still finds data for the target over the three
// intervals before that; once it finds none (the target's scrapes
// stopped, or never began), Settled stops advancing and keeps its last
// answer (the zero time for a target never seen). One query. A requests
// template without a range selector sees a stopped series for
// Prometheus's lookback delta (5 minutes by default) before it notices.
func (s *Source) Settled(ctx context.Context, target string) (time.Time, error) {
	limit := s.clock.Now().Add(-s.interval).Truncate(s.interval)
	v, err := s.Metric(ctx, providers.MetricQuery{Target: target, Metric: providers.MetricRequests, Start: limit.Add(-3 * s.interval), End: limit})
	if err != nil {
		return time.Time{}, fmt.Errorf("prometheus settled %q: %w", target, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.settled[target]
	if v.Points > 0 && limit.After(prev) {
		s.settled[target] = limit
		return limit, nil
	}
	return prev, nil
}

// Query returns the PromQL that answers q.
func (s *Source) Query(q providers.MetricQuery) (string, error) {
	t, ok := s.queries[q.Metric]
	if !ok {
		return "", fmt.Errorf("prometheus metric %s of %q: %w: no query template (have: %s)", q.Metric, q.Target, ErrUnsupportedMetric, strings.Join(slices.Sorted(maps.Keys(s.queries)), ", "))
	}
	if q.Target == "" {
		return "", fmt.Errorf("prometheus metric %s: empty target", q.Metric)
	}
	if !q.End.After(q.Start) {
		return "", fmt.Errorf("prometheus metric %s of %q: window [%s, %s) is empty", q.Metric, q.Target, q.Start, q.End)
	}
	w := q.End.Sub(q.Start)
	d := QueryData{Target: q.Target, Name: q.Target, Window: fmt.Sprintf("%dms", max(w.Milliseconds(), 1)), WindowSeconds: w.Seconds()}
	if v, ok := s.targets[q.Target]; ok {
		d.Target = v
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("prometheus metric %s of %q: %w", q.Metric, q.Target, err)
	}
	return b.String(), nil
}

// Metric evaluates the metric's query at q.End over q's window. An empty
// result, or a NaN (a ratio of two zero rates), is no data: Points 0.
// Otherwise Points is 1: one evaluation of the query, whatever the number
// of scrapes behind it. A result of more than one series is an error: the
// template must aggregate (sum, max, histogram_quantile).
func (s *Source) Metric(ctx context.Context, q providers.MetricQuery) (providers.MetricValue, error) {
	promql, err := s.Query(q)
	if err != nil {
		return providers.MetricValue{}, err
	}
	what := fmt.Sprintf("prometheus metric %s of %q", q.Metric, q.Target)
	var opts []v1.Option
	if s.timeout > 0 {
		opts = append(opts, v1.WithTimeout(s.timeout))
	}
	val, warnings, _, err := s.api.Query(ctx, promql, q.End, opts...)
	if err != nil {
		return providers.MetricValue{}, fmt.Errorf("%s: query %s: %w", what, promql, err)
	}
	if len(warnings) > 0 {
		s.log.Warn("prometheus query warnings", zap.String("query", promql), zap.Strings("warnings", warnings))
	}
	var x float64
	switch v := val.(type) {
	case *model.Scalar:
		x = float64(v.Value)
	case model.Vector:
		switch len(v) {
		case 0:
			s.log.Debug("metric read", zap.String("query", promql), zap.Int("points", 0))
			return providers.MetricValue{}, nil
		case 1:
			x = float64(v[0].Value)
		default:
			return providers.MetricValue{}, fmt.Errorf("%s: query %s: %d series, want at most one: aggregate in the template (sum, max)", what, promql, len(v))
		}
	default:
		return providers.MetricValue{}, fmt.Errorf("%s: query %s: result of type %s, want a scalar or an instant vector", what, promql, val.Type())
	}
	if math.IsNaN(x) {
		return providers.MetricValue{}, nil
	}
	if math.IsInf(x, 0) {
		return providers.MetricValue{}, fmt.Errorf("%s: query %s: value %v: want a finite number", what, promql, x)
	}
	s.log.Debug("metric read", zap.String("query", promql), zap.Float64("value", x))
	return providers.MetricValue{Value: x, Points: 1}, nil
}
