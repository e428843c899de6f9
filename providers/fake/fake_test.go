package fake_test

import (
	"errors"
	"math"
	"strings"
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
		return fake.MustNew(fake.Options{}).Router("alb", "blue", "green", "red"), []string{"blue", "green", "red"}
	})
}

func TestConformanceSwitcher(t *testing.T) {
	providertest.TestSwitcher(t, func(t *testing.T) (providers.Switcher, []string) {
		return fake.MustNew(fake.Options{}).Switcher("cname", "blue", "green"), []string{"blue", "green"}
	})
}

func TestConformanceFleet(t *testing.T) {
	providertest.TestFleet(t, func(t *testing.T) providers.Fleet {
		return fake.MustNew(fake.Options{WarmUp: 20 * time.Millisecond}).Fleet("green", 0)
	})
}

func TestConformanceAlarmSource(t *testing.T) {
	providertest.TestAlarmSource(t, func(t *testing.T, alarms map[string]providers.AlarmState) providers.AlarmSource {
		c := fake.MustNew(fake.Options{})
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
		c := fake.MustNew(fake.Options{Clock: clk, Seed: 3})
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
		c := fake.MustNew(fake.Options{})
		f := c.Fleet("green", healthy+unhealthy)
		if err := f.SetUnhealthy(unhealthy); err != nil {
			t.Fatal(err)
		}
		return c, "green"
	})
}

// TestNewRejectsOptionsOutOfRange: New names the field and the allowed
// range instead of clamping; the zero value and in-range values pass.
func TestNewRejectsOptionsOutOfRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts fake.Options
		want string // in the error; "" means valid
	}{
		{"zero", fake.Options{}, ""},
		{"in range", fake.Options{Rate: 5, WarmUp: time.Second, MetricResolution: time.Minute, MetricLag: time.Minute, MaxCalls: -1}, ""},
		{"negative rate", fake.Options{Rate: -1}, "fake.Options.Rate: -1: want requests per second, finite and ≥ 0; 0 means DefaultRate"},
		{"NaN rate", fake.Options{Rate: math.NaN()}, "fake.Options.Rate: NaN"},
		{"infinite rate", fake.Options{Rate: math.Inf(1)}, "fake.Options.Rate: +Inf"},
		{"negative objective", fake.Options{LatencyObjective: -time.Millisecond}, "fake.Options.LatencyObjective: -1ms: want a duration ≥ 0"},
		{"negative warm-up", fake.Options{WarmUp: -time.Second}, "fake.Options.WarmUp: -1s: want a duration ≥ 0; 0 means healthy at once"},
		{"negative cache", fake.Options{MetricCache: -time.Hour}, "fake.Options.MetricCache: -1h0m0s"},
		{"fractional resolution", fake.Options{MetricResolution: 1500 * time.Millisecond}, "fake.Options.MetricResolution: 1.5s: want whole seconds"},
		{"negative lag", fake.Options{MetricLag: -time.Second}, "fake.Options.MetricLag: -1s"},
		{"bad profile", fake.Options{Profile: fake.Profile{ErrorRate: 2}}, "fake.Options.Profile: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := fake.New(tt.opts)
			if tt.want == "" {
				if err != nil || c == nil {
					t.Fatalf("New = %v, %v; want a cloud", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, fake.ErrInvalid) {
				t.Fatalf("New error = %v; want ErrInvalid containing %q", err, tt.want)
			}
			if c != nil {
				t.Error("New returned a cloud with its error")
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("MustNew did not panic on a negative rate")
		}
	}()
	fake.MustNew(fake.Options{Rate: -1})
}
