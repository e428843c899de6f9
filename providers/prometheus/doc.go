// Package prometheus is a providers.MetricSource over the Prometheus HTTP
// query API, read with the Prometheus project's own Go client. It works
// with any server that speaks that API: Prometheus itself, Thanos, Mimir,
// and Amazon Managed Service for Prometheus, whose requests it signs with
// SigV4.
//
// The library's metric names (providers.MetricRequests, MetricErrors,
// MetricSlow, MetricLatencyAvg, MetricLatencyP99) are mapped to PromQL by
// templates, one per metric, filled in per query with the target and the
// query's window:
//
//	src, err := prometheus.New("http://prometheus:9090", prometheus.Options{
//		Queries: map[string]string{
//			providers.MetricRequests: `sum(increase(http_requests_total{version="{{.Target}}"}[{{.Window}}]))`,
//			providers.MetricErrors:   `sum(increase(http_requests_total{version="{{.Target}}",code=~"5.."}[{{.Window}}]))`,
//		},
//		ScrapeInterval: 15 * time.Second,
//	})
//
// A template that does not parse, or names a field other than those of
// QueryData, is an error of New that names the metric.
//
// For Amazon Managed Service for Prometheus, set Options.AMP (region,
// workspace, credentials): the address defaults to the workspace's query
// endpoint and every request is signed with the AWS SDK's SigV4 signer for
// the service "aps". The IAM permission is aps:QueryMetrics (docs/iam.md).
package prometheus
