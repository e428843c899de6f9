package providertest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/safecutover/safecutover/providers"
)

// The alarm names TestAlarmSource asks its harness to create.
const (
	AlarmNameOK           = "providertest-ok"
	AlarmNameAlarm        = "providertest-alarm"
	AlarmNameInsufficient = "providertest-insufficient"
)

// TestAlarmSource checks the AlarmSource contract. newSource returns a
// source that knows exactly the alarms given, each in the given state (the
// suite uses AlarmNameOK, AlarmNameAlarm and AlarmNameInsufficient). The
// suite checks that:
//   - Alarms returns one Alarm per name asked, with that name and the state
//     the harness set, for all names at once and for each alone;
//   - a name the source does not know is an error — alone or among known
//     names — never a silent OK;
//   - a call with a cancelled context returns an error promptly.
func TestAlarmSource(t *testing.T, newSource func(t *testing.T, alarms map[string]providers.AlarmState) providers.AlarmSource) {
	t.Helper()
	want := map[string]providers.AlarmState{
		AlarmNameOK:           providers.AlarmOK,
		AlarmNameAlarm:        providers.AlarmAlarm,
		AlarmNameInsufficient: providers.AlarmInsufficientData,
	}
	setup := func(t *testing.T) providers.AlarmSource {
		t.Helper()
		s := newSource(t, want)
		if s == nil {
			t.Fatal("harness: nil alarm source")
		}
		return s
	}
	check := func(t *testing.T, s providers.AlarmSource, names []string) {
		t.Helper()
		got, err := s.Alarms(context.Background(), names)
		if err != nil {
			t.Fatalf("Alarms(%q): %v", names, err)
		}
		if len(got) != len(names) {
			t.Fatalf("Alarms(%q) returned %d alarms, want %d: %+v", names, len(got), len(names), got)
		}
		seen := map[string]bool{}
		for _, a := range got {
			st, ok := want[a.Name]
			switch {
			case !ok || !contains(names, a.Name):
				t.Errorf("Alarms(%q) returned alarm %q, not asked for", names, a.Name)
			case seen[a.Name]:
				t.Errorf("Alarms(%q) returned alarm %q twice", names, a.Name)
			case a.State != st:
				t.Errorf("alarm %q: state %q, want %q", a.Name, a.State, st)
			}
			seen[a.Name] = true
		}
	}
	t.Run("States", func(t *testing.T) {
		check(t, setup(t), []string{AlarmNameOK, AlarmNameAlarm, AlarmNameInsufficient})
	})
	t.Run("EachAlone", func(t *testing.T) {
		s := setup(t)
		for _, n := range []string{AlarmNameOK, AlarmNameAlarm, AlarmNameInsufficient} {
			check(t, s, []string{n})
		}
	})
	t.Run("UnknownIsError", func(t *testing.T) {
		s := setup(t)
		for _, names := range [][]string{{Unknown}, {AlarmNameOK, Unknown}} {
			if got, err := s.Alarms(context.Background(), names); err == nil {
				t.Errorf("Alarms(%q) = %+v, nil error: want an error for the unknown alarm", names, got)
			}
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		s := setup(t)
		prompt(t, "Alarms", func(ctx context.Context) error {
			_, err := s.Alarms(ctx, []string{AlarmNameOK})
			return err
		})
	})
}

// MetricFixture is what TestMetricSource queries: a source and a past
// window in which one target had traffic and another had none.
type MetricFixture struct {
	Source providers.MetricSource
	// Target served requests throughout [Start, End) — some in every
	// minute — with some errors.
	Target string
	// Idle is a target the source accepts that had no traffic at all in
	// [Start, End).
	Idle string
	// Start and End bound a window in the past, on whole minutes, at least
	// two minutes long.
	Start, End time.Time
	// Metrics lists the metric names the source supports; nil means all
	// five providers.Metric names.
	Metrics []string
}

// TestMetricSource checks the MetricSource contract. newFixture returns a
// fresh fixture (see MetricFixture). The suite checks that:
//   - every supported metric of Target over [Start, End) has Points > 0;
//     requests and latency_avg are > 0, errors and slow are within
//     0..requests, latencies finite and ≥ 0;
//   - every supported metric of Idle has Points == 0: no data, not zero;
//   - counts (requests, errors, slow) and Points over the window equal the
//     sums over its two halves split on a whole minute;
//   - the same query over a past window gives the same answer;
//   - a window that ends at or before its start, an unknown metric name or
//     an empty target is an error;
//   - a call with a cancelled context returns an error promptly.
func TestMetricSource(t *testing.T, newFixture func(t *testing.T) MetricFixture) {
	t.Helper()
	setup := func(t *testing.T) (MetricFixture, []string) {
		t.Helper()
		f := newFixture(t)
		if f.Source == nil || f.Target == "" || f.Idle == "" || f.End.Sub(f.Start) < 2*time.Minute {
			t.Fatalf("harness: want a source, two targets and a window of at least two minutes, got %+v", f)
		}
		ms := f.Metrics
		if ms == nil {
			ms = []string{providers.MetricRequests, providers.MetricErrors, providers.MetricSlow, providers.MetricLatencyAvg, providers.MetricLatencyP99}
		}
		return f, ms
	}
	get := func(t *testing.T, f MetricFixture, target, metric string, start, end time.Time) providers.MetricValue {
		t.Helper()
		q := providers.MetricQuery{Target: target, Metric: metric, Start: start, End: end}
		v, err := f.Source.Metric(context.Background(), q)
		if err != nil {
			t.Fatalf("Metric(%+v): %v", q, err)
		}
		if v.Points < 0 {
			t.Errorf("Metric(%+v): Points %d < 0", q, v.Points)
		}
		return v
	}
	t.Run("Traffic", func(t *testing.T) {
		f, ms := setup(t)
		var req float64 = -1
		if contains(ms, providers.MetricRequests) {
			v := get(t, f, f.Target, providers.MetricRequests, f.Start, f.End)
			if v.Points == 0 || v.Value <= 0 {
				t.Fatalf("requests of %s: %+v, want data and a value > 0", f.Target, v)
			}
			req = v.Value
		}
		for _, m := range ms {
			v := get(t, f, f.Target, m, f.Start, f.End)
			if v.Points == 0 {
				t.Errorf("%s of %s: no data points, want some", m, f.Target)
			}
			if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) || v.Value < 0 {
				t.Errorf("%s of %s: value %v, want finite and ≥ 0", m, f.Target, v.Value)
			}
			switch m {
			case providers.MetricErrors, providers.MetricSlow:
				if req >= 0 && v.Value > req {
					t.Errorf("%s of %s: %v > %v requests", m, f.Target, v.Value, req)
				}
			case providers.MetricLatencyAvg:
				if v.Value <= 0 {
					t.Errorf("%s of %s: %v, want > 0", m, f.Target, v.Value)
				}
			}
		}
	})
	t.Run("NoDataIsNotZero", func(t *testing.T) {
		f, ms := setup(t)
		for _, m := range ms {
			if v := get(t, f, f.Idle, m, f.Start, f.End); v.Points != 0 {
				t.Errorf("%s of idle target %s: %+v, want Points 0", m, f.Idle, v)
			}
		}
	})
	t.Run("Additive", func(t *testing.T) {
		f, ms := setup(t)
		mid := f.Start.Add(f.End.Sub(f.Start) / 2).Truncate(time.Minute)
		if !mid.After(f.Start) {
			mid = f.Start.Add(time.Minute)
		}
		for _, m := range []string{providers.MetricRequests, providers.MetricErrors, providers.MetricSlow} {
			if !contains(ms, m) {
				continue
			}
			whole := get(t, f, f.Target, m, f.Start, f.End)
			a, b := get(t, f, f.Target, m, f.Start, mid), get(t, f, f.Target, m, mid, f.End)
			if a.Value+b.Value != whole.Value || a.Points+b.Points != whole.Points {
				t.Errorf("%s of %s: halves %+v + %+v split at %s do not add up to the whole %+v", m, f.Target, a, b, mid, whole)
			}
		}
	})
	t.Run("Repeatable", func(t *testing.T) {
		f, ms := setup(t)
		for _, m := range ms {
			v1, v2 := get(t, f, f.Target, m, f.Start, f.End), get(t, f, f.Target, m, f.Start, f.End)
			if v1 != v2 {
				t.Errorf("%s of %s over a past window: %+v then %+v", m, f.Target, v1, v2)
			}
		}
	})
	t.Run("BadQueries", func(t *testing.T) {
		f, ms := setup(t)
		cases := []struct {
			name string
			q    providers.MetricQuery
		}{
			{"EndBeforeStart", providers.MetricQuery{Target: f.Target, Metric: ms[0], Start: f.End, End: f.Start}},
			{"EmptyWindow", providers.MetricQuery{Target: f.Target, Metric: ms[0], Start: f.Start, End: f.Start}},
			{"UnknownMetric", providers.MetricQuery{Target: f.Target, Metric: Unknown, Start: f.Start, End: f.End}},
			{"EmptyTarget", providers.MetricQuery{Metric: ms[0], Start: f.Start, End: f.End}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if v, err := f.Source.Metric(context.Background(), tc.q); err == nil {
					t.Errorf("Metric(%+v) = %+v, nil error: want an error", tc.q, v)
				}
			})
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		f, ms := setup(t)
		prompt(t, "Metric", func(ctx context.Context) error {
			_, err := f.Source.Metric(ctx, providers.MetricQuery{Target: f.Target, Metric: ms[0], Start: f.Start, End: f.End})
			return err
		})
	})
	t.Run("UnknownMetricIsUnsupported", func(t *testing.T) {
		f, _ := setup(t)
		q := providers.MetricQuery{Target: f.Target, Metric: Unknown, Start: f.Start, End: f.End}
		if _, err := f.Source.Metric(context.Background(), q); !errors.Is(err, providers.ErrUnsupportedMetric) {
			t.Errorf("Metric(%+v): %v, want an error wrapping providers.ErrUnsupportedMetric (a setup error, not retried)", q, err)
		}
	})
	t.Run("Feed", func(t *testing.T) {
		f, ms := setup(t)
		feed, ok := f.Source.(providers.MetricFeed)
		if !ok {
			t.Skip("not a providers.MetricFeed")
		}
		info := feed.FeedInfo()
		if info.Resolution <= 0 || info.Lag < 0 {
			t.Fatalf("FeedInfo %+v: want Resolution > 0 and Lag ≥ 0", info)
		}
		for _, m := range append([]string{providers.MetricRequests}, ms...) {
			if !info.Supports(m) {
				t.Errorf("FeedInfo.Metrics %v lacks %q, which the source answers", info.Metrics, m)
			}
		}
		s1, err := feed.Settled(context.Background(), f.Target)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := feed.Settled(context.Background(), f.Target)
		if err != nil {
			t.Fatal(err)
		}
		if s1.Before(f.End) || s2.Before(s1) || s1.Sub(time.Unix(0, 0))%info.Resolution != 0 {
			t.Errorf("Settled: %v then %v; want at least the fixture's End %v, never going back, a multiple of %v", s1, s2, f.End, info.Resolution)
		}
		if _, err := feed.Settled(context.Background(), "no-such-target-"+Unknown); err == nil {
			t.Error("Settled of an unknown target: nil error")
		}
	})
}

// TestTargetHealthSource checks the TargetHealthSource contract. newSource
// returns a source and a target with exactly healthy members in the
// healthy state and unhealthy members in the unhealthy state. The suite
// checks that:
//   - TargetHealth lists every member once, with a non-empty ID and a
//     state among the providers.Health names, and the counts of healthy
//     and unhealthy members the harness set (an empty target has none);
//   - a target the source does not know is an error;
//   - a call with a cancelled context returns an error promptly.
func TestTargetHealthSource(t *testing.T, newSource func(t *testing.T, healthy, unhealthy int) (providers.TargetHealthSource, string)) {
	t.Helper()
	for _, tc := range []struct{ healthy, unhealthy int }{{3, 0}, {2, 1}, {0, 2}, {0, 0}} {
		t.Run(fmt.Sprintf("Healthy%dUnhealthy%d", tc.healthy, tc.unhealthy), func(t *testing.T) {
			s, target := newSource(t, tc.healthy, tc.unhealthy)
			got, err := s.TargetHealth(context.Background(), target)
			if err != nil {
				t.Fatalf("TargetHealth(%q): %v", target, err)
			}
			counts := map[string]int{}
			ids := map[string]bool{}
			for _, m := range got {
				switch m.State {
				case providers.HealthHealthy, providers.HealthUnhealthy, providers.HealthInitial, providers.HealthDraining, providers.HealthUnused:
				default:
					t.Errorf("member %q: state %q is not a providers.Health name", m.ID, m.State)
				}
				if m.ID == "" || ids[m.ID] {
					t.Errorf("member ID %q empty or listed twice", m.ID)
				}
				ids[m.ID] = true
				counts[m.State]++
			}
			if counts[providers.HealthHealthy] != tc.healthy || counts[providers.HealthUnhealthy] != tc.unhealthy {
				t.Errorf("TargetHealth(%q): %d healthy and %d unhealthy (%+v), want %d and %d",
					target, counts[providers.HealthHealthy], counts[providers.HealthUnhealthy], got, tc.healthy, tc.unhealthy)
			}
		})
	}
	t.Run("UnknownIsError", func(t *testing.T) {
		s, _ := newSource(t, 1, 0)
		if got, err := s.TargetHealth(context.Background(), Unknown); err == nil {
			t.Errorf("TargetHealth(%q) = %+v, nil error: want an error", Unknown, got)
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		s, target := newSource(t, 1, 0)
		prompt(t, "TargetHealth", func(ctx context.Context) error {
			_, err := s.TargetHealth(ctx, target)
			return err
		})
	})
}
