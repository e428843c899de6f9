package bluegreen_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

var pass = cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
	return cutover.Verdict{Decision: cutover.Pass}, nil
})

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	c := fake.MustNew(fake.Options{})
	tests := []struct {
		name string
		opts bluegreen.Options
		want string
	}{
		{"two ways to switch", bluegreen.Options{Switcher: c.Switcher("sw", "blue", "green"), Router: c.Router("alb", "blue", "green")}, "set only one of Options.Switcher and Options.Router"},
		{"same names", bluegreen.Options{Blue: "x", Green: "x"}, "Options.Blue and Options.Green are both \"x\""},
		{"negative capacity", bluegreen.Options{Capacity: -1}, "Options.Capacity -1"},
		{"green fleet unsized", bluegreen.Options{GreenFleet: c.Fleet("green", 0)}, "Options.GreenFleet needs Options.BlueFleet or Options.Capacity"},
		{"negative warm window", bluegreen.Options{Window: -time.Hour}, "Options.Window -1h0m0s"},
		{"negative bake", bluegreen.Options{Bake: -1}, "Options.Bake"},
		{"negative pre-switch bake", bluegreen.Options{PreSwitchBake: -1}, "Options.PreSwitchBake"},
		{"negative ready timeout", bluegreen.Options{ReadyTimeout: -1}, "Options.ReadyTimeout"},
		{"negative verify attempts", bluegreen.Options{VerifyAttempts: -1}, "Options.VerifyAttempts"},
		{"nil gate", bluegreen.Options{Gates: []cutover.Gate{nil}}, "Options.Gates[0] is nil"},
		{"nil pre-switch gate", bluegreen.Options{PreSwitchGates: []cutover.Gate{pass, nil}}, "Options.PreSwitchGates[1] is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := bluegreen.New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSwitchNeedsSwitcherOrRouter(t *testing.T) {
	t.Parallel()
	bg, err := bluegreen.New(bluegreen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const want = "switching needs Options.Switcher or Options.Router"
	if _, err := bg.Stages(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Stages error = %v, want %q", err, want)
	}
	if _, err := cutover.Sequence("p", bg.Switch()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Sequence(Switch) error = %v, want %q", err, want)
	}
	// Prepare and Finish need no way to switch.
	if _, err := cutover.Sequence("p", bg.Prepare(), bg.Finish()); err != nil {
		t.Errorf("Sequence(Prepare, Finish): %v", err)
	}
}

type stageSummary struct {
	Name     string
	Rev      string
	Bake     time.Duration
	Gates    int
	Approval bool
}

func summarize(stages []cutover.Stage) []stageSummary {
	var out []stageSummary
	for _, s := range stages {
		out = append(out, stageSummary{s.Name, s.Reversibility.String(), s.Bake, len(s.Gates), s.Approval})
	}
	return out
}

func TestStagesAndAnalysis(t *testing.T) {
	t.Parallel()
	c := fake.MustNew(fake.Options{})
	bg, err := bluegreen.New(bluegreen.Options{
		BlueFleet:      c.Fleet("blue", 4),
		GreenFleet:     c.Fleet("green", 0),
		Switcher:       c.Switcher("cname", "blue", "green"),
		PreSwitchGates: []cutover.Gate{pass},
		Gates:          []cutover.Gate{pass},
		Bake:           10 * time.Minute,
		Window:         time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := cutover.Sequence("bg", bg)
	if err != nil {
		t.Fatal(err)
	}
	want := []stageSummary{
		{"prepare green", "reversible", 0, 1, false},
		{"switch to green", "reversible", 10 * time.Minute, 1, false},
		{"keep blue warm", "reversible", time.Hour, 1, false},
		{"retire blue", "irreversible", 0, 0, true},
	}
	if diff := cmp.Diff(want, summarize(plan.Stages)); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	a := plan.Analyze()
	if a.PNRStage != bluegreen.StageRetire || a.PNRIndex != 3 || len(a.Findings) != 0 {
		t.Errorf("Analyze = PNR %q at %d, findings %+v; want %q at 3 and no findings", a.PNRStage, a.PNRIndex, a.Findings, bluegreen.StageRetire)
	}
}

func TestComposedWithCanary(t *testing.T) {
	t.Parallel()
	c := fake.MustNew(fake.Options{})
	alb := c.Router("alb", "blue", "green")
	bg, err := bluegreen.New(bluegreen.Options{BlueFleet: c.Fleet("blue", 4), GreenFleet: c.Fleet("green", 0), Router: alb, Gates: []cutover.Gate{pass}})
	if err != nil {
		t.Fatal(err)
	}
	shift, err := canary.New(alb, canary.Options{Steps: canary.Weights(5, 50, 100), Gates: []cutover.Gate{pass}})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := cutover.Sequence("migration", bg.Prepare(), shift, bg.Finish())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range plan.Stages {
		names = append(names, s.Name)
	}
	wantNames := []string{"prepare green", "canary 5%", "canary 50%", "canary 100%", "keep blue warm", "retire blue"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("stage names (-want +got):\n%s", diff)
	}
	a := plan.Analyze()
	if a.PNRStage != "retire blue" || len(a.Findings) != 0 {
		t.Errorf("Analyze: PNR %q, findings %+v; want retire blue, none", a.PNRStage, a.Findings)
	}
	if a.ReversibleStages != 5 {
		t.Errorf("ReversibleStages = %d, want 5", a.ReversibleStages)
	}
}

func TestApplyRevertOnFakeCloud(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"switcher", "router"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				c := fake.MustNew(fake.Options{WarmUp: 45 * time.Second})
				blue, green := c.Fleet("blue", 3), c.Fleet("green", 0)
				opts := bluegreen.Options{BlueFleet: blue, GreenFleet: green, PollInterval: 10 * time.Second}
				var active func() string
				if mode == "switcher" {
					sw := c.Switcher("cname", "blue", "green")
					opts.Switcher = sw
					active = func() string { a, _ := sw.Active(ctx); return a }
				} else {
					alb := c.Router("alb", "blue", "green")
					opts.Router = alb
					active = func() string {
						w, _ := alb.Weights(ctx)
						switch {
						case w.Equal(providers.Weights{"blue": 100}):
							return "blue"
						case w.Equal(providers.Weights{"green": 100}):
							return "green"
						}
						return w.String()
					}
				}
				bg, err := bluegreen.New(opts)
				if err != nil {
					t.Fatal(err)
				}
				stages, err := bg.Stages()
				if err != nil {
					t.Fatal(err)
				}
				prepare, sw, warm, retire := stages[0], stages[1], stages[2], stages[3]

				start := time.Now()
				if err := prepare.Apply(ctx); err != nil {
					t.Fatalf("prepare: %v", err)
				}
				if cp, _ := green.Capacity(ctx); cp.Desired != 3 || cp.Healthy != 3 {
					t.Errorf("green after prepare: %+v, want 3 healthy", cp)
				}
				if took := time.Since(start); took < 45*time.Second || took > 60*time.Second {
					t.Errorf("prepare took %v, want the warm-up (45s) rounded up to a poll", took)
				}
				// Retiring blue while it takes traffic fails closed.
				if err := retire.Apply(ctx); err == nil {
					t.Error("retire before the switch succeeded")
				}
				if cp, _ := blue.Capacity(ctx); cp.Desired != 3 {
					t.Errorf("blue desired %d after a refused retire", cp.Desired)
				}
				for _, s := range []cutover.Stage{sw, warm} {
					if err := s.Apply(ctx); err != nil {
						t.Fatalf("%s: Apply: %v", s.Name, err)
					}
					if err := s.Verify(ctx); err != nil {
						t.Fatalf("%s: Verify: %v", s.Name, err)
					}
				}
				if a := active(); a != "green" {
					t.Errorf("after switch, traffic on %s", a)
				}
				// Roll back: the runner reverts in reverse order.
				for _, s := range []cutover.Stage{warm, sw, prepare} {
					if err := s.Revert(ctx); err != nil {
						t.Fatalf("%s: Revert: %v", s.Name, err)
					}
				}
				if a := active(); a != "blue" {
					t.Errorf("after rollback, traffic on %s", a)
				}
				if cp, _ := green.Capacity(ctx); cp.Desired != 0 {
					t.Errorf("green after rollback: %+v, want 0", cp)
				}
				// Forward again to the end.
				for _, s := range stages {
					if err := s.Apply(ctx); err != nil {
						t.Fatalf("%s: Apply: %v", s.Name, err)
					}
				}
				if cp, _ := blue.Capacity(ctx); cp.Desired != 0 {
					t.Errorf("blue after retire: %+v, want 0", cp)
				}
				if a := active(); a != "green" {
					t.Errorf("at the end, traffic on %s", a)
				}
			})
		})
	}
}

func TestPrepareWaitIsBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := fake.MustNew(fake.Options{WarmUp: time.Hour})
		bg, err := bluegreen.New(bluegreen.Options{BlueFleet: c.Fleet("blue", 2), GreenFleet: c.Fleet("green", 0), ReadyTimeout: 2 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		stages, _ := cutover.Sequence("p", bg.Prepare())
		start := time.Now()
		err = stages.Stages[0].Apply(t.Context())
		if err == nil || !strings.Contains(err.Error(), "wait for 2 healthy: still 0 of 2 healthy") {
			t.Fatalf("prepare error = %v", err)
		}
		if took := time.Since(start); took != 2*time.Minute {
			t.Errorf("gave up after %v, want 2m", took)
		}
	})
}

func TestCustomRetireAndErrors(t *testing.T) {
	t.Parallel()
	c := fake.MustNew(fake.Options{})
	sw := c.Switcher("cname", "blue", "green")
	var retired bool
	bg, err := bluegreen.New(bluegreen.Options{Switcher: sw, Retire: func(context.Context) error { retired = true; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := bg.Stages()
	ctx := context.Background()
	for _, s := range stages {
		if err := s.Apply(ctx); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
	}
	if !retired {
		t.Error("custom Retire not called")
	}
	// A switch the provider refuses is reported.
	if err := c.InjectFault(fake.Fault{Op: fake.OpSwitch, Err: fake.ErrThrottled}); err != nil {
		t.Fatal(err)
	}
	if err := stages[1].Revert(ctx); !errors.Is(err, fake.ErrThrottled) {
		t.Errorf("Revert error = %v, want ErrThrottled", err)
	}
	// Without a fleet or Retire there is no retire stage and no PNR.
	bg2, _ := bluegreen.New(bluegreen.Options{Switcher: sw})
	p, err := cutover.Sequence("p", bg2)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.Stages); n != 3 || p.Analyze().PNRIndex != -1 {
		t.Errorf("without a retire: %d stages, PNR %d", n, p.Analyze().PNRIndex)
	}
}
