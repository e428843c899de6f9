package awsprovider_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/providertest"
)

var blueGreen = map[string]string{"blue": testBlueTG, "green": testGreenTG}

// newALB returns a fake ELB on 127.0.0.1 and a router on arn over it.
func newALB(t *testing.T, arn string, targets map[string]string, opts awsprovider.ALBOptions) (*fakeELB, *awsprovider.ALBRouter) {
	t.Helper()
	f := newFakeELB()
	for _, tg := range targets {
		f.addTG(tg)
	}
	r, err := awsprovider.NewALBRouter(f.client(wireServe(t, f)), arn, targets, opts)
	if err != nil {
		t.Fatalf("NewALBRouter: %v", err)
	}
	return f, r
}

func TestALBRouterConformance(t *testing.T) {
	t.Run("Listener", func(t *testing.T) {
		providertest.TestTrafficRouter(t, func(t *testing.T) (providers.TrafficRouter, []string) {
			_, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{})
			return r, []string{"blue", "green"}
		})
	})
	t.Run("RuleThreeTargets", func(t *testing.T) {
		providertest.TestTrafficRouter(t, func(t *testing.T) (providers.TrafficRouter, []string) {
			targets := map[string]string{"blue": testBlueTG, "green": testGreenTG, "teal": testTG("teal")}
			_, r := newALB(t, testRule, targets, awsprovider.ALBOptions{})
			return r, []string{"blue", "green", "teal"}
		})
	})
}

// TestALBRouterAPICalls counts the calls of a canary: every step one
// describe right before one write (the write's answer is the read-back:
// the router verifies its writes), a step to the weights in force no
// write, and a one-write rollback.
func TestALBRouterAPICalls(t *testing.T) {
	for _, tc := range []struct {
		name      string
		arn       string
		read, mod string
		opts      awsprovider.ALBOptions
		reads     int // describes per step
	}{
		{"Listener", testListener, "DescribeListeners", "ModifyListener", awsprovider.ALBOptions{}, 1},
		{"Rule", testRule, "DescribeRules", "ModifyRule", awsprovider.ALBOptions{}, 1},
		{"ListenerReadBack", testListener, "DescribeListeners", "ModifyListener", awsprovider.ALBOptions{ReadBack: true}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := newALB(t, tc.arn, blueGreen, tc.opts)
			if !r.VerifiesWrites() {
				t.Fatal("VerifiesWrites = false")
			}
			ctx := context.Background()
			step := func(w providers.Weights) map[string]int {
				t.Helper()
				before := f.snapshot()
				if err := r.SetWeights(ctx, w); err != nil {
					t.Fatalf("SetWeights(%v): %v", w, err)
				}
				return f.since(before)
			}
			for _, w := range []providers.Weights{{"blue": 90, "green": 10}, {"blue": 75, "green": 25}, {"blue": 50, "green": 50}} {
				got := step(w)
				if diff := cmp.Diff(map[string]int{tc.read: tc.reads, tc.mod: 1}, got); diff != "" {
					t.Errorf("step %v: calls (-want +got):\n%s", w, diff)
				}
				t.Logf("%s: canary step %v: %v", tc.name, w, got)
			}
			noop := step(providers.Weights{"blue": 50, "green": 50})
			if diff := cmp.Diff(map[string]int{tc.read: 1}, noop); diff != "" {
				t.Errorf("step to the weights in force: calls (-want +got):\n%s", diff)
			}
			rollback := step(providers.Weights{"blue": 100})
			if diff := cmp.Diff(map[string]int{tc.read: tc.reads, tc.mod: 1}, rollback, cmpNoZero); diff != "" {
				t.Errorf("rollback calls (-want +got):\n%s", diff)
			}
			t.Logf("%s: rollback: %v", tc.name, rollback)
		})
	}
}

// cmpNoZero treats a missing count as 0.
var cmpNoZero = cmp.Transformer("nozero", func(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
})

// TestALBRouterPreservesTheRest: a write changes only the weights of the
// router's target groups.
func TestALBRouterPreservesTheRest(t *testing.T) {
	other := testTG("shadow")
	t.Run("RuleConditionsStickinessOtherGroups", func(t *testing.T) {
		f, r := newALB(t, testRule, blueGreen, awsprovider.ALBOptions{})
		f.addTG(other)
		f.setActions(testRule, []xAction{{Type: "forward", Order: 1, ForwardConfig: &xForward{
			TargetGroups:                []xTuple{{testBlueTG, 100}, {other, 0}, {testGreenTG, 0}},
			TargetGroupStickinessConfig: &xStick{Enabled: true, DurationSeconds: 600},
		}}})
		before := f.rule(testRule)
		if err := r.SetWeights(context.Background(), providers.Weights{"blue": 80, "green": 20}); err != nil {
			t.Fatal(err)
		}
		after := f.rule(testRule)
		if diff := cmp.Diff(before.Conditions, after.Conditions); diff != "" {
			t.Errorf("conditions changed (-before +after):\n%s", diff)
		}
		want := xForward{
			TargetGroups:                []xTuple{{testBlueTG, 80}, {other, 0}, {testGreenTG, 20}},
			TargetGroupStickinessConfig: &xStick{Enabled: true, DurationSeconds: 600},
		}
		if diff := cmp.Diff(want, f.forward(testRule)); diff != "" {
			t.Errorf("forward config (-want +got):\n%s", diff)
		}
	})
	t.Run("ListenerOIDCThenForward", func(t *testing.T) {
		f, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{})
		oidc := &xOidc{Issuer: "https://idp.example", AuthorizationEndpoint: "https://idp.example/auth", TokenEndpoint: "https://idp.example/token",
			UserInfoEndpoint: "https://idp.example/user", ClientId: "client", clientSecret: "s3cret"}
		f.setActions(testListener, []xAction{
			{Type: "authenticate-oidc", Order: 1, AuthenticateOidcConfig: oidc},
			{Type: "forward", Order: 2, TargetGroupArn: testBlueTG},
		})
		if err := r.SetWeights(context.Background(), providers.Weights{"blue": 95, "green": 5}); err != nil {
			t.Fatal(err)
		}
		got := f.actions(testListener)
		if len(got) != 2 || got[0].AuthenticateOidcConfig == nil || got[0].AuthenticateOidcConfig.clientSecret != "s3cret" || got[0].Order != 1 {
			t.Errorf("authenticate action not kept with its secret: %+v", got)
		}
		if diff := cmp.Diff([]xTuple{{testBlueTG, 95}, {testGreenTG, 5}}, f.forward(testListener).TargetGroups); diff != "" {
			t.Errorf("target groups (-want +got):\n%s", diff)
		}
	})
}

// TestALBRouterRollbackStickiness: a rollback turns stickiness off (or
// writes RollbackStickiness) in the same single call; the user's
// stickiness comes back with the first write after its duration.
func TestALBRouterRollbackStickiness(t *testing.T) {
	hour := &xStick{Enabled: true, DurationSeconds: 3600}
	off := &xStick{Enabled: false}
	type step struct {
		after time.Duration // clock advance before the step
		w     providers.Weights
		stick *xStick
	}
	for _, tc := range []struct {
		name  string
		opts  awsprovider.ALBOptions
		steps []step
	}{
		{"Default", awsprovider.ALBOptions{}, []step{
			{0, providers.Weights{"blue": 90, "green": 10}, hour},
			{0, providers.Weights{"blue": 100}, off}, // rollback
			{time.Minute, providers.Weights{"blue": 90, "green": 10}, off},
			{time.Hour, providers.Weights{"blue": 50, "green": 50}, hour}, // an hour after the rollback
			{0, providers.Weights{"green": 100}, hour},                    // promotion drains blue: not a rollback
		}},
		{"RollbackAfterRetry", awsprovider.ALBOptions{}, []step{
			{0, providers.Weights{"blue": 90, "green": 10}, hour},
			{0, providers.Weights{"blue": 100}, off},
			{30 * time.Minute, providers.Weights{"blue": 90, "green": 10}, off},
			{0, providers.Weights{"blue": 100}, off}, // a second rollback starts the hour again
			{45 * time.Minute, providers.Weights{"blue": 90, "green": 10}, off},
			{15 * time.Minute, providers.Weights{"blue": 80, "green": 20}, hour},
		}},
		{"Shorten", awsprovider.ALBOptions{RollbackStickiness: &awsprovider.Stickiness{Enabled: true, Duration: 30 * time.Second}}, []step{
			{0, providers.Weights{"blue": 90, "green": 10}, hour},
			{0, providers.Weights{"blue": 100}, &xStick{Enabled: true, DurationSeconds: 30}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := cutover.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			tc.opts.Clock = clock
			f, r := newALB(t, testListener, blueGreen, tc.opts)
			for i, s := range tc.steps {
				clock.Advance(s.after)
				before := f.snapshot()
				if err := r.SetWeights(context.Background(), s.w); err != nil {
					t.Fatalf("step %d SetWeights(%v): %v", i, s.w, err)
				}
				if diff := cmp.Diff(map[string]int{"DescribeListeners": 1, "ModifyListener": 1}, f.since(before)); diff != "" {
					t.Errorf("step %d %v: calls (-want +got):\n%s", i, s.w, diff)
				}
				if diff := cmp.Diff(s.stick, f.forward(testListener).TargetGroupStickinessConfig); diff != "" {
					t.Errorf("step %d %v: stickiness (-want +got):\n%s", i, s.w, diff)
				}
			}
		})
	}
	t.Run("NeverTurnedOn", func(t *testing.T) {
		f, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{RollbackStickiness: &awsprovider.Stickiness{Enabled: true, Duration: 30 * time.Second}})
		acts := f.actions(testListener)
		acts[0].ForwardConfig.TargetGroupStickinessConfig = &xStick{Enabled: false}
		f.setActions(testListener, acts)
		for _, w := range []providers.Weights{{"blue": 90, "green": 10}, {"blue": 100}} {
			if err := r.SetWeights(context.Background(), w); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.forward(testListener).TargetGroupStickinessConfig; got == nil || got.Enabled {
			t.Errorf("a rollback turned stickiness on: %+v", got)
		}
	})
}

func TestALBRouterBadActions(t *testing.T) {
	shadow := []string{testTG("s1"), testTG("s2"), testTG("s3")}
	for _, tc := range []struct {
		name    string
		actions []xAction
		w       providers.Weights
		targets map[string]string
		want    string // in the error of SetWeights (and of Weights, if read)
	}{
		{"FixedResponse", []xAction{{Type: "fixed-response", Order: 1, FixedResponseConfig: &xFixed{StatusCode: "503"}}},
			providers.Weights{"blue": 100}, blueGreen, "action is fixed-response, not forward"},
		{"SixTargetGroups", []xAction{{Type: "forward", ForwardConfig: &xForward{TargetGroups: []xTuple{
			{testBlueTG, 100}, {testGreenTG, 0}, {shadow[0], 0}, {shadow[1], 0}, {shadow[2], 0}}}}},
			providers.Weights{"blue": 90, "teal": 10},
			map[string]string{"blue": testBlueTG, "green": testGreenTG, "teal": testTG("teal")},
			"would hold 6 target groups; an ALB forward action holds at most 5"},
		{"UnmanagedWeight", []xAction{{Type: "forward", ForwardConfig: &xForward{TargetGroups: []xTuple{
			{testBlueTG, 50}, {shadow[0], 50}}}}},
			providers.Weights{"blue": 100}, blueGreen, "has weight 50 but is not one of the router's targets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := newALB(t, testListener, tc.targets, awsprovider.ALBOptions{})
			for _, s := range shadow {
				f.addTG(s)
			}
			f.setActions(testListener, tc.actions)
			err := r.SetWeights(context.Background(), tc.w)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), testListener) {
				t.Fatalf("SetWeights error = %v, want one naming the listener and saying %q", err, tc.want)
			}
			if diff := cmp.Diff(tc.actions, f.actions(testListener), cmp.AllowUnexported(xOidc{})); diff != "" {
				t.Errorf("actions changed (-before +after):\n%s", diff)
			}
			if f.count("ModifyListener") != 0 {
				t.Errorf("%d ModifyListener calls, want none", f.count("ModifyListener"))
			}
		})
	}
	t.Run("NotWholePercentages", func(t *testing.T) {
		f, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{})
		f.setActions(testListener, []xAction{{Type: "forward", ForwardConfig: &xForward{TargetGroups: []xTuple{{testBlueTG, 1}, {testGreenTG, 2}}}}})
		if w, err := r.Weights(context.Background()); err == nil || !strings.Contains(err.Error(), "not whole percentages") {
			t.Errorf("Weights = %v, %v; want an error about whole percentages", w, err)
		}
	})
	t.Run("SingleTargetGroupArn", func(t *testing.T) {
		f, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{})
		f.setActions(testListener, []xAction{{Type: "forward", TargetGroupArn: testGreenTG}})
		w, err := r.Weights(context.Background())
		if err != nil || !w.Equal(providers.Weights{"green": 100}) {
			t.Errorf("Weights = %v, %v; want green=100", w, err)
		}
	})
	t.Run("DefaultRule", func(t *testing.T) {
		_, r := newALB(t, testDefRule, blueGreen, awsprovider.ALBOptions{})
		if _, err := r.Weights(context.Background()); err == nil || !strings.Contains(err.Error(), "default rule") {
			t.Errorf("Weights on the default rule: %v, want an error saying to use the listener", err)
		}
	})
}

func TestALBRouterBadWeights(t *testing.T) {
	f, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{})
	for _, tc := range []struct {
		name string
		w    providers.Weights
		want string
	}{
		{"Sum99", providers.Weights{"blue": 90, "green": 9}, "sum is 99, want 100"},
		{"Sum101", providers.Weights{"blue": 90, "green": 11}, "sum is 101, want 100"},
		{"Negative", providers.Weights{"blue": 110, "green": -10}, "outside 0–100"},
		{"Unknown", providers.Weights{"blue": 50, "teal": 50}, `unknown target "teal"`},
		{"Empty", providers.Weights{}, "no targets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.SetWeights(context.Background(), tc.w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SetWeights(%v) = %v, want an error saying %q", tc.w, err, tc.want)
			}
		})
	}
	if n := len(f.snapshot()); n != 0 {
		t.Errorf("bad weights made API calls: %v", f.snapshot())
	}
}

func TestNewALBRouterBadInput(t *testing.T) {
	f := newFakeELB()
	c := f.client(wireServe(t, f))
	nlb := strings.Replace(testListener, "/app/", "/net/", 1)
	west := strings.Replace(testGreenTG, "us-east-1", "us-west-2", 1)
	six := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		six[n] = testTG(n)
	}
	for _, tc := range []struct {
		name    string
		arn     string
		targets map[string]string
		opts    awsprovider.ALBOptions
		want    string
	}{
		{"NotAnARN", "listener/app/front/1/2", blueGreen, awsprovider.ALBOptions{}, "malformed ELB ARN"},
		{"WrongService", strings.Replace(testListener, "elasticloadbalancing", "ec2", 1), blueGreen, awsprovider.ALBOptions{}, "want elasticloadbalancing"},
		{"BadAccount", strings.Replace(testListener, testAccount, "12345", 1), blueGreen, awsprovider.ALBOptions{}, "account must be 12 digits"},
		{"TruncatedListener", testListener[:strings.LastIndex(testListener, "/")], blueGreen, awsprovider.ALBOptions{}, "has 5 parts"},
		{"TargetGroupAsListener", testBlueTG, blueGreen, awsprovider.ALBOptions{}, "want a listener or listener rule ARN"},
		{"NetworkLoadBalancer", nlb, blueGreen, awsprovider.ALBOptions{}, "not an Application Load Balancer"},
		{"NoTargets", testListener, nil, awsprovider.ALBOptions{}, "need at least one target group"},
		{"SixTargets", testListener, six, awsprovider.ALBOptions{}, "6 target groups, at most 5"},
		{"ListenerAsTarget", testListener, map[string]string{"blue": testListener}, awsprovider.ALBOptions{}, "want a target group ARN"},
		{"MalformedTarget", testListener, map[string]string{"blue": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue"}, awsprovider.ALBOptions{}, `target "blue"`},
		{"SameGroupTwice", testListener, map[string]string{"blue": testBlueTG, "b2": testBlueTG}, awsprovider.ALBOptions{}, "name the same target group"},
		{"EmptyName", testListener, map[string]string{"": testBlueTG}, awsprovider.ALBOptions{}, "empty target name"},
		{"OtherRegion", testListener, map[string]string{"blue": testBlueTG, "green": west}, awsprovider.ALBOptions{}, "in region us-west-2"},
		{"StickinessTooLong", testListener, blueGreen, awsprovider.ALBOptions{RollbackStickiness: &awsprovider.Stickiness{Enabled: true, Duration: 8 * 24 * time.Hour}}, "outside 1s–168h"},
		{"StickinessFraction", testListener, blueGreen, awsprovider.ALBOptions{RollbackStickiness: &awsprovider.Stickiness{Enabled: true, Duration: 1500 * time.Millisecond}}, "not whole seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := awsprovider.NewALBRouter(c, tc.arn, tc.targets, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewALBRouter = %v, %v; want an error saying %q", r, err, tc.want)
			}
		})
	}
	if _, err := awsprovider.NewALBRouter(nil, testListener, blueGreen, awsprovider.ALBOptions{}); err == nil {
		t.Error("NewALBRouter(nil client): nil error")
	}
}

// TestALBRouterRetries: throttling and 5xx answers are retried by the
// SDK's retryer; past its attempts the error still unwraps to the
// smithy.APIError.
func TestALBRouterRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     wireFault
		n         int
		wantCalls int
		wantCode  string // "" = success
	}{
		{"ThrottledTwice", faultThrottle, 2, 3, ""},
		{"ThrottledPastAttempts", faultThrottle, wireMaxAttempts, wireMaxAttempts, "Throttling"},
		{"InternalErrorOnce", faultInternal, 1, 2, ""},
		{"InternalErrorPastAttempts", faultInternal, wireMaxAttempts + 1, wireMaxAttempts, "InternalFailure"},
		{"NotRetried", wireFault{400, "TargetGroupNotFound", "gone"}, 1, 1, "TargetGroupNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{})
			f.fail("ModifyListener", tc.n, tc.fault)
			w := providers.Weights{"blue": 90, "green": 10}
			err := r.SetWeights(context.Background(), w)
			if got := f.count("ModifyListener"); got != tc.wantCalls {
				t.Errorf("ModifyListener calls = %d, want %d", got, tc.wantCalls)
			}
			got := f.forward(testListener).TargetGroups
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("SetWeights: %v", err)
				}
				if diff := cmp.Diff([]xTuple{{testBlueTG, 90}, {testGreenTG, 10}}, got); diff != "" {
					t.Errorf("weights after retries (-want +got):\n%s", diff)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
				t.Fatalf("SetWeights error %v: want a smithy.APIError %s", err, tc.wantCode)
			}
			if !strings.Contains(err.Error(), "ModifyListener") || !strings.Contains(err.Error(), testListener) {
				t.Errorf("error %q does not say what was done to which listener", err)
			}
			if diff := cmp.Diff([]xTuple{{testBlueTG, 100}, {testGreenTG, 0}}, got); diff != "" {
				t.Errorf("weights changed by a failed call (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("DescribeNotFound", func(t *testing.T) {
		f := newFakeELB()
		gone := strings.Replace(testListener, "f2f7dc8efc522ab2", "0000000000000000", 1)
		r, err := awsprovider.NewALBRouter(f.client(wireServe(t, f)), gone, blueGreen, awsprovider.ALBOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Weights(context.Background())
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ListenerNotFound" || !strings.Contains(err.Error(), gone) {
			t.Errorf("Weights of a missing listener: %v, want ListenerNotFound naming it", err)
		}
	})
}

// TestALBRouterReadBackMismatch: a write whose answer shows other weights
// is an error wrapping ErrReadBackMismatch; the next step finds weights
// the cutover did not write and is refused, and a rollback still goes
// through.
func TestALBRouterReadBackMismatch(t *testing.T) {
	f, r := newALB(t, testListener, blueGreen, awsprovider.ALBOptions{})
	f.mu.Lock()
	f.tamper = func(actions []xAction) { actions[0].ForwardConfig.TargetGroups[1].Weight = 0 }
	f.mu.Unlock()
	err := r.SetWeights(context.Background(), providers.Weights{"blue": 90, "green": 10})
	if !errors.Is(err, awsprovider.ErrReadBackMismatch) || !strings.Contains(err.Error(), "read back blue=100 green=0") {
		t.Fatalf("SetWeights with a tampering service: %v, want ErrReadBackMismatch", err)
	}
	f.mu.Lock()
	f.tamper = nil
	f.mu.Unlock()
	err = r.SetWeights(context.Background(), providers.Weights{"blue": 80, "green": 20})
	if !errors.Is(err, awsprovider.ErrConcurrentChange) {
		t.Fatalf("next step over weights nobody asked for: %v, want ErrConcurrentChange", err)
	}
	if err := r.SetWeights(context.Background(), providers.Weights{"blue": 100}); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if diff := cmp.Diff([]xTuple{{testBlueTG, 100}, {testGreenTG, 0}}, f.forward(testListener).TargetGroups); diff != "" {
		t.Errorf("after the rollback (-want +got):\n%s", diff)
	}
}

// TestALBRouterPacer: with a pacer of 2 calls a second (burst 1), five
// calls take at least two seconds.
func TestALBRouterPacer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeELB()
		r, err := awsprovider.NewALBRouter(f.client(wireInProcess(f)), testListener, blueGreen,
			awsprovider.ALBOptions{Pacer: awsprovider.NewPacer(2, 1)})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range 3 {
			if err := r.SetWeights(context.Background(), providers.Weights{"blue": 99 - i, "green": i + 1}); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.count("DescribeListeners") + f.count("ModifyListener"); got != 6 {
			t.Errorf("%d calls, want 6", got)
		}
		if el := time.Since(start); el < 2500*time.Millisecond {
			t.Errorf("6 calls at 2/s took %s, want ≥ 2.5s", el)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := r.SetWeights(ctx, providers.Weights{"blue": 100}); err == nil {
			t.Error("SetWeights with a cancelled context waiting on the pacer: nil error")
		}
	})
}
