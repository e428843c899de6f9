package canary_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
)

// With Propagation (a DNS TTL), a step's gates are judged only once clients
// can follow the new weights: the first evaluation of each step's gate
// comes Propagation after the step was applied, and its name is kept.
func TestPropagationHoldsGates(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const ttl = 60 * time.Second
		cloud := fake.MustNew(fake.Options{})
		r53 := cloud.Router("dns", "blue", "green")
		var mu sync.Mutex
		first := map[int]time.Time{} // step weight → first evaluation
		step := 0
		g := cutover.Named("5xx", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			mu.Lock()
			defer mu.Unlock()
			if _, ok := first[step]; !ok {
				first[step] = time.Now()
			}
			return cutover.Verdict{Decision: cutover.Pass, Reason: "0.1%"}, nil
		}))
		c, err := canary.New(r53, canary.Options{Steps: canary.Weights(10, 100), Bake: 2 * time.Minute, Gates: []cutover.Gate{g}, Propagation: ttl})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := cutover.Sequence("dns", c)
		if err != nil {
			t.Fatal(err)
		}
		applied := map[int]time.Time{}
		var names []string
		obs := cutover.ObserverFunc(func(e cutover.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Type {
			case cutover.EvStageApplied:
				step = e.Index
				applied[e.Index] = e.Time
			case cutover.EvGateJudged:
				names = append(names, e.Gate)
			}
		})
		r := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: 10 * time.Second, Observer: obs})
		if _, err := r.Run(t.Context(), "dns", plan); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range 2 {
			if got := first[i].Sub(applied[i]); got < ttl {
				t.Errorf("step %d: gate first judged %v after the weight change, want ≥ %v", i, got, ttl)
			}
		}
		for _, n := range names {
			if n != "5xx" {
				t.Fatalf("gate reported as %q, want its own name 5xx", n)
			}
		}
	})
}

func TestPropagationLongerThanBakeIsRefused(t *testing.T) {
	t.Parallel()
	cloud := fake.MustNew(fake.Options{})
	_, err := canary.New(cloud.Router("dns", "blue", "green"), canary.Options{Bake: 30 * time.Second, Propagation: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "Options.Propagation") || !strings.Contains(err.Error(), "Options.Bake") {
		t.Fatalf("err %v, want one naming Options.Bake and Options.Propagation", err)
	}
	if _, err := canary.New(cloud.Router("dns", "blue", "green"), canary.Options{Propagation: -time.Second}); err == nil || !strings.Contains(err.Error(), "Options.Propagation") {
		t.Fatalf("negative propagation: err %v", err)
	}
}
