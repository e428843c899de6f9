package health

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// ProbeOptions configure an HTTP probe gate. The zero value is valid.
type ProbeOptions struct {
	// Name names the gate in reports; default "probe <url>".
	Name string
	// Method is the HTTP method; default GET.
	Method string
	// Header is sent with every request.
	Header http.Header
	// Statuses are the status codes that count as success; default any 2xx.
	Statuses []int
	// Body, if set, is a regular expression the response body must match
	// (only its first MaxBody bytes are read).
	Body string
	// MaxBody bounds how much of the body is read; ≥ 0, default 1 MiB.
	MaxBody int64
	// MaxLatency, if positive, is the longest a successful response may
	// take, measured until its body has been read.
	MaxLatency time.Duration
	// Successes is how many consecutive successful probes the gate needs to
	// pass; until then it is Pending. ≥ 0; the zero value means 1. A failed
	// probe fails the gate and restarts the count (wrap the gate in
	// FailureLimit to tolerate some).
	Successes int
	// Timeout bounds each request; ≥ 0, default 10s.
	Timeout time.Duration
	// Client sends the requests; default a client with no timeout of its
	// own (Timeout applies).
	Client *http.Client
	// Clock measures latency; default cutover.RealClock.
	Clock cutover.Clock
}

// The defaults of ProbeOptions.
const (
	DefaultProbeTimeout = 10 * time.Second
	DefaultMaxBody      = 1 << 20
)

type probe struct {
	url    string
	opts   ProbeOptions
	body   *regexp.Regexp
	streak int
}

// NewProbe returns a gate that sends one HTTP request to rawURL at every
// evaluation and passes after Successes consecutive successful responses.
func NewProbe(rawURL string, opts ProbeOptions) (cutover.Gate, error) {
	const what = "probe"
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s: url %q does not parse: %w", what, rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s: url %q: want an absolute http or https URL with a host", what, rawURL)
	}
	if opts.Method == "" {
		opts.Method = http.MethodGet
	}
	// net/http checks the method when a request is built; build one now
	// so a bad method is refused here and not at every evaluation.
	if _, err := http.NewRequest(opts.Method, u.String(), nil); err != nil {
		return nil, fmt.Errorf("%s: Method %q is not an HTTP method (a token such as GET or HEAD): %w", what, opts.Method, err)
	}
	for i, s := range opts.Statuses {
		if s < 100 || s > 599 {
			return nil, fmt.Errorf("%s: Statuses[%d] %d outside 100–599", what, i, s)
		}
	}
	g := &probe{url: u.String(), opts: opts}
	if opts.Body != "" {
		if g.body, err = regexp.Compile(opts.Body); err != nil {
			return nil, fmt.Errorf("%s: Body %q is not a regular expression: %w", what, opts.Body, err)
		}
	}
	switch {
	case opts.MaxBody < 0:
		return nil, fmt.Errorf("%s: MaxBody %d must be ≥ 0", what, opts.MaxBody)
	case opts.MaxBody == 0:
		g.opts.MaxBody = DefaultMaxBody
	}
	if err := checkDuration(what, "MaxLatency", opts.MaxLatency); err != nil {
		return nil, err
	}
	switch {
	case opts.Successes < 0:
		return nil, fmt.Errorf("%s: Successes %d negative; want ≥ 1 (0: default 1)", what, opts.Successes)
	case opts.Successes == 0:
		g.opts.Successes = 1
	}
	switch {
	case opts.Timeout < 0:
		return nil, fmt.Errorf("%s: Timeout %v negative; want > 0 (0: default %v)", what, opts.Timeout, DefaultProbeTimeout)
	case opts.Timeout == 0:
		g.opts.Timeout = DefaultProbeTimeout
	}
	if g.opts.Client == nil {
		g.opts.Client = &http.Client{}
	}
	g.opts.Clock = clockOr(opts.Clock)
	return g, nil
}

// Name returns the gate's name.
func (g *probe) Name() string {
	if g.opts.Name != "" {
		return g.opts.Name
	}
	return "probe " + g.url
}

// Reset restarts the count of consecutive successes.
func (g *probe) Reset() { g.streak = 0 }

// Evaluate sends one request.
func (g *probe) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	latency, problem, err := g.once(ctx)
	if err != nil {
		return cutover.Verdict{}, err
	}
	figures := map[string]float64{"latency_s": latency.Seconds()}
	if problem != "" {
		g.streak = 0
		figures["consecutive"] = 0
		return cutover.Verdict{Decision: cutover.Fail, Figures: figures,
			Reason: fmt.Sprintf("%s %s: %s", g.opts.Method, g.url, problem)}, nil
	}
	g.streak++
	figures["consecutive"] = float64(g.streak)
	figures["needed"] = float64(g.opts.Successes)
	v := cutover.Verdict{Decision: cutover.Pass, Figures: figures,
		Reason: fmt.Sprintf("%s %s: ok in %v (%d/%d consecutive)", g.opts.Method, g.url, latency.Round(time.Millisecond), g.streak, g.opts.Successes)}
	if g.streak < g.opts.Successes {
		v.Decision = cutover.Pending
	}
	return v, nil
}

// once sends one request; problem says why it did not succeed. err is set
// only when ctx ended.
func (g *probe) once(ctx context.Context) (latency time.Duration, problem string, err error) {
	rctx, cancel := context.WithTimeout(ctx, g.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, g.opts.Method, g.url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("probe %s: %w", g.url, err)
	}
	for k, vs := range g.opts.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	start := g.opts.Clock.Now()
	resp, err := g.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, "", context.Cause(ctx)
		}
		return g.opts.Clock.Now().Sub(start), fmt.Sprintf("request failed: %v", err), nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, g.opts.MaxBody))
	resp.Body.Close()
	latency = g.opts.Clock.Now().Sub(start)
	if ctx.Err() != nil {
		return latency, "", context.Cause(ctx)
	}
	switch {
	case !g.statusOK(resp.StatusCode):
		want := "2xx"
		if len(g.opts.Statuses) > 0 {
			want = fmt.Sprint(g.opts.Statuses)
		}
		return latency, fmt.Sprintf("status %d, want %s", resp.StatusCode, want), nil
	case rerr != nil:
		return latency, fmt.Sprintf("reading the body: %v", rerr), nil
	case g.body != nil && !g.body.Match(body):
		return latency, fmt.Sprintf("body does not match %q (%d bytes read)", g.opts.Body, len(body)), nil
	case g.opts.MaxLatency > 0 && latency > g.opts.MaxLatency:
		return latency, fmt.Sprintf("took %v, want ≤ %v", latency.Round(time.Millisecond), g.opts.MaxLatency), nil
	}
	return latency, "", nil
}

func (g *probe) statusOK(code int) bool {
	if len(g.opts.Statuses) == 0 {
		return code >= 200 && code < 300
	}
	return slices.Contains(g.opts.Statuses, code)
}
