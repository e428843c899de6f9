package awsprovider_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

// TestALBRouterKeepsOtherWriters: what another writer changes on the
// listener between two steps, outside the cutover's target groups, is in
// the listener after the next step, and the change is logged as drift.
func TestALBRouterKeepsOtherWriters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(a []xAction) []xAction
		check func(t *testing.T, got []xAction)
		drift string
	}{
		{"StickinessOff", func(a []xAction) []xAction {
			a[0].ForwardConfig.TargetGroupStickinessConfig = &xStick{Enabled: false}
			return a
		}, func(t *testing.T, got []xAction) {
			if s := got[0].ForwardConfig.TargetGroupStickinessConfig; s == nil || s.Enabled {
				t.Errorf("stickiness turned back on: %+v", s)
			}
		}, "stickiness: was on 3600s, now off"},
		{"AuthenticateAction", func(a []xAction) []xAction {
			a[0].Order = 2
			return append([]xAction{{Type: "authenticate-oidc", Order: 1, AuthenticateOidcConfig: &xOidc{
				Issuer: "https://idp.example.com", AuthorizationEndpoint: "https://idp.example.com/auth",
				TokenEndpoint: "https://idp.example.com/token", UserInfoEndpoint: "https://idp.example.com/me",
				ClientId: "app", clientSecret: "s3cret"}}}, a...)
		}, func(t *testing.T, got []xAction) {
			if len(got) != 2 || got[0].AuthenticateOidcConfig == nil || got[0].AuthenticateOidcConfig.clientSecret != "s3cret" {
				t.Errorf("authenticate action lost: %+v", got)
			}
		}, "actions: were forward, now authenticate-oidc then forward"},
		{"ShadowTargetGroup", func(a []xAction) []xAction {
			fc := a[0].ForwardConfig
			fc.TargetGroups = append(fc.TargetGroups, xTuple{testTG("shadow"), 0})
			return a
		}, func(t *testing.T, got []xAction) {
			if tgs := got[0].ForwardConfig.TargetGroups; len(tgs) != 3 || tgs[2] != (xTuple{testTG("shadow"), 0}) {
				t.Errorf("shadow target group lost: %+v", tgs)
			}
		}, "target group " + testTG("shadow") + " added (weight 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.WarnLevel)
			f, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{Logger: zap.New(core)})
			f.addTG(testTG("shadow"))
			ctx := context.Background()
			if err := r.SetWeights(ctx, providers.Weights{"blue": 95, "green": 5}); err != nil {
				t.Fatal(err)
			}
			f.setActions(testListener, tc.edit(f.actions(testListener)))
			if err := r.SetWeights(ctx, providers.Weights{"blue": 75, "green": 25}); err != nil {
				t.Fatalf("step after another writer's change: %v", err)
			}
			got := f.actions(testListener)
			tc.check(t, got)
			fwd := f.forward(testListener)
			if diff := cmp.Diff([]xTuple{{testBlueTG, 75}, {testGreenTG, 25}}, fwd.TargetGroups[:2]); diff != "" {
				t.Errorf("weights (-want +got):\n%s", diff)
			}
			var drift []string
			for _, e := range logs.FilterMessage("drift").All() {
				drift = append(drift, e.ContextMap()["what"].(string))
			}
			if len(drift) != 1 || !strings.Contains(drift[0], tc.drift) {
				t.Errorf("drift logged %q, want one naming %q", drift, tc.drift)
			}
		})
	}
}

// TestALBRouterRefusesChangesToItsTargets: another writer removing a
// target group of the cutover, or setting its weights, refuses the next
// step (and a retry of it) with an error naming the field and values; a
// rollback is still written.
func TestALBRouterRefusesChangesToItsTargets(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(a []xAction)
		want string
	}{
		{"GreenRemoved", func(a []xAction) {
			a[0].ForwardConfig.TargetGroups = []xTuple{{testBlueTG, 100}}
		}, "targetgroup/green/4b8d2f4e9c1a7d35 (target \"green\") was removed from the forward action by another writer (weight was 5)"},
		{"WeightsSet", func(a []xAction) {
			a[0].ForwardConfig.TargetGroups = []xTuple{{testBlueTG, 50}, {testGreenTG, 50}}
		}, "(target \"blue\"): weight 50, set by another writer (the cutover last saw 95"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{})
			ctx := context.Background()
			if err := r.SetWeights(ctx, providers.Weights{"blue": 95, "green": 5}); err != nil {
				t.Fatal(err)
			}
			a := f.actions(testListener)
			tc.edit(a)
			f.setActions(testListener, a)
			edited := f.forward(testListener).TargetGroups
			for attempt := range 2 {
				before := f.snapshot()
				err := r.SetWeights(ctx, providers.Weights{"blue": 75, "green": 25})
				if !errors.Is(err, awsprovider.ErrConcurrentChange) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("attempt %d: SetWeights = %v, want ErrConcurrentChange with %q", attempt, err, tc.want)
				}
				if n := f.since(before)["ModifyListener"]; n != 0 {
					t.Errorf("attempt %d: %d writes, want none", attempt, n)
				}
			}
			if diff := cmp.Diff(edited, f.forward(testListener).TargetGroups); diff != "" {
				t.Errorf("the other writer's target groups changed (-want +got):\n%s", diff)
			}
			if err := r.SetWeights(ctx, providers.Weights{"blue": 100}); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			if diff := cmp.Diff([]xTuple{{testBlueTG, 100}}, f.forward(testListener).TargetGroups[:1]); diff != "" {
				t.Errorf("after the rollback (-want +got):\n%s", diff)
			}
		})
	}
}

// TestALBRouterHeldCall: a ModifyListener held by the service is
// abandoned after CallTimeout and retried by the SDK's retryer, so the
// step converges in about one timeout; the forward and the revert path
// alike.
func TestALBRouterHeldCall(t *testing.T) {
	for _, op := range []string{"ModifyListener", "DescribeListeners"} {
		t.Run(op, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeELB()
				r, err := awsprovider.NewALBRouter(f.client(wireInProcess(f)), testListener, blueGreen,
					awsprovider.ALBOptions{CallTimeout: 5 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				for _, w := range []providers.Weights{{"blue": 90, "green": 10}, {"blue": 100}} {
					f.holdNext(op, 1)
					start := time.Now()
					if err := r.SetWeights(ctx, w); err != nil {
						t.Fatalf("SetWeights(%v) with a held %s: %v", w, op, err)
					}
					if el := time.Since(start); el < 5*time.Second || el > 10*time.Second {
						t.Errorf("SetWeights(%v) took %s, want one call timeout (5s)", w, el)
					}
					got, err := r.Weights(ctx)
					if err != nil || !got.Equal(w) {
						t.Errorf("Weights = %v, %v; want %v", got, err, w)
					}
				}
				if n := f.count(op); n < 4 {
					t.Errorf("%s calls = %d, want the held ones retried", op, n)
				}
			})
		})
	}
	t.Run("BadTimeout", func(t *testing.T) {
		_, err := awsprovider.NewALBRouter(newFakeELB().client(wireHTTP{url: "http://127.0.0.1:9"}), testListener, blueGreen, awsprovider.ALBOptions{CallTimeout: -time.Second})
		if err == nil || !strings.Contains(err.Error(), "CallTimeout: -1s is negative") {
			t.Errorf("negative CallTimeout: %v", err)
		}
	})
}
