package prometheus_test

import (
	"fmt"
	"time"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/prometheus"
)

// A source maps the library's metric names to PromQL per target; Query
// shows what the judge's question becomes.
func Example() {
	src, err := prometheus.New("http://127.0.0.1:9090", prometheus.Options{
		Queries: map[string]string{
			providers.MetricRequests: `sum(increase(http_requests_total{version="{{.Target}}"}[{{.Window}}]))`,
			providers.MetricErrors:   `sum(increase(http_requests_total{version="{{.Target}}",code=~"5.."}[{{.Window}}]))`,
		},
		Targets:        map[string]string{"blue": "v41", "green": "v42"},
		ScrapeInterval: 15 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	end := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	promql, err := src.Query(providers.MetricQuery{Target: "green", Metric: providers.MetricErrors, Start: end.Add(-5 * time.Minute), End: end})
	fmt.Println(promql, err)

	_, err = prometheus.New("http://127.0.0.1:9090", prometheus.Options{
		Queries: map[string]string{providers.MetricSlow: `sum(slow{version="{{.Version}}"})`},
	})
	fmt.Println(err)
	// Output:
	// sum(increase(http_requests_total{version="v42",code=~"5.."}[300000ms])) <nil>
	// prometheus source: Queries["slow"]: template: slow:1:20: executing "slow" at <.Version>: can't evaluate field Version in type prometheus.QueryData (fields: .Target, .Name, .Window, .WindowSeconds)
}
