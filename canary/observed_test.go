package canary_test

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/providers/providertest"
)

// TestObservedShare: with Observe set, a step whose traffic moved passes
// the check and the cutover completes; a step whose router said yes but
// whose traffic never moved fails closed naming expected and observed
// shares, and rolls back.
func TestObservedShare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		router func(t *testing.T, c *fake.Cloud) providers.TrafficRouter
		want   string // in the error; "" = completes
	}{
		{"Moved", func(_ *testing.T, c *fake.Cloud) providers.TrafficRouter { return c.Router("alb", "blue", "green") }, ""},
		// A router that accepts and reads back weights but never moves
		// traffic: the listener changed behind the cutover's back, a
		// router writing somewhere clients do not look.
		{"NeverMoved", func(t *testing.T, c *fake.Cloud) providers.TrafficRouter {
			c.Router("alb", "blue", "green")
			return providertest.NewRouter(t, "blue", "green")
		},
			"observed 0.0% of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cloud := fake.MustNew(fake.Options{Rate: 50})
				router := tc.router(t, cloud)
				c, err := canary.New(router, canary.Options{Steps: canary.Weights(5, 50, 100), Bake: time.Minute,
					Observe: cloud, ObserveDeadline: 5 * time.Minute, ObserveInterval: 10 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				plan, err := cutover.Sequence("observed", c)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, err = cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: 10 * time.Second}).Run(t.Context(), "c1", plan)
				if tc.want == "" {
					if err != nil {
						t.Fatalf("Run: %v", err)
					}
					return
				}
				if !errors.Is(err, canary.ErrTrafficNotMoved) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "want green=5%") {
					t.Fatalf("Run = %v, want ErrTrafficNotMoved naming the shares", err)
				}
				if el := time.Since(start); el < 5*time.Minute || el > 7*time.Minute {
					t.Errorf("failed after %s, want at the 5m deadline", el)
				}
			})
		})
	}
}

// TestObservedShareNeedsHealthyCanary: no weight goes on a canary with
// no healthy member.
func TestObservedShareNeedsHealthyCanary(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cloud := fake.MustNew(fake.Options{})
		router := cloud.Router("alb", "blue", "green")
		cloud.Fleet("green", 0)
		c, err := canary.New(router, canary.Options{Steps: canary.Weights(5, 100), TargetHealth: cloud})
		if err != nil {
			t.Fatal(err)
		}
		plan, _ := cutover.Sequence("healthy", c)
		_, err = cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{}).Run(t.Context(), "c1", plan)
		if !errors.Is(err, canary.ErrNoHealthyTarget) {
			t.Fatalf("Run = %v, want ErrNoHealthyTarget", err)
		}
		if w, _ := router.Weights(t.Context()); w["green"] != 0 {
			t.Errorf("weights %v: green got traffic", w)
		}
	})
}
