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
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// TestALBRouterKeepsOtherWriters: what another writer changes on the
// listener between two steps, outside the cutover's target groups, is in
// the listener after the next step, and the change is logged as drift.
func TestALBRouterKeepsOtherWriters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(a []awstest.Action) []awstest.Action
		check func(t *testing.T, got []awstest.Action)
		drift string
	}{
		{"StickinessOff", func(a []awstest.Action) []awstest.Action {
			a[0].ForwardConfig.TargetGroupStickinessConfig = &awstest.Stickiness{Enabled: false}
			return a
		}, func(t *testing.T, got []awstest.Action) {
			if s := got[0].ForwardConfig.TargetGroupStickinessConfig; s == nil || s.Enabled {
				t.Errorf("stickiness turned back on: %+v", s)
			}
		}, "stickiness: was on 3600s, now off"},
		{"AuthenticateAction", func(a []awstest.Action) []awstest.Action {
			a[0].Order = 2
			return append([]awstest.Action{{Type: "authenticate-oidc", Order: 1, AuthenticateOidcConfig: &awstest.OIDCConfig{
				Issuer: "https://idp.example.com", AuthorizationEndpoint: "https://idp.example.com/auth",
				TokenEndpoint: "https://idp.example.com/token", UserInfoEndpoint: "https://idp.example.com/me",
				ClientId: "app", ClientSecret: "s3cret"}}}, a...)
		}, func(t *testing.T, got []awstest.Action) {
			if len(got) != 2 || got[0].AuthenticateOidcConfig == nil || got[0].AuthenticateOidcConfig.ClientSecret != "s3cret" {
				t.Errorf("authenticate action lost: %+v", got)
			}
		}, "actions: were forward, now authenticate-oidc then forward"},
		{"ShadowTargetGroup", func(a []awstest.Action) []awstest.Action {
			fc := a[0].ForwardConfig
			fc.TargetGroups = append(fc.TargetGroups, awstest.Tuple{TargetGroupArn: awstest.TargetGroupARN("shadow"), Weight: 0})
			return a
		}, func(t *testing.T, got []awstest.Action) {
			if tgs := got[0].ForwardConfig.TargetGroups; len(tgs) != 3 || tgs[2] != (awstest.Tuple{TargetGroupArn: awstest.TargetGroupARN("shadow"), Weight: 0}) {
				t.Errorf("shadow target group lost: %+v", tgs)
			}
		}, "target group " + awstest.TargetGroupARN("shadow") + " added (weight 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.WarnLevel)
			f, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{Logger: zap.New(core)})
			f.AddTargetGroup(awstest.TargetGroupARN("shadow"))
			ctx := context.Background()
			if err := r.SetWeights(ctx, providers.Weights{"blue": 95, "green": 5}); err != nil {
				t.Fatal(err)
			}
			f.SetActions(awstest.ListenerARN, tc.edit(f.Actions(awstest.ListenerARN)))
			if err := r.SetWeights(ctx, providers.Weights{"blue": 75, "green": 25}); err != nil {
				t.Fatalf("step after another writer's change: %v", err)
			}
			got := f.Actions(awstest.ListenerARN)
			tc.check(t, got)
			fwd := f.Forward(awstest.ListenerARN)
			if diff := cmp.Diff([]awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 75}, {TargetGroupArn: awstest.GreenTG, Weight: 25}}, fwd.TargetGroups[:2]); diff != "" {
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
		edit func(a []awstest.Action)
		want string
	}{
		{"GreenRemoved", func(a []awstest.Action) {
			a[0].ForwardConfig.TargetGroups = []awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 100}}
		}, "targetgroup/green/4b8d2f4e9c1a7d35 (target \"green\") was removed from the forward action by another writer (weight was 5)"},
		{"WeightsSet", func(a []awstest.Action) {
			a[0].ForwardConfig.TargetGroups = []awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 50}, {TargetGroupArn: awstest.GreenTG, Weight: 50}}
		}, "(target \"blue\"): weight 50, set by another writer (the cutover last saw 95"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{})
			ctx := context.Background()
			if err := r.SetWeights(ctx, providers.Weights{"blue": 95, "green": 5}); err != nil {
				t.Fatal(err)
			}
			a := f.Actions(awstest.ListenerARN)
			tc.edit(a)
			f.SetActions(awstest.ListenerARN, a)
			edited := f.Forward(awstest.ListenerARN).TargetGroups
			for attempt := range 2 {
				before := f.Snapshot()
				err := r.SetWeights(ctx, providers.Weights{"blue": 75, "green": 25})
				if !errors.Is(err, awsprovider.ErrConcurrentChange) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("attempt %d: SetWeights = %v, want ErrConcurrentChange with %q", attempt, err, tc.want)
				}
				if n := f.Since(before)["ModifyListener"]; n != 0 {
					t.Errorf("attempt %d: %d writes, want none", attempt, n)
				}
			}
			if diff := cmp.Diff(edited, f.Forward(awstest.ListenerARN).TargetGroups); diff != "" {
				t.Errorf("the other writer's target groups changed (-want +got):\n%s", diff)
			}
			if err := r.SetWeights(ctx, providers.Weights{"blue": 100}); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			if diff := cmp.Diff([]awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 100}}, f.Forward(awstest.ListenerARN).TargetGroups[:1]); diff != "" {
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
				f := awstest.NewELB()
				r, err := awsprovider.NewALBRouter(f.Client(awstest.InProcess(f)), awstest.ListenerARN, blueGreen,
					awsprovider.ALBOptions{CallTimeout: 5 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				for _, w := range []providers.Weights{{"blue": 90, "green": 10}, {"blue": 100}} {
					f.HoldNext(op, 1)
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
				if n := f.Calls(op); n < 4 {
					t.Errorf("%s calls = %d, want the held ones retried", op, n)
				}
			})
		})
	}
	t.Run("BadTimeout", func(t *testing.T) {
		_, err := awsprovider.NewALBRouter(awstest.NewELB().Client(awstest.Endpoint{URL: "http://127.0.0.1:9"}), awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{CallTimeout: -time.Second})
		if err == nil || !strings.Contains(err.Error(), "CallTimeout: -1s is negative") {
			t.Errorf("negative CallTimeout: %v", err)
		}
	})
}
