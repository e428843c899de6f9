package rolling_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/rolling"
)

// world holds two hand-written fleets and checks the rolling invariants
// after every change: healthy capacity never below floor, desired never
// above ceiling. New members become healthy after lag capacity reads;
// shrinking removes healthy members first (the worst case).
type world struct {
	mu             sync.Mutex
	floor, ceiling int
	lag            int
	fleets         map[string]*fleet
	violations     []string
	minHealthy     int
	maxDesired     int
	weights        providers.Weights
	weightChanges  int
}

type fleet struct {
	w       *world
	name    string
	members []int // reads left until healthy; 0 = healthy
	failSet error
}

func newWorld(desired, floor, ceiling, lag int) *world {
	w := &world{floor: floor, ceiling: ceiling, lag: lag, fleets: map[string]*fleet{}, minHealthy: desired, maxDesired: desired,
		weights: providers.Weights{"blue": 100, "green": 0}}
	w.fleets["blue"] = &fleet{w: w, name: "blue", members: make([]int, desired)}
	w.fleets["green"] = &fleet{w: w, name: "green"}
	return w
}

func (w *world) checkLocked(what string) {
	h, d := 0, 0
	for _, f := range w.fleets {
		d += len(f.members)
		for _, m := range f.members {
			if m == 0 {
				h++
			}
		}
	}
	w.minHealthy = min(w.minHealthy, h)
	w.maxDesired = max(w.maxDesired, d)
	if h < w.floor {
		w.violations = append(w.violations, fmt.Sprintf("after %s: %d healthy < floor %d", what, h, w.floor))
	}
	if d > w.ceiling {
		w.violations = append(w.violations, fmt.Sprintf("after %s: %d desired > ceiling %d", what, d, w.ceiling))
	}
}

func (f *fleet) SetDesired(_ context.Context, n int) error {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	if f.failSet != nil {
		return f.failSet
	}
	if n < 0 {
		return errors.New("negative")
	}
	for len(f.members) < n {
		f.members = append(f.members, f.w.lag)
	}
	if len(f.members) > n {
		// Remove healthy members first: the worst case for the invariant.
		var healthy, unhealthy []int
		for _, m := range f.members {
			if m == 0 {
				healthy = append(healthy, m)
			} else {
				unhealthy = append(unhealthy, m)
			}
		}
		f.members = append(unhealthy, healthy...)[len(f.members)-n:]
	}
	f.w.checkLocked(fmt.Sprintf("%s→%d", f.name, n))
	return nil
}

func (f *fleet) Capacity(context.Context) (providers.Capacity, error) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	c := providers.Capacity{Desired: len(f.members), Running: len(f.members)}
	for i, m := range f.members {
		if m == 0 {
			c.Healthy++
		} else {
			f.members[i]--
		}
	}
	return c, nil
}

func (w *world) SetWeights(_ context.Context, ws providers.Weights) error {
	if err := ws.Validate(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.weights = ws
	w.weightChanges++
	return nil
}

func (w *world) Weights(context.Context) (providers.Weights, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.weights, nil
}

func (w *world) desired() (blue, green int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.fleets["blue"].members), len(w.fleets["green"].members)
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	f := newWorld(4, 0, 100, 0).fleets
	tests := []struct {
		name    string
		desired int
		opts    rolling.Options
		want    string
	}{
		{"zero desired", 0, rolling.Options{}, "desired 0 outside 1–1000000"},
		{"huge desired", 1 << 40, rolling.Options{}, "outside 1–1000000"},
		{"too many batches", 5000, rolling.Options{BatchSize: 1}, "make 5000 batches for desired 5000; at most 1000"},
		{"surge above desired", 4, rolling.Options{MaxSurge: 5}, "Options.MaxSurge 5 outside 0–4"},
		{"negative batch", 4, rolling.Options{BatchSize: -1}, "Options.BatchSize -1"},
		{"percent above 100", 4, rolling.Options{BatchPercent: 150}, "Options.BatchPercent 150 outside 1–100"},
		{"negative percent", 4, rolling.Options{BatchPercent: -5}, "Options.BatchPercent -5"},
		{"both batch sizes", 4, rolling.Options{BatchSize: 1, BatchPercent: 10}, "set only one of Options.BatchSize and Options.BatchPercent"},
		{"unavailable takes capacity to zero", 4, rolling.Options{MaxUnavailable: 4}, "Options.MaxUnavailable 4 would take healthy capacity to zero"},
		{"negative unavailable", 4, rolling.Options{MaxUnavailable: -1}, "Options.MaxUnavailable -1"},
		{"negative surge", 4, rolling.Options{MaxSurge: -1}, "Options.MaxSurge -1 outside"},
		{"nil gate", 4, rolling.Options{Gates: []cutover.Gate{nil}}, "Options.Gates[0] is nil"},
		{"negative bake", 4, rolling.Options{Bake: -1}, "Options.Bake"},
		{"negative timeout", 4, rolling.Options{ReadyTimeout: -1}, "Options.ReadyTimeout"},
		{"same names", 4, rolling.Options{Blue: "a", Green: "a"}, "both \"a\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := rolling.New(f["blue"], f["green"], tt.desired, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := rolling.New(nil, f["green"], 4, rolling.Options{}); err == nil {
		t.Error("New with a nil fleet succeeded")
	}
}

func TestBatches(t *testing.T) {
	t.Parallel()
	f := newWorld(1, 0, 100, 0).fleets
	tests := []struct {
		name    string
		desired int
		opts    rolling.Options
		want    []int
	}{
		{"default quarter", 8, rolling.Options{}, []int{2, 4, 6, 8}},
		{"count", 5, rolling.Options{BatchSize: 2}, []int{2, 4, 5}},
		{"percent rounds up", 10, rolling.Options{BatchPercent: 30}, []int{3, 6, 9, 10}},
		{"batch above desired", 3, rolling.Options{BatchSize: 10}, []int{3}},
		{"one", 1, rolling.Options{}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := rolling.New(f["blue"], f["green"], tt.desired, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r.Batches()); diff != "" {
				t.Errorf("Batches mismatch (-want +got):\n%s", diff)
			}
			stages, _ := r.Stages()
			if len(stages) != len(tt.want) || stages[0].Name != fmt.Sprintf("batch 1/%d", len(tt.want)) {
				t.Errorf("stages %d, first %q", len(stages), stages[0].Name)
			}
		})
	}
}

// TestCapacityInvariantProperty runs random configurations forward through
// every batch and back through every revert, and checks at every change
// that healthy capacity never falls below desired − max unavailable and
// desired capacity never rises above desired + max surge.
func TestCapacityInvariantProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 300 {
		desired := rng.IntN(12) + 1
		opts := rolling.Options{
			MaxSurge:       rng.IntN(min(4, desired+1)),
			MaxUnavailable: rng.IntN(desired),
			PollInterval:   time.Second,
			ReadyTimeout:   time.Hour,
		}
		if rng.IntN(2) == 0 {
			opts.BatchSize = rng.IntN(desired+2) + 1
		} else {
			opts.BatchPercent = rng.IntN(100) + 1
		}
		lag := rng.IntN(4)
		withRouter := rng.IntN(2) == 0
		name := fmt.Sprintf("case %d desired=%d %+v lag=%d", i, desired, opts, lag)
		synctest.Test(t, func(t *testing.T) {
			surge := opts.MaxSurge
			if surge == 0 && opts.MaxUnavailable == 0 {
				surge = -1 // defaults to the batch size; checked below
			}
			w := newWorld(desired, desired-opts.MaxUnavailable, 1<<30, lag)
			if withRouter {
				opts.Router = w
			}
			r, err := rolling.New(w.fleets["blue"], w.fleets["green"], desired, opts)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if surge < 0 {
				surge = r.Batches()[0]
			}
			w.ceiling = desired + surge
			stages, _ := r.Stages()
			ctx := context.Background()
			for k, s := range stages {
				if err := s.Apply(ctx); err != nil {
					t.Fatalf("%s: %s: Apply: %v", name, s.Name, err)
				}
				if err := s.Verify(ctx); err != nil {
					t.Fatalf("%s: %s: Verify: %v", name, s.Name, err)
				}
				g := r.Batches()[k]
				if b, gg := w.desired(); b != desired-g || gg != g {
					t.Fatalf("%s: after %s blue=%d green=%d, want %d/%d", name, s.Name, b, gg, desired-g, g)
				}
			}
			if withRouter {
				if got, _ := w.Weights(ctx); !got.Equal(providers.Weights{"blue": 0, "green": 100}) {
					t.Errorf("%s: weights at the end %s", name, got)
				}
			}
			for k := len(stages) - 1; k >= 0; k-- {
				if err := stages[k].Revert(ctx); err != nil {
					t.Fatalf("%s: %s: Revert: %v", name, stages[k].Name, err)
				}
			}
			if b, g := w.desired(); b != desired || g != 0 {
				t.Errorf("%s: after reverting all, blue=%d green=%d, want %d/0", name, b, g, desired)
			}
			if withRouter {
				if got, _ := w.Weights(ctx); !got.Equal(providers.Weights{"blue": 100, "green": 0}) {
					t.Errorf("%s: weights after revert %s", name, got)
				}
			}
			for _, v := range w.violations {
				t.Errorf("%s: %s", name, v)
			}
		})
	}
}

func TestWeightsFollowCapacity(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(4, 3, 5, 1)
		r, err := rolling.New(w.fleets["blue"], w.fleets["green"], 4, rolling.Options{BatchSize: 2, MaxSurge: 1, MaxUnavailable: 1, Router: w, PollInterval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		stages, _ := r.Stages()
		ctx := context.Background()
		var got []string
		for _, s := range stages {
			if err := s.Apply(ctx); err != nil {
				t.Fatal(err)
			}
			ws, _ := w.Weights(ctx)
			got = append(got, ws.String())
		}
		want := []string{"blue=50 green=50", "blue=0 green=100"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("weights after each batch (-want +got):\n%s", diff)
		}
		if len(w.violations) > 0 {
			t.Errorf("violations: %v", w.violations)
		}
	})
}

func TestStuckFailsClosed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// Green never becomes healthy: the wait is bounded and blue is
		// never shrunk below the floor.
		w := newWorld(4, 4, 5, 1<<30)
		r, err := rolling.New(w.fleets["blue"], w.fleets["green"], 4, rolling.Options{BatchSize: 1, MaxSurge: 1, ReadyTimeout: time.Minute, PollInterval: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		stages, _ := r.Stages()
		start := time.Now()
		err = stages[0].Apply(context.Background())
		if err == nil || !strings.Contains(err.Error(), "green: wait for 1 healthy: still 0 of 1 healthy") {
			t.Fatalf("Apply error = %v, want a bounded wait for green", err)
		}
		if took := time.Since(start); took > time.Minute+5*time.Second {
			t.Errorf("Apply gave up after %v, want about 1m", took)
		}
		if b, _ := w.desired(); b != 4 {
			t.Errorf("blue shrank to %d while green was unhealthy", b)
		}
		if len(w.violations) > 0 {
			t.Errorf("violations: %v", w.violations)
		}
	})
}

func TestSetDesiredError(t *testing.T) {
	t.Parallel()
	w := newWorld(2, 0, 10, 0)
	w.fleets["green"].failSet = errors.New("throttled")
	r, err := rolling.New(w.fleets["blue"], w.fleets["green"], 2, rolling.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := r.Stages()
	if err := stages[0].Apply(context.Background()); err == nil || !strings.Contains(err.Error(), "scale green to 1: throttled") {
		t.Errorf("Apply error = %v", err)
	}
}
