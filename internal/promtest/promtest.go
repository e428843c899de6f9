package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The environment variables the helper reads.
const (
	// EnvBinary names the prometheus binary; default: prometheus on $PATH.
	EnvBinary = "SAFECUTOVER_PROMETHEUS"
	// EnvRequire, when set (make test, CI), turns a missing server into a
	// test failure instead of a skip.
	EnvRequire = "SAFECUTOVER_REQUIRE_PROMETHEUS"
)

// startTimeout bounds how long the server may take to become ready.
const startTimeout = 60 * time.Second

// Options configure the server. The zero value is valid.
type Options struct {
	// ScrapeInterval is how often the targets are scraped; default 1s.
	// Prometheus accepts intervals down to a millisecond; ≥ 0.
	ScrapeInterval time.Duration
}

// Server is a running Prometheus server.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT, for the query
	// API.
	URL string
	// ScrapeInterval is the interval it scrapes its targets at.
	ScrapeInterval time.Duration
	// Job is the job label of the scraped targets.
	Job string
}

// Binary returns the path of the prometheus binary, or an error that says
// how to get one.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvBinary, p, err)
		}
		return p, nil
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		return "", fmt.Errorf("no prometheus binary on $PATH and %s is unset; install it (Debian: apt-get install prometheus) or run `make test`: %w", EnvBinary, err)
	}
	return p, nil
}

// Start starts a server that scrapes targets (base URLs of servers on
// 127.0.0.1 that serve /metrics) and stops it when tb ends. It skips tb
// when no server is installed, or fails it if EnvRequire is set.
func Start(tb testing.TB, opts Options, targets ...string) *Server {
	tb.Helper()
	if _, err := Binary(); err != nil {
		if os.Getenv(EnvRequire) != "" {
			tb.Fatalf("%s is set: %v", EnvRequire, err) // CI: the tests must run, not skip
		}
		tb.Skip(err.Error())
	}
	srv, stop, err := Run(tb.TempDir(), opts, targets...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return srv
}

// Run starts a server that keeps its configuration and data in dir and
// scrapes targets; stop kills it and waits for it to exit.
func Run(dir string, opts Options, targets ...string) (srv *Server, stop func(), err error) {
	bin, err := Binary()
	if err != nil {
		return nil, nil, err
	}
	if opts.ScrapeInterval < 0 {
		return nil, nil, fmt.Errorf("promtest: ScrapeInterval %v: want ≥ 0 (0 means 1s)", opts.ScrapeInterval)
	}
	if opts.ScrapeInterval == 0 {
		opts.ScrapeInterval = time.Second
	}
	hosts := make([]string, 0, len(targets))
	for _, t := range targets {
		u, err := url.Parse(t)
		if err != nil || u.Host == "" {
			return nil, nil, fmt.Errorf("promtest: target %q: want http://127.0.0.1:PORT", t)
		}
		hosts = append(hosts, fmt.Sprintf("%q", u.Host))
	}
	const job = "safecutover-test"
	iv := promDuration(opts.ScrapeInterval)
	cfg := fmt.Sprintf("global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\nscrape_configs:\n  - job_name: %s\n    static_configs:\n      - targets: [%s]\n",
		iv, iv, iv, job, strings.Join(hosts, ", "))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, nil, fmt.Errorf("promtest: %w", err)
	}
	var lastErr error
	for range 3 { // a free port may be taken between picking and binding
		addr, err := freeAddr()
		if err != nil {
			return nil, nil, err
		}
		srv, stop, err := start(bin, dir, cfgPath, addr)
		if err == nil {
			srv.ScrapeInterval, srv.Job = opts.ScrapeInterval, job
			return srv, stop, nil
		}
		lastErr = err
	}
	return nil, nil, fmt.Errorf("promtest: %w", lastErr)
}

func start(bin, dir, cfgPath, addr string) (*Server, func(), error) {
	var logs bytes.Buffer
	data := filepath.Join(dir, "data-"+strings.ReplaceAll(addr, ":", "-"))
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--web.listen-address="+addr,
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=1h",
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-done
		done <- nil // stop may be called again
	}
	u := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"/-/ready", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return &Server{URL: u}, stop, nil
			}
		}
		select {
		case err := <-done:
			done <- err
			stop()
			return nil, nil, fmt.Errorf("prometheus exited before it was ready (%v): %s", err, logs.String())
		case <-ctx.Done():
			stop()
			return nil, nil, fmt.Errorf("prometheus not ready on %s within %v: %s", addr, startTimeout, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freeAddr returns 127.0.0.1:PORT with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("promtest: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// promDuration renders d as a Prometheus duration in milliseconds.
func promDuration(d time.Duration) string {
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// WaitUp waits until the server has scraped n of its targets successfully,
// or fails tb after a bound of 30 scrape intervals (at least 10s).
func (s *Server) WaitUp(tb testing.TB, n int) {
	tb.Helper()
	bound := max(30*s.ScrapeInterval, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := s.Up(ctx, n); err != nil {
		tb.Fatalf("promtest: %d targets not up within %v: %v", n, bound, err)
	}
}

// Up waits until the server has scraped n of its targets successfully, or
// ctx ends.
func (s *Server) Up(ctx context.Context, n int) error {
	q := s.URL + "/api/v1/query?query=" + url.QueryEscape(fmt.Sprintf("count(up{job=%q} == 1) >= %d", s.Job, n))
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, q, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			var body struct {
				Data struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			err := json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if err == nil && len(body.Data.Result) > 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(s.ScrapeInterval / 4):
		}
	}
}
