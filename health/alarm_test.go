package health_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

func TestAlarmGate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		states map[string]providers.AlarmState
		policy health.NoData
		want   cutover.Decision
		reason string
	}{
		{"all OK", map[string]providers.AlarmState{"a": providers.AlarmOK, "b": providers.AlarmOK}, 0, cutover.Pass, "2 alarms OK"},
		{"one in ALARM", map[string]providers.AlarmState{"a": providers.AlarmOK, "b": providers.AlarmAlarm}, 0, cutover.Fail, "in ALARM: b (b fired)"},
		{"insufficient data fails by default", map[string]providers.AlarmState{"a": providers.AlarmOK, "b": providers.AlarmInsufficientData}, 0, cutover.Fail, "INSUFFICIENT_DATA: b"},
		{"insufficient data pending by policy", map[string]providers.AlarmState{"a": providers.AlarmOK, "b": providers.AlarmInsufficientData}, health.NoDataPending, cutover.Pending, "INSUFFICIENT_DATA: b"},
		{"insufficient data ignored by policy", map[string]providers.AlarmState{"a": providers.AlarmOK, "b": providers.AlarmInsufficientData}, health.NoDataZero, cutover.Pass, "1 alarms OK (1 with insufficient data ignored)"},
		{"ALARM beats insufficient data", map[string]providers.AlarmState{"a": providers.AlarmAlarm, "b": providers.AlarmInsufficientData}, health.NoDataZero, cutover.Fail, "in ALARM: a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := fake.MustNew(fake.Options{})
				for name, st := range tc.states {
					if err := c.SetAlarm(name, st, name+" fired"); err != nil {
						t.Fatal(err)
					}
				}
				g, err := health.NewAlarm(c, []string{"a", "b"}, health.AlarmOptions{NoData: tc.policy})
				if err != nil {
					t.Fatal(err)
				}
				v := evaluate(t, g)
				want(t, tc.name, v, tc.want, tc.reason)
			})
		})
	}
}

func TestAlarmGateDerivedFromTraffic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t)
		err := c.DefineAlarm("green-5xx", fake.AlarmSpec{Target: "green", Metric: providers.MetricErrors, Per: providers.MetricRequests, Threshold: 0.02})
		if err != nil {
			t.Fatal(err)
		}
		g, err := health.NewAlarm(c, []string{"green-5xx"}, health.AlarmOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sleep(time.Minute)
		want(t, "healthy", evaluate(t, g), cutover.Pass)
		setErrorRate(t, c, "green", 0.10)
		sleep(time.Minute)
		want(t, "green at 10%", evaluate(t, g), cutover.Fail, "green-5xx")
	})
}

func TestAlarmGateUnknownAlarmFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{})
		g, err := health.NewAlarm(c, []string{"nope"}, health.AlarmOptions{Retry: health.Retry{Attempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "unknown alarm", evaluate(t, g), cutover.Fail, "nope")
	})
}

func TestAlarmBadInput(t *testing.T) {
	c := fake.MustNew(fake.Options{})
	for _, tc := range []struct {
		name  string
		names []string
		opts  health.AlarmOptions
		want  string
	}{
		{"no names", nil, health.AlarmOptions{}, "at least one"},
		{"empty name", []string{"a", ""}, health.AlarmOptions{}, "names[1]"},
		{"repeated name", []string{"a", "a"}, health.AlarmOptions{}, "repeated"},
		{"bad policy", []string{"a"}, health.AlarmOptions{NoData: -1}, "NoData: -1: want NoDataPending, NoDataFail or NoDataZero (0: fail)"},
		{"negative backoff", []string{"a"}, health.AlarmOptions{Retry: health.Retry{Backoff: -time.Second}}, "Retry.Backoff"},
	} {
		_, err := health.NewAlarm(c, tc.names, tc.opts)
		refused(t, tc.name, err, tc.want)
	}
}
