package fake_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

func TestSmoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		c := fake.New(fake.Options{})
		r := c.Router("alb", "blue", "green")
		start := c.Now()
		time.Sleep(10 * time.Second)
		if err := r.SetWeights(ctx, providers.Weights{"blue": 90, "green": 10}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		for _, tg := range []string{"blue", "green"} {
			for _, m := range []string{providers.MetricRequests, providers.MetricErrors, providers.MetricSlow, providers.MetricLatencyAvg, providers.MetricLatencyP99} {
				v, err := c.Metric(ctx, providers.MetricQuery{Target: tg, Metric: m, Start: start, End: c.Now()})
				t.Log(tg, m, v, err)
			}
		}
	})
}
