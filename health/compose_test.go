package health_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
)

const (
	P = cutover.Pass
	F = cutover.Fail
	W = cutover.Pending // waiting
)

func TestComposition(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(gs ...*script) cutover.Gate
		gates [][]cutover.Decision // each gate's verdicts in turn
		want  []cutover.Decision   // the composite's verdicts in turn
	}{
		{"all passes when all pass", all, [][]cutover.Decision{{P}, {P}}, []cutover.Decision{P}},
		{"all fails when one fails", all, [][]cutover.Decision{{P}, {F}}, []cutover.Decision{F}},
		{"all fail beats pending", all, [][]cutover.Decision{{W}, {F}}, []cutover.Decision{F}},
		{"all waits for pending", all, [][]cutover.Decision{{W, P}, {P}}, []cutover.Decision{W, P}},
		{"any passes when one passes", any, [][]cutover.Decision{{F}, {P}}, []cutover.Decision{P}},
		{"any fails when all fail", any, [][]cutover.Decision{{F}, {F}}, []cutover.Decision{F}},
		{"any waits", any, [][]cutover.Decision{{F}, {W, F}}, []cutover.Decision{W, F}},
		{"not inverts", not, [][]cutover.Decision{{P, F, W}}, []cutover.Decision{F, P, W}},
		{"consecutive 3", consecutive3, [][]cutover.Decision{{P, P, W, P, P, P}}, []cutover.Decision{W, W, W, W, W, P}},
		{"consecutive fails at once", consecutive3, [][]cutover.Decision{{P, F}}, []cutover.Decision{W, F}},
		{"failure limit 0", limit0, [][]cutover.Decision{{P, F}}, []cutover.Decision{P, F}},
		{"failure limit 2 counts in all", limit2, [][]cutover.Decision{{F, P, F, P, F}}, []cutover.Decision{W, P, W, P, F}},
		{"dry run never decides", dryRun, [][]cutover.Decision{{F, W, P}}, []cutover.Decision{P, P, P}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gs []*script
			for i, ds := range tc.gates {
				gs = append(gs, seq(string(rune('a'+i)), ds...))
			}
			g := tc.build(gs...)
			var got []cutover.Decision
			for range tc.want {
				got = append(got, evaluate(t, g).Decision)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decisions (-want +got):\n%s", diff)
			}
			// Every gate is evaluated every time, so stateful ones keep up.
			for _, s := range gs {
				if s.calls != len(tc.want) {
					t.Errorf("gate %s evaluated %d times, want %d", s.name, s.calls, len(tc.want))
				}
			}
			// Reset reaches every gate.
			g.(cutover.Resetter).Reset()
			for _, s := range gs {
				if s.resets != 1 {
					t.Errorf("gate %s reset %d times, want 1", s.name, s.resets)
				}
			}
		})
	}
}

func all(gs ...*script) cutover.Gate          { return health.All(gates(gs)...) }
func any(gs ...*script) cutover.Gate          { return health.Any(gates(gs)...) }
func not(gs ...*script) cutover.Gate          { return health.Not(gs[0]) }
func consecutive3(gs ...*script) cutover.Gate { return health.Consecutive(3, gs[0]) }
func limit0(gs ...*script) cutover.Gate       { return health.FailureLimit(0, gs[0]) }
func limit2(gs ...*script) cutover.Gate       { return health.FailureLimit(2, gs[0]) }
func dryRun(gs ...*script) cutover.Gate       { return health.DryRun(gs[0]) }

func gates(ss []*script) []cutover.Gate {
	out := make([]cutover.Gate, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestCompositionFinal(t *testing.T) {
	final := &script{name: "judge", verdicts: []cutover.Verdict{{Decision: P, Final: true}}}
	notFinal := &script{name: "alarms", verdicts: []cutover.Verdict{{Decision: P}}}
	if v := evaluate(t, health.All(final, final)); !v.Final {
		t.Errorf("all of final passes: %+v, want final", v)
	}
	if v := evaluate(t, health.All(final, notFinal)); v.Final || v.Decision != P {
		t.Errorf("all of a final and a non-final pass: %+v, want a pass that is not final", v)
	}
	if v := evaluate(t, health.DryRun(final)); v.Final {
		t.Errorf("dry run: %+v, want not final (it never shortens a bake)", v)
	}
}

func TestCompositionErrors(t *testing.T) {
	boom := errors.New("source unreachable")
	broken := &script{name: "broken", verdicts: []cutover.Verdict{{}}, errs: []error{boom}}
	if _, err := health.All(seq("ok", P), broken).Evaluate(t.Context()); !errors.Is(err, boom) {
		t.Errorf("all with a broken gate: err = %v, want %v", err, boom)
	}
	v, err := health.All(seq("bad", F), broken).Evaluate(t.Context())
	if err != nil || v.Decision != F {
		t.Errorf("all with a failing and a broken gate: %v, %v; want fail", v, err)
	}
	v, err = health.DryRun(broken).Evaluate(t.Context())
	if err != nil || v.Decision != P {
		t.Errorf("dry run of a broken gate: %v, %v; want pass", v, err)
	}
	want(t, "dry run reports", v, P, "could not judge", "source unreachable")
}

func TestCompositionMisconfigured(t *testing.T) {
	for name, g := range map[string]cutover.Gate{
		"All()":                health.All(),
		"All(nil)":             health.All(nil),
		"Any()":                health.Any(),
		"Not(nil)":             health.Not(nil),
		"Consecutive(0, g)":    health.Consecutive(0, seq("g", P)),
		"FailureLimit(-1)":     health.FailureLimit(-1, seq("g", P)),
		"WithTimeout(0, g)":    health.WithTimeout(0, seq("g", P), nil),
		"WithTimeout(1s, nil)": health.WithTimeout(time.Second, nil, nil),
		"DryRun(nil)":          health.DryRun(nil),
	} {
		want(t, name, evaluate(t, g), F, "misconfigured")
	}
}

func TestWithTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pending := seq("slow", W)
		g := health.WithTimeout(time.Minute, pending, nil)
		want(t, "at start", evaluate(t, g), W)
		sleep(59 * time.Second)
		want(t, "before the timeout", evaluate(t, g), W)
		sleep(time.Second)
		want(t, "at the timeout", evaluate(t, g), F, "no decision within 1m0s", "slow pending")
		g.(cutover.Resetter).Reset()
		want(t, "after reset", evaluate(t, g), W)

		decided := seq("fast", W, P)
		g = health.WithTimeout(time.Minute, decided, nil)
		evaluate(t, g)
		sleep(2 * time.Minute)
		want(t, "a decision after the timeout stands", evaluate(t, g), P)

		// An evaluation that blocks is cut off at the timeout.
		blocking := cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
			<-ctx.Done()
			return cutover.Verdict{}, ctx.Err()
		})
		start := time.Now()
		v, err := health.WithTimeout(time.Minute, blocking, nil).Evaluate(t.Context())
		if err != nil || v.Decision != F || time.Since(start) != time.Minute {
			t.Errorf("blocking gate: %v, %v after %v; want a fail after 1m", v, err, time.Since(start))
		}
	})
}

// TestWithTimeoutInjectedClock: the timeout runs on the injected clock,
// not on the wall clock: wall time passing changes nothing, the clock
// moving decides, and a blocked evaluation is cut off when the clock
// reaches the end.
func TestWithTimeoutInjectedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := cutover.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		g := health.WithTimeout(time.Minute, seq("slow", W), clock)
		want(t, "at start", evaluate(t, g), W)
		sleep(time.Hour) // the wall clock (the bubble's) is not the gate's
		want(t, "an hour of wall time later", evaluate(t, g), W)
		clock.Advance(59 * time.Second)
		want(t, "59s later by the clock", evaluate(t, g), W)
		clock.Advance(time.Second)
		want(t, "at the timeout by the clock", evaluate(t, g), F, "no decision within 1m0s")

		blocking := cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
			<-ctx.Done()
			return cutover.Verdict{}, context.Cause(ctx)
		})
		g = health.WithTimeout(time.Minute, blocking, clock)
		type result struct {
			v   cutover.Verdict
			err error
		}
		out := make(chan result, 1)
		go func() {
			v, err := g.Evaluate(t.Context())
			out <- result{v, err}
		}()
		synctest.Wait()
		select {
		case r := <-out:
			t.Fatalf("blocking gate returned before the clock moved: %v, %v", r.v, r.err)
		default:
		}
		clock.Advance(time.Minute)
		r := <-out
		if r.err != nil || r.v.Decision != F {
			t.Errorf("blocking gate after a minute by the clock: %v, %v; want a fail", r.v, r.err)
		}
	})
}

// brokenSource is a metric source that always errors.
type brokenSource struct{}

func (brokenSource) Metric(context.Context, providers.MetricQuery) (providers.MetricValue, error) {
	return providers.MetricValue{}, errors.New("throttled")
}

// TestNotKeepsFailClosed: a Fail that says "no evidence" (a source
// that keeps failing, no data under a fail policy, a deadline, a
// misconfigured decorator) must not be inverted into a Pass by Not.
func TestNotKeepsFailClosed(t *testing.T) {
	clock := func() cutover.Clock { return &minutes{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }
	mustThreshold := func(src providers.MetricSource, opts health.ThresholdOptions) cutover.Gate {
		opts.Clock = clock()
		opts.Retry = health.Retry{Attempts: 1}
		g, err := health.NewThreshold(src, "green", providers.MetricErrors, health.AtMost(10), opts)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	for _, tc := range []struct {
		name  string
		inner cutover.Gate
		polls int
	}{
		{"source fails", mustThreshold(brokenSource{}, health.ThresholdOptions{}), 1},
		{"no data, fail policy", mustThreshold(sums{}, health.ThresholdOptions{NoData: health.NoDataFail}), 1},
		{"pending past its deadline", mustThreshold(sums{}, health.ThresholdOptions{Deadline: time.Minute}), 2},
		{"misconfigured", health.All(), 1},
		{"misconfigured decorator", health.Consecutive(0, health.All()), 1},
		{"all with one that could not judge", health.All(seq("ok", cutover.Pass), mustThreshold(brokenSource{}, health.ThresholdOptions{})), 1},
		{"any where one could not judge", health.Any(seq("bad", cutover.Fail), mustThreshold(brokenSource{}, health.ThresholdOptions{})), 1},
		{"twice negated", health.Not(mustThreshold(brokenSource{}, health.ThresholdOptions{})), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inner cutover.Verdict
			for range tc.polls {
				inner = evaluate(t, tc.inner)
			}
			if inner.Decision != cutover.Fail {
				t.Fatalf("inner gate: %v, want a Fail", inner)
			}
			g := health.Not(tc.inner)
			var v cutover.Verdict
			for range tc.polls {
				v = evaluate(t, g)
			}
			if v.Decision == cutover.Pass {
				t.Errorf("Not over a gate that could not judge: %v, want Fail", v)
			}
		})
	}
	// A Fail on evidence is still inverted.
	src := sums{"green/errors": 42}
	v := evaluate(t, health.Not(mustThreshold(src, health.ThresholdOptions{})))
	want(t, "evidence", v, cutover.Pass)
}
