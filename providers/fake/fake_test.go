package fake_test

import (
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/providers/providertest"
)

var epoch = time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)

func TestConformanceTrafficRouter(t *testing.T) {
	providertest.TestTrafficRouter(t, func(t *testing.T) (providers.TrafficRouter, []string) {
		return fake.New(fake.Options{}).Router("alb", "blue", "green", "red"), []string{"blue", "green", "red"}
	})
}

func TestConformanceSwitcher(t *testing.T) {
	providertest.TestSwitcher(t, func(t *testing.T) (providers.Switcher, []string) {
		return fake.New(fake.Options{}).Switcher("cname", "blue", "green"), []string{"blue", "green"}
	})
}

func TestConformanceFleet(t *testing.T) {
	providertest.TestFleet(t, func(t *testing.T) providers.Fleet {
		return fake.New(fake.Options{WarmUp: 20 * time.Millisecond}).Fleet("green", 0)
	})
}

func TestConformanceAlarmSource(t *testing.T) {
	providertest.TestAlarmSource(t, func(t *testing.T, alarms map[string]providers.AlarmState) providers.AlarmSource {
		c := fake.New(fake.Options{})
		for name, st := range alarms {
			if err := c.SetAlarm(name, st, "set by the harness"); err != nil {
				t.Fatal(err)
			}
		}
		return c
	})
}

func TestConformanceMetricSource(t *testing.T) {
	providertest.TestMetricSource(t, func(t *testing.T) providertest.MetricFixture {
		clk := cutover.NewManualClock(epoch)
		c := fake.New(fake.Options{Clock: clk, Seed: 3})
		c.Router("alb", "blue", "idle")
		if err := c.SetProfile("blue", fake.Profile{ErrorRate: 0.01, LatencyMedian: 100 * time.Millisecond, LatencySigma: 1}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10 * time.Minute)
		return providertest.MetricFixture{Source: c, Target: "blue", Idle: "idle", Start: epoch.Add(time.Minute), End: epoch.Add(6 * time.Minute)}
	})
}

func TestConformanceTargetHealthSource(t *testing.T) {
	providertest.TestTargetHealthSource(t, func(t *testing.T, healthy, unhealthy int) (providers.TargetHealthSource, string) {
		c := fake.New(fake.Options{})
		f := c.Fleet("green", healthy+unhealthy)
		if err := f.SetUnhealthy(unhealthy); err != nil {
			t.Fatal(err)
		}
		return c, "green"
	})
}
