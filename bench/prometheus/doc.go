// Package prometheus measures how fast a canary judged from a real
// Prometheus server is rolled back: green takes 10 % of the traffic with
// twice blue's error rate, the sequential judge reads both arms through
// providers/prometheus, and the time from green taking traffic to the
// runner's rolled_back event is the figure (docs/prometheus.md).
//
//	go test -run '^$' -bench Detection -benchtime 5x ./bench/prometheus/
//
// The server scrapes every 15 s, as is usual, and each trial runs on the
// wall clock, so a trial takes about a minute. -scale N runs every interval
// (scrape, poll, warm-up) N times shorter and the traffic N times denser,
// so that each scrape holds the same counts; the figure is reported
// multiplied back by N. Prometheus's own work is not scaled, which makes a
// scaled figure, if anything, pessimistic.
package prometheus
