// Package promtest starts a real Prometheus server for tests: on
// 127.0.0.1, with a temporary configuration that scrapes the targets the
// test itself serves, and stops it when the test ends.
//
// The server is the prometheus binary named by $SAFECUTOVER_PROMETHEUS, or
// the one on $PATH (Debian: apt-get install prometheus). Without it the
// test is skipped, unless $SAFECUTOVER_REQUIRE_PROMETHEUS is set, as
// `make test` and CI set it: then the test fails.
//
//	reg := prometheus.NewRegistry()
//	target := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//	srv := promtest.Start(t, promtest.Options{ScrapeInterval: time.Second}, target.URL)
//	// query srv.URL with the Prometheus HTTP API
package promtest
