// Command prometheus runs a canary judged from a real Prometheus server:
// it starts a simulated service whose counters blue and green expose in
// the Prometheus format, a prometheus server on 127.0.0.1 that scrapes it
// (the prometheus binary on $PATH, or $SAFECUTOVER_PROMETHEUS), and a
// canary of 10 %, 50 % and 100 % judged by the sequential judge through
// providers/prometheus, on the real clock.
//
//	go run ./examples/prometheus              # green healthy: completed
//	go run ./examples/prometheus -bad-green   # green 2× worse: rolled back in well under a minute
//	go run ./examples/prometheus -notify-webhook URL   # and tell a Slack channel
//
// -scrape sets the scrape interval (default 5s; 15s is usual in
// production), -rate the requests a second.
package main
