package health_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers/fake"
)

func TestTargetHealthGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{WarmUp: 30 * time.Second})
		f := c.Fleet("green", 3)
		all, err := health.NewTargetHealth(c, "green", health.TargetHealthOptions{})
		if err != nil {
			t.Fatal(err)
		}
		two, err := health.NewTargetHealth(c, "green", health.TargetHealthOptions{MinHealthy: 2})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "3 healthy", evaluate(t, all), cutover.Pass, "3 of 3 members healthy")

		if err := f.SetUnhealthy(1); err != nil {
			t.Fatal(err)
		}
		want(t, "all, 1 unhealthy", evaluate(t, all), cutover.Fail, "2 of 3 members healthy, need 3", "not healthy:")
		want(t, "at least 2, 1 unhealthy", evaluate(t, two), cutover.Pass, "2 of 3")
		if err := f.SetUnhealthy(0); err != nil {
			t.Fatal(err)
		}

		// New members warm up: Pending while they can still make it.
		if err := f.SetDesired(t.Context(), 5); err != nil {
			t.Fatal(err)
		}
		want(t, "warming up", evaluate(t, all), cutover.Pending, "2 still in initial checks")
		sleep(31 * time.Second)
		want(t, "warmed up", evaluate(t, all), cutover.Pass, "5 of 5")

		// An empty fleet has no data.
		if err := f.SetDesired(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
		want(t, "empty", evaluate(t, all), cutover.Pending, "no registered members")
	})
}

func TestTargetHealthBadInput(t *testing.T) {
	c := fake.MustNew(fake.Options{})
	for _, tc := range []struct {
		name   string
		target string
		opts   health.TargetHealthOptions
		want   string
	}{
		{"empty target", "", health.TargetHealthOptions{}, "target"},
		{"negative minimum", "green", health.TargetHealthOptions{MinHealthy: -1}, "MinHealthy"},
		{"zero policy", "green", health.TargetHealthOptions{NoData: health.NoDataZero}, "NoData"},
	} {
		_, err := health.NewTargetHealth(c, tc.target, tc.opts)
		refused(t, tc.name, err, tc.want)
	}
}
