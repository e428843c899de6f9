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
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/providertest"
)

var blueGreen = map[string]string{"blue": awstest.BlueTG, "green": awstest.GreenTG}

// newALB returns a fake ELB on 127.0.0.1 and a router on arn over it.
func newALB(t *testing.T, arn string, targets map[string]string, opts awsprovider.ALBOptions) (*awstest.ELB, *awsprovider.ALBRouter) {
	t.Helper()
	f := awstest.NewELB()
	for _, tg := range targets {
		f.AddTargetGroup(tg)
	}
	r, err := awsprovider.NewALBRouter(f.Client(awstest.Serve(t, f)), arn, targets, opts)
	if err != nil {
		t.Fatalf("NewALBRouter: %v", err)
	}
	return f, r
}

func TestALBRouterConformance(t *testing.T) {
	t.Run("Listener", func(t *testing.T) {
		providertest.TestTrafficRouter(t, func(t *testing.T) (providers.TrafficRouter, []string) {
			_, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{})
			return r, []string{"blue", "green"}
		})
	})
	t.Run("RuleThreeTargets", func(t *testing.T) {
		providertest.TestTrafficRouter(t, func(t *testing.T) (providers.TrafficRouter, []string) {
			targets := map[string]string{"blue": awstest.BlueTG, "green": awstest.GreenTG, "teal": awstest.TargetGroupARN("teal")}
			_, r := newALB(t, awstest.RuleARN, targets, awsprovider.ALBOptions{})
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
		{"Listener", awstest.ListenerARN, "DescribeListeners", "ModifyListener", awsprovider.ALBOptions{}, 1},
		{"Rule", awstest.RuleARN, "DescribeRules", "ModifyRule", awsprovider.ALBOptions{}, 1},
		{"ListenerReadBack", awstest.ListenerARN, "DescribeListeners", "ModifyListener", awsprovider.ALBOptions{ReadBack: true}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := newALB(t, tc.arn, blueGreen, tc.opts)
			if !r.VerifiesWrites() {
				t.Fatal("VerifiesWrites = false")
			}
			ctx := context.Background()
			step := func(w providers.Weights) map[string]int {
				t.Helper()
				before := f.Snapshot()
				if err := r.SetWeights(ctx, w); err != nil {
					t.Fatalf("SetWeights(%v): %v", w, err)
				}
				return f.Since(before)
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
	other := awstest.TargetGroupARN("shadow")
	t.Run("RuleConditionsStickinessOtherGroups", func(t *testing.T) {
		f, r := newALB(t, awstest.RuleARN, blueGreen, awsprovider.ALBOptions{})
		f.AddTargetGroup(other)
		f.SetActions(awstest.RuleARN, []awstest.Action{{Type: "forward", Order: 1, ForwardConfig: &awstest.ForwardConfig{
			TargetGroups:                []awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 100}, {TargetGroupArn: other, Weight: 0}, {TargetGroupArn: awstest.GreenTG, Weight: 0}},
			TargetGroupStickinessConfig: &awstest.Stickiness{Enabled: true, DurationSeconds: 600},
		}}})
		before := f.Rule(awstest.RuleARN)
		if err := r.SetWeights(context.Background(), providers.Weights{"blue": 80, "green": 20}); err != nil {
			t.Fatal(err)
		}
		after := f.Rule(awstest.RuleARN)
		if diff := cmp.Diff(before.Conditions, after.Conditions); diff != "" {
			t.Errorf("conditions changed (-before +after):\n%s", diff)
		}
		want := awstest.ForwardConfig{
			TargetGroups:                []awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 80}, {TargetGroupArn: other, Weight: 0}, {TargetGroupArn: awstest.GreenTG, Weight: 20}},
			TargetGroupStickinessConfig: &awstest.Stickiness{Enabled: true, DurationSeconds: 600},
		}
		if diff := cmp.Diff(want, f.Forward(awstest.RuleARN)); diff != "" {
			t.Errorf("forward config (-want +got):\n%s", diff)
		}
	})
	t.Run("ListenerOIDCThenForward", func(t *testing.T) {
		f, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{})
		oidc := &awstest.OIDCConfig{Issuer: "https://idp.example", AuthorizationEndpoint: "https://idp.example/auth", TokenEndpoint: "https://idp.example/token",
			UserInfoEndpoint: "https://idp.example/user", ClientId: "client", ClientSecret: "s3cret"}
		f.SetActions(awstest.ListenerARN, []awstest.Action{
			{Type: "authenticate-oidc", Order: 1, AuthenticateOidcConfig: oidc},
			{Type: "forward", Order: 2, TargetGroupArn: awstest.BlueTG},
		})
		if err := r.SetWeights(context.Background(), providers.Weights{"blue": 95, "green": 5}); err != nil {
			t.Fatal(err)
		}
		got := f.Actions(awstest.ListenerARN)
		if len(got) != 2 || got[0].AuthenticateOidcConfig == nil || got[0].AuthenticateOidcConfig.ClientSecret != "s3cret" || got[0].Order != 1 {
			t.Errorf("authenticate action not kept with its secret: %+v", got)
		}
		if diff := cmp.Diff([]awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 95}, {TargetGroupArn: awstest.GreenTG, Weight: 5}}, f.Forward(awstest.ListenerARN).TargetGroups); diff != "" {
			t.Errorf("target groups (-want +got):\n%s", diff)
		}
	})
}

// TestALBRouterRollbackStickiness: a rollback turns stickiness off (or
// writes RollbackStickiness) in the same single call; the user's
// stickiness comes back with the first write after its duration.
func TestALBRouterRollbackStickiness(t *testing.T) {
	hour := &awstest.Stickiness{Enabled: true, DurationSeconds: 3600}
	off := &awstest.Stickiness{Enabled: false}
	type step struct {
		after time.Duration // clock advance before the step
		w     providers.Weights
		stick *awstest.Stickiness
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
			{0, providers.Weights{"blue": 100}, &awstest.Stickiness{Enabled: true, DurationSeconds: 30}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := cutover.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			tc.opts.Clock = clock
			f, r := newALB(t, awstest.ListenerARN, blueGreen, tc.opts)
			for i, s := range tc.steps {
				clock.Advance(s.after)
				before := f.Snapshot()
				if err := r.SetWeights(context.Background(), s.w); err != nil {
					t.Fatalf("step %d SetWeights(%v): %v", i, s.w, err)
				}
				if diff := cmp.Diff(map[string]int{"DescribeListeners": 1, "ModifyListener": 1}, f.Since(before)); diff != "" {
					t.Errorf("step %d %v: calls (-want +got):\n%s", i, s.w, diff)
				}
				if diff := cmp.Diff(s.stick, f.Forward(awstest.ListenerARN).TargetGroupStickinessConfig); diff != "" {
					t.Errorf("step %d %v: stickiness (-want +got):\n%s", i, s.w, diff)
				}
			}
		})
	}
	t.Run("NeverTurnedOn", func(t *testing.T) {
		f, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{RollbackStickiness: &awsprovider.Stickiness{Enabled: true, Duration: 30 * time.Second}})
		acts := f.Actions(awstest.ListenerARN)
		acts[0].ForwardConfig.TargetGroupStickinessConfig = &awstest.Stickiness{Enabled: false}
		f.SetActions(awstest.ListenerARN, acts)
		for _, w := range []providers.Weights{{"blue": 90, "green": 10}, {"blue": 100}} {
			if err := r.SetWeights(context.Background(), w); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.Forward(awstest.ListenerARN).TargetGroupStickinessConfig; got == nil || got.Enabled {
			t.Errorf("a rollback turned stickiness on: %+v", got)
		}
	})
}

func TestALBRouterBadActions(t *testing.T) {
	shadow := []string{awstest.TargetGroupARN("s1"), awstest.TargetGroupARN("s2"), awstest.TargetGroupARN("s3")}
	for _, tc := range []struct {
		name    string
		actions []awstest.Action
		w       providers.Weights
		targets map[string]string
		want    string // in the error of SetWeights (and of Weights, if read)
	}{
		{"FixedResponse", []awstest.Action{{Type: "fixed-response", Order: 1, FixedResponseConfig: &awstest.FixedResponseConfig{StatusCode: "503"}}},
			providers.Weights{"blue": 100}, blueGreen, "action is fixed-response, not forward"},
		{"SixTargetGroups", []awstest.Action{{Type: "forward", ForwardConfig: &awstest.ForwardConfig{TargetGroups: []awstest.Tuple{
			{TargetGroupArn: awstest.BlueTG, Weight: 100}, {TargetGroupArn: awstest.GreenTG}, {TargetGroupArn: shadow[0]}, {TargetGroupArn: shadow[1]}, {TargetGroupArn: shadow[2]}}}}},
			providers.Weights{"blue": 90, "teal": 10},
			map[string]string{"blue": awstest.BlueTG, "green": awstest.GreenTG, "teal": awstest.TargetGroupARN("teal")},
			"would hold 6 target groups; an ALB forward action holds at most 5"},
		{"UnmanagedWeight", []awstest.Action{{Type: "forward", ForwardConfig: &awstest.ForwardConfig{TargetGroups: []awstest.Tuple{
			{TargetGroupArn: awstest.BlueTG, Weight: 50}, {TargetGroupArn: shadow[0], Weight: 50}}}}},
			providers.Weights{"blue": 100}, blueGreen, "has weight 50 but is not one of the router's targets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := newALB(t, awstest.ListenerARN, tc.targets, awsprovider.ALBOptions{})
			for _, s := range shadow {
				f.AddTargetGroup(s)
			}
			f.SetActions(awstest.ListenerARN, tc.actions)
			err := r.SetWeights(context.Background(), tc.w)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), awstest.ListenerARN) {
				t.Fatalf("SetWeights error = %v, want one naming the listener and saying %q", err, tc.want)
			}
			if diff := cmp.Diff(tc.actions, f.Actions(awstest.ListenerARN), cmp.AllowUnexported(awstest.OIDCConfig{})); diff != "" {
				t.Errorf("actions changed (-before +after):\n%s", diff)
			}
			if f.Calls("ModifyListener") != 0 {
				t.Errorf("%d ModifyListener calls, want none", f.Calls("ModifyListener"))
			}
		})
	}
	t.Run("NotWholePercentages", func(t *testing.T) {
		f, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{})
		f.SetActions(awstest.ListenerARN, []awstest.Action{{Type: "forward", ForwardConfig: &awstest.ForwardConfig{TargetGroups: []awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 1}, {TargetGroupArn: awstest.GreenTG, Weight: 2}}}}})
		if w, err := r.Weights(context.Background()); err == nil || !strings.Contains(err.Error(), "not whole percentages") {
			t.Errorf("Weights = %v, %v; want an error about whole percentages", w, err)
		}
	})
	t.Run("SingleTargetGroupArn", func(t *testing.T) {
		f, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{})
		f.SetActions(awstest.ListenerARN, []awstest.Action{{Type: "forward", TargetGroupArn: awstest.GreenTG}})
		w, err := r.Weights(context.Background())
		if err != nil || !w.Equal(providers.Weights{"green": 100}) {
			t.Errorf("Weights = %v, %v; want green=100", w, err)
		}
	})
	t.Run("DefaultRule", func(t *testing.T) {
		_, r := newALB(t, awstest.DefaultRuleARN, blueGreen, awsprovider.ALBOptions{})
		if _, err := r.Weights(context.Background()); err == nil || !strings.Contains(err.Error(), "default rule") {
			t.Errorf("Weights on the default rule: %v, want an error saying to use the listener", err)
		}
	})
}

func TestALBRouterBadWeights(t *testing.T) {
	f, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{})
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
	if n := len(f.Snapshot()); n != 0 {
		t.Errorf("bad weights made API calls: %v", f.Snapshot())
	}
}

func TestNewALBRouterBadInput(t *testing.T) {
	f := awstest.NewELB()
	c := f.Client(awstest.Serve(t, f))
	nlb := strings.Replace(awstest.ListenerARN, "/app/", "/net/", 1)
	west := strings.Replace(awstest.GreenTG, "us-east-1", "us-west-2", 1)
	six := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		six[n] = awstest.TargetGroupARN(n)
	}
	for _, tc := range []struct {
		name    string
		arn     string
		targets map[string]string
		opts    awsprovider.ALBOptions
		want    string
	}{
		{"NotAnARN", "listener/app/front/1/2", blueGreen, awsprovider.ALBOptions{}, "malformed ELB ARN"},
		{"WrongService", strings.Replace(awstest.ListenerARN, "elasticloadbalancing", "ec2", 1), blueGreen, awsprovider.ALBOptions{}, "want elasticloadbalancing"},
		{"BadAccount", strings.Replace(awstest.ListenerARN, awstest.Account, "12345", 1), blueGreen, awsprovider.ALBOptions{}, "account must be 12 digits"},
		{"TruncatedListener", awstest.ListenerARN[:strings.LastIndex(awstest.ListenerARN, "/")], blueGreen, awsprovider.ALBOptions{}, "has 5 parts"},
		{"TargetGroupAsListener", awstest.BlueTG, blueGreen, awsprovider.ALBOptions{}, "want a listener or listener rule ARN"},
		{"NetworkLoadBalancer", nlb, blueGreen, awsprovider.ALBOptions{}, "not an Application Load Balancer"},
		{"NoTargets", awstest.ListenerARN, nil, awsprovider.ALBOptions{}, "need at least one target group"},
		{"SixTargets", awstest.ListenerARN, six, awsprovider.ALBOptions{}, "6 target groups, at most 5"},
		{"ListenerAsTarget", awstest.ListenerARN, map[string]string{"blue": awstest.ListenerARN}, awsprovider.ALBOptions{}, "want a target group ARN"},
		{"MalformedTarget", awstest.ListenerARN, map[string]string{"blue": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue"}, awsprovider.ALBOptions{}, `target "blue"`},
		{"SameGroupTwice", awstest.ListenerARN, map[string]string{"blue": awstest.BlueTG, "b2": awstest.BlueTG}, awsprovider.ALBOptions{}, "name the same target group"},
		{"EmptyName", awstest.ListenerARN, map[string]string{"": awstest.BlueTG}, awsprovider.ALBOptions{}, "empty target name"},
		{"OtherRegion", awstest.ListenerARN, map[string]string{"blue": awstest.BlueTG, "green": west}, awsprovider.ALBOptions{}, "in region us-west-2"},
		{"StickinessTooLong", awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{RollbackStickiness: &awsprovider.Stickiness{Enabled: true, Duration: 8 * 24 * time.Hour}}, "outside 1s–168h"},
		{"StickinessFraction", awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{RollbackStickiness: &awsprovider.Stickiness{Enabled: true, Duration: 1500 * time.Millisecond}}, "not whole seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := awsprovider.NewALBRouter(c, tc.arn, tc.targets, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewALBRouter = %v, %v; want an error saying %q", r, err, tc.want)
			}
		})
	}
	if _, err := awsprovider.NewALBRouter(nil, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{}); err == nil {
		t.Error("NewALBRouter(nil client): nil error")
	}
}

// TestALBRouterRetries: throttling and 5xx answers are retried by the
// SDK's retryer; past its attempts the error still unwraps to the
// smithy.APIError.
func TestALBRouterRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     awstest.Fault
		n         int
		wantCalls int
		wantCode  string // "" = success
	}{
		{"ThrottledTwice", awstest.Throttling, 2, 3, ""},
		{"ThrottledPastAttempts", awstest.Throttling, awstest.MaxAttempts, awstest.MaxAttempts, "Throttling"},
		{"InternalErrorOnce", awstest.InternalError, 1, 2, ""},
		{"InternalErrorPastAttempts", awstest.InternalError, awstest.MaxAttempts + 1, awstest.MaxAttempts, "InternalFailure"},
		{"NotRetried", awstest.Fault{Status: 400, Code: "TargetGroupNotFound", Message: "gone"}, 1, 1, "TargetGroupNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{})
			f.FailNext("ModifyListener", tc.n, tc.fault)
			w := providers.Weights{"blue": 90, "green": 10}
			err := r.SetWeights(context.Background(), w)
			if got := f.Calls("ModifyListener"); got != tc.wantCalls {
				t.Errorf("ModifyListener calls = %d, want %d", got, tc.wantCalls)
			}
			got := f.Forward(awstest.ListenerARN).TargetGroups
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("SetWeights: %v", err)
				}
				if diff := cmp.Diff([]awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 90}, {TargetGroupArn: awstest.GreenTG, Weight: 10}}, got); diff != "" {
					t.Errorf("weights after retries (-want +got):\n%s", diff)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
				t.Fatalf("SetWeights error %v: want a smithy.APIError %s", err, tc.wantCode)
			}
			if !strings.Contains(err.Error(), "ModifyListener") || !strings.Contains(err.Error(), awstest.ListenerARN) {
				t.Errorf("error %q does not say what was done to which listener", err)
			}
			if diff := cmp.Diff([]awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 100}, {TargetGroupArn: awstest.GreenTG, Weight: 0}}, got); diff != "" {
				t.Errorf("weights changed by a failed call (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("DescribeNotFound", func(t *testing.T) {
		f := awstest.NewELB()
		gone := strings.Replace(awstest.ListenerARN, "f2f7dc8efc522ab2", "0000000000000000", 1)
		r, err := awsprovider.NewALBRouter(f.Client(awstest.Serve(t, f)), gone, blueGreen, awsprovider.ALBOptions{})
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
	f, r := newALB(t, awstest.ListenerARN, blueGreen, awsprovider.ALBOptions{})
	f.SetTamper(func(actions []awstest.Action) { actions[0].ForwardConfig.TargetGroups[1].Weight = 0 })
	err := r.SetWeights(context.Background(), providers.Weights{"blue": 90, "green": 10})
	if !errors.Is(err, awsprovider.ErrReadBackMismatch) || !strings.Contains(err.Error(), "read back blue=100 green=0") {
		t.Fatalf("SetWeights with a tampering service: %v, want ErrReadBackMismatch", err)
	}
	f.SetTamper(nil)
	err = r.SetWeights(context.Background(), providers.Weights{"blue": 80, "green": 20})
	if !errors.Is(err, awsprovider.ErrConcurrentChange) {
		t.Fatalf("next step over weights nobody asked for: %v, want ErrConcurrentChange", err)
	}
	if err := r.SetWeights(context.Background(), providers.Weights{"blue": 100}); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if diff := cmp.Diff([]awstest.Tuple{{TargetGroupArn: awstest.BlueTG, Weight: 100}, {TargetGroupArn: awstest.GreenTG, Weight: 0}}, f.Forward(awstest.ListenerARN).TargetGroups); diff != "" {
		t.Errorf("after the rollback (-want +got):\n%s", diff)
	}
}

// TestALBRouterPacer: with a pacer of 2 calls a second (burst 1), five
// calls take at least two seconds.
func TestALBRouterPacer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := awstest.NewELB()
		pacer, err := awsprovider.NewPacer(2, 1)
		if err != nil {
			t.Fatal(err)
		}
		r, err := awsprovider.NewALBRouter(f.Client(awstest.InProcess(f)), awstest.ListenerARN, blueGreen,
			awsprovider.ALBOptions{Pacer: pacer})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range 3 {
			if err := r.SetWeights(context.Background(), providers.Weights{"blue": 99 - i, "green": i + 1}); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.Calls("DescribeListeners") + f.Calls("ModifyListener"); got != 6 {
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
