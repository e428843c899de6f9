package prometheus_test

import (
	"testing"
	"time"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/prometheus"
)

// FuzzNew: any template either is refused by New or yields a query;
// nothing panics.
func FuzzNew(f *testing.F) {
	for _, s := range []string{`sum(x{v="{{.Target}}"}[{{.Window}}])`, `{{.Nope}}`, `{{`, `{{template "x"}}`, `{{.WindowSeconds | printf "%f"}}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		src, err := prometheus.New("http://127.0.0.1:9", prometheus.Options{Queries: map[string]string{providers.MetricErrors: tmpl}})
		if err != nil {
			return
		}
		end := time.Unix(1767268800, 0)
		if _, err := src.Query(providers.MetricQuery{Target: "green", Metric: providers.MetricErrors, Start: end.Add(-time.Minute), End: end}); err != nil {
			t.Fatalf("New accepted %q but Query failed: %v", tmpl, err)
		}
	})
}
