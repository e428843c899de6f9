package canary_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// laggingRouter is a TrafficRouter whose reads return the old weights for
// a number of reads after a change, like a DNS-based router while a change
// propagates. The fake cloud's routers are consistent at once.
type laggingRouter struct {
	mu     sync.Mutex
	w, old providers.Weights
	lag    int // reads that still see the old weights after a change
	stale  int
}

func newRouter() *fake.Router {
	return fake.MustNew(fake.Options{}).Router("alb", "blue", "green")
}

func (r *laggingRouter) SetWeights(_ context.Context, w providers.Weights) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.old, r.w, r.stale = r.w, w, r.lag
	return nil
}

func (r *laggingRouter) Weights(context.Context) (providers.Weights, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stale > 0 {
		r.stale--
		return r.old, nil
	}
	return r.w, nil
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts canary.Options
		want string // the error names this
	}{
		{"not increasing", canary.Options{Steps: canary.Weights(5, 25, 25, 100)}, "Options.Steps[2].Weight 25 does not increase"},
		{"decreasing", canary.Options{Steps: canary.Weights(50, 10)}, "Options.Steps[1].Weight 10 does not increase"},
		{"weight above 100", canary.Options{Steps: canary.Weights(5, 120)}, "Options.Steps[1].Weight 120 outside 1–100"},
		{"weight negative", canary.Options{Steps: canary.Weights(-5)}, "Options.Steps[0].Weight -5 outside 1–100"},
		{"weight zero", canary.Options{Steps: canary.Weights(0, 50)}, "Options.Steps[0].Weight 0 outside 1–100"},
		{"cap below first step", canary.Options{Steps: canary.Weights(10, 20), Cap: 5}, "Options.Cap 5 is below the first step 10"},
		{"cap below linear start", canary.Options{Linear: 10, Start: 30, Cap: 20}, "Options.Cap 20 is below the first step 30"},
		{"cap below exponential start", canary.Options{Factor: 2, Start: 30, Cap: 20}, "Options.Cap 20 is below the first step 30"},
		{"step above cap", canary.Options{Steps: canary.Weights(10, 60), Cap: 50}, "Options.Steps[1].Weight 60 exceeds Options.Cap 50"},
		{"cap above 100", canary.Options{Cap: 101}, "Options.Cap 101 outside 1–100"},
		{"cap negative", canary.Options{Cap: -1}, "Options.Cap -1 outside 1–100"},
		{"linear zero-or-less", canary.Options{Linear: -10}, "Options.Linear -10 outside 1–100"},
		{"linear too big", canary.Options{Linear: 200}, "Options.Linear 200 outside 1–100"},
		{"factor not growing", canary.Options{Factor: 0.5}, "Options.Factor 0.5"},
		{"factor one", canary.Options{Factor: 1}, "Options.Factor 1"},
		{"start without ramp", canary.Options{Start: 5}, "Options.Start needs Options.Linear or Options.Factor"},
		{"start out of range", canary.Options{Linear: 5, Start: 101}, "Options.Start 101 outside 1–100"},
		{"two schedules", canary.Options{Linear: 5, Factor: 2}, "set only one of Options.Steps, Options.Linear and Options.Factor"},
		{"same targets", canary.Options{Blue: "x", Green: "x"}, "Options.Blue and Options.Green are both \"x\""},
		{"negative bake", canary.Options{Bake: -time.Second}, "Options.Bake -1s"},
		{"negative step bake", canary.Options{Steps: []canary.Step{{Weight: 5, Bake: -1}}}, "Options.Steps[0].Bake"},
		{"negative deadline", canary.Options{Deadline: -time.Second}, "Options.Deadline"},
		{"deadline below bake", canary.Options{Bake: time.Hour, Deadline: time.Minute}, "Options.Deadline 1m0s is shorter than the bake 1h0m0s of step 0"},
		{"deadline below a step's bake", canary.Options{Steps: []canary.Step{{Weight: 5}, {Weight: 10, Bake: time.Hour}}, Deadline: time.Minute}, "of step 1 (10%)"},
		{"nil gate", canary.Options{Gates: []cutover.Gate{nil}}, "Options.Gates[0] is nil"},
		{"nil comparative gate", canary.Options{Comparative: []cutover.Gate{nil}}, "Options.Comparative[0] is nil"},
		{"nil background gate", canary.Options{Background: []cutover.Gate{nil}}, "Options.Background[0] is nil"},
		{"nil step gate", canary.Options{Steps: []canary.Step{{Weight: 5, Gates: []cutover.Gate{nil}}}}, "Options.Steps[0].Gates[0] is nil"},
		{"pause at unknown weight", canary.Options{PauseAt: []int{7}}, "Options.PauseAt 7: not a weight of the schedule [1 5 25 50 100]"},
		{"negative verify attempts", canary.Options{VerifyAttempts: -1}, "Options.VerifyAttempts"},
		{"negative verify interval", canary.Options{VerifyInterval: -1}, "Options.VerifyInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := canary.New(newRouter(), tt.opts)
			if err == nil {
				t.Fatalf("New(%+v) = %v, want an error naming %q", tt.opts, c.Schedule(), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := canary.New(nil, canary.Options{}); err == nil {
		t.Error("New(nil router) succeeded, want an error")
	}
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts canary.Options
		want []int
	}{
		{"default", canary.Options{}, []int{1, 5, 25, 50, 100}},
		{"default capped", canary.Options{Cap: 30}, []int{1, 5, 25, 30}},
		{"explicit", canary.Options{Steps: canary.Weights(10, 50, 100)}, []int{10, 50, 100}},
		{"explicit below cap", canary.Options{Steps: canary.Weights(10, 20), Cap: 50}, []int{10, 20}},
		{"linear", canary.Options{Linear: 25}, []int{25, 50, 75, 100}},
		{"linear uneven", canary.Options{Linear: 30}, []int{30, 60, 90, 100}},
		{"linear start and cap", canary.Options{Linear: 20, Start: 5, Cap: 50}, []int{5, 25, 45, 50}},
		{"linear single", canary.Options{Linear: 100}, []int{100}},
		{"exponential", canary.Options{Factor: 2}, []int{1, 2, 4, 8, 16, 32, 64, 100}},
		{"exponential slow start", canary.Options{Factor: 1.2, Start: 1, Cap: 5}, []int{1, 2, 3, 4, 5}},
		{"exponential capped", canary.Options{Factor: 5, Start: 1, Cap: 50}, []int{1, 5, 25, 50}},
		{"exponential start at cap", canary.Options{Factor: 3, Start: 10, Cap: 10}, []int{10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := canary.New(newRouter(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Schedule()); diff != "" {
				t.Errorf("Schedule() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScheduleProperty checks, over a seeded table of random
// configurations, that every schedule New accepts increases strictly, stays
// in 1–100, starts where asked and ends at the cap; and that applying its
// stages on a router moves the canary's weight monotonically up.
func TestScheduleProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for i := range 2000 {
		var opts canary.Options
		switch rng.IntN(3) {
		case 0:
			opts.Linear = rng.IntN(120) - 10
		case 1:
			opts.Factor = rng.Float64()*4 + 0.5
		case 2:
			n := rng.IntN(8) + 1
			for range n {
				opts.Steps = append(opts.Steps, canary.Step{Weight: rng.IntN(110) - 5})
			}
		}
		if opts.Steps == nil && rng.IntN(2) == 0 {
			opts.Start = rng.IntN(110) - 5
		}
		if rng.IntN(2) == 0 {
			opts.Cap = rng.IntN(110) - 5
		}
		r := newRouter()
		c, err := canary.New(r, opts)
		if err != nil {
			if !strings.Contains(err.Error(), "Options.") {
				t.Errorf("case %d %+v: error %q names no option", i, opts, err)
			}
			continue
		}
		accepted++
		ws := c.Schedule()
		capW := opts.Cap
		if capW == 0 {
			capW = 100
		}
		if len(ws) == 0 {
			t.Fatalf("case %d %+v: empty schedule", i, opts)
		}
		for j, w := range ws {
			if w < 1 || w > capW {
				t.Errorf("case %d %+v: weight %d outside 1–%d in %v", i, opts, w, capW, ws)
			}
			if j > 0 && w <= ws[j-1] {
				t.Errorf("case %d %+v: schedule %v does not increase at %d", i, opts, ws, j)
			}
		}
		if opts.Steps == nil && ws[len(ws)-1] != capW {
			t.Errorf("case %d %+v: generated schedule %v does not end at cap %d", i, opts, ws, capW)
		}
		if opts.Start > 0 && ws[0] != opts.Start {
			t.Errorf("case %d %+v: schedule %v does not start at %d", i, opts, ws, opts.Start)
		}
		stages, err := c.Stages()
		if err != nil {
			t.Fatal(err)
		}
		prev := 0
		for _, s := range stages {
			if err := s.Apply(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, _ := r.Weights(context.Background())
			if got["green"] <= prev || got["green"]+got["blue"] != 100 {
				t.Fatalf("case %d: after %q weights %s, previous green %d", i, s.Name, got, prev)
			}
			prev = got["green"]
		}
	}
	if accepted < 200 {
		t.Errorf("only %d of 2000 random configurations accepted; the generator tests too little", accepted)
	}
}

func TestStagesApplyVerifyRevert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cloud := fake.MustNew(fake.Options{})
	r := cloud.Router("alb", "blue", "green")
	gate := cutover.Named("errors", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
		return cutover.Verdict{Decision: cutover.Pass}, nil
	}))
	c, err := canary.New(r, canary.Options{
		Steps:   []canary.Step{{Weight: 5, Bake: time.Minute}, {Weight: 25}, {Weight: 50}, {Weight: 100}},
		Bake:    10 * time.Minute,
		Gates:   []cutover.Gate{gate},
		PauseAt: []int{50},
	})
	if err != nil {
		t.Fatal(err)
	}
	stages, err := c.Stages()
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Name  string
		Bake  time.Duration
		Gates int
		Pause bool
		Rev   cutover.ReversibilityKind
	}
	var got []summary
	for _, s := range stages {
		got = append(got, summary{s.Name, s.Bake, len(s.Gates), s.Pause, s.Reversibility.Kind})
	}
	want := []summary{
		{"canary 5%", time.Minute, 1, false, cutover.KindReversible},
		{"canary 25%", 10 * time.Minute, 1, false, cutover.KindReversible},
		{"canary 50%", 10 * time.Minute, 1, true, cutover.KindReversible},
		{"canary 100%", 10 * time.Minute, 1, false, cutover.KindReversible},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("stages mismatch (-want +got):\n%s", diff)
	}
	// Apply the first three steps, verifying each.
	for _, s := range stages[:3] {
		if err := s.Apply(ctx); err != nil {
			t.Fatalf("%s: Apply: %v", s.Name, err)
		}
		if err := s.Verify(ctx); err != nil {
			t.Fatalf("%s: Verify: %v", s.Name, err)
		}
	}
	if w, _ := r.Weights(ctx); !w.Equal(providers.Weights{"blue": 50, "green": 50}) {
		t.Fatalf("after 50%% step weights are %s", w)
	}
	// Apply is idempotent.
	if err := stages[2].Apply(ctx); err != nil {
		t.Fatal(err)
	}
	// The runner reverts applied stages in reverse order; all traffic goes
	// back to blue in the first revert, in one change, and the later
	// reverts change nothing.
	before := cloud.CallCount(fake.OpSetWeights)
	for i := 2; i >= 0; i-- {
		if err := stages[i].Revert(ctx); err != nil {
			t.Fatalf("%s: Revert: %v", stages[i].Name, err)
		}
		if w, _ := r.Weights(ctx); !w.Equal(providers.Weights{"blue": 100, "green": 0}) {
			t.Fatalf("after reverting %s weights are %s, want all on blue", stages[i].Name, w)
		}
	}
	if n := cloud.CallCount(fake.OpSetWeights) - before; n != 1 {
		t.Errorf("rollback made %d weight changes, want 1", n)
	}
}

func TestVerifyReadBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		lag     int
		wantErr string
	}{
		{"immediate", 0, ""},
		{"settles on the third read", 2, ""},
		{"never settles", 100, "read back weights blue=75 green=25: got blue=100 green=0 after 4 attempts: wait bound exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := &laggingRouter{w: providers.Weights{"blue": 100, "green": 0}, lag: tt.lag}
				c, err := canary.New(r, canary.Options{Steps: canary.Weights(25), VerifyAttempts: 4, VerifyInterval: 2 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				stages, _ := c.Stages()
				ctx := context.Background()
				if err := stages[0].Apply(ctx); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				err = stages[0].Verify(ctx)
				took := time.Since(start)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					if want := time.Duration(tt.lag) * 2 * time.Second; took != want {
						t.Errorf("Verify took %v, want %v", took, want)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, cutover.ErrWaitTimeout) {
					t.Fatalf("Verify error = %v, want %q wrapping ErrWaitTimeout", err, tt.wantErr)
				}
				if want := 3 * 2 * time.Second; took != want {
					t.Errorf("Verify gave up after %v, want %v (bounded)", took, want)
				}
			})
		})
	}
}

func TestVerifyHonoursContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := &laggingRouter{w: providers.Weights{"blue": 100, "green": 0}, lag: 100}
		c, err := canary.New(r, canary.Options{Steps: canary.Weights(25), VerifyAttempts: 100, VerifyInterval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		stages, _ := c.Stages()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		_ = stages[0].Apply(ctx)
		err = stages[0].Verify(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Verify error = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestApplyAndRevertErrors(t *testing.T) {
	t.Parallel()
	cloud := fake.MustNew(fake.Options{})
	r := cloud.Router("alb", "blue", "green")
	c, err := canary.New(r, canary.Options{Steps: canary.Weights(10)})
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := c.Stages()
	ctx := context.Background()
	if err := cloud.InjectFault(fake.Fault{Op: fake.OpSetWeights, Nth: 1, Err: fake.ErrThrottled}); err != nil {
		t.Fatal(err)
	}
	if err := stages[0].Apply(ctx); !errors.Is(err, fake.ErrThrottled) {
		t.Errorf("Apply error = %v, want the router's error", err)
	}
	if err := stages[0].Apply(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cloud.InjectFault(fake.Fault{Op: fake.OpSetWeights, Nth: 1, Err: fake.ErrThrottled}); err != nil {
		t.Fatal(err)
	}
	if err := stages[0].Revert(ctx); !errors.Is(err, fake.ErrThrottled) {
		t.Errorf("Revert error = %v, want the router's error", err)
	}
	// A lost response: the change took effect; the retried revert
	// confirms it without another change.
	_ = stages[0].Apply(ctx)
	if err := cloud.InjectFault(fake.Fault{Op: fake.OpSetWeights, Nth: 1, Err: fake.ErrTimeout, AfterEffect: true}); err != nil {
		t.Fatal(err)
	}
	if err := stages[0].Revert(ctx); !errors.Is(err, fake.ErrTimeout) {
		t.Errorf("Revert error = %v, want the lost response", err)
	}
	before := cloud.CallCount(fake.OpSetWeights)
	if err := stages[0].Revert(ctx); err != nil {
		t.Errorf("retried Revert: %v", err)
	}
	if n := cloud.CallCount(fake.OpSetWeights) - before; n != 0 {
		t.Errorf("retried Revert made %d weight changes, want 0", n)
	}
}

type countingGate struct {
	resets int
	final  bool
}

func (g *countingGate) Evaluate(context.Context) (cutover.Verdict, error) {
	return cutover.Verdict{Decision: cutover.Pass, Final: g.final}, nil
}
func (g *countingGate) Reset() { g.resets++ }

func TestBackgroundGates(t *testing.T) {
	t.Parallel()
	bg := &countingGate{final: true}
	step := &countingGate{final: true}
	c, err := canary.New(newRouter(), canary.Options{
		Steps:      canary.Weights(10, 50, 100),
		Gates:      []cutover.Gate{step},
		Background: []cutover.Gate{bg},
	})
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := c.Stages()
	for _, s := range stages {
		if len(s.Gates) != 2 {
			t.Fatalf("%s has %d gates, want the step gate and the background gate", s.Name, len(s.Gates))
		}
		// What the runner does when a stage starts baking.
		for _, g := range s.Gates {
			if r, ok := g.(cutover.Resetter); ok {
				r.Reset()
			}
		}
		v, err := s.Gates[1].Evaluate(context.Background())
		if err != nil || v.Final || v.Decision != cutover.Pass {
			t.Errorf("%s: background verdict %+v, %v; want a non-final pass", s.Name, v, err)
		}
		if name := cutover.GateName(s.Gates[1], 1); name != "background 0" {
			t.Errorf("background gate name %q", name)
		}
	}
	if bg.resets != 1 {
		t.Errorf("background gate reset %d times, want once (when the first step bakes)", bg.resets)
	}
	if step.resets != 3 {
		t.Errorf("step gate reset %d times, want once per step", step.resets)
	}
}

func TestComparativeGatesSkipFullTraffic(t *testing.T) {
	t.Parallel()
	judge := cutover.Named("judge", &countingGate{})
	c, err := canary.New(newRouter(), canary.Options{Steps: canary.Weights(10, 50, 100), Comparative: []cutover.Gate{judge}})
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := c.Stages()
	var got []int
	for _, s := range stages {
		got = append(got, len(s.Gates))
	}
	if diff := cmp.Diff([]int{1, 1, 0}, got); diff != "" {
		t.Errorf("gates per step (-want +got):\n%s", diff)
	}
}

// TestCapBelowDerivedStartNamesLinear: a linear ramp without Start starts
// at Linear, so a Cap below it is a conflict of Cap and Linear; the error
// must not blame Options.Start, which the caller never set.
func TestCapBelowDerivedStartNamesLinear(t *testing.T) {
	t.Parallel()
	_, err := canary.New(newRouter(), canary.Options{Linear: 50, Cap: 30})
	if err == nil {
		t.Fatal("New accepted Linear 50 with Cap 30")
	}
	if msg := err.Error(); !strings.Contains(msg, "Options.Linear") || strings.Contains(msg, "Options.Start") {
		t.Errorf("error %q: want it to name Options.Linear and not Options.Start", msg)
	}
}
