package awsprovider

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseELBARN(t *testing.T) {
	const p = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
	for _, tc := range []struct {
		in   string
		want elbARN
		err  string
	}{
		{in: p + "targetgroup/web/73e2d6bc24d8a067", want: elbARN{kind: elbTargetGroup, region: "eu-west-1", suffix: "targetgroup/web/73e2d6bc24d8a067"}},
		{in: p + "loadbalancer/app/front/50dc6c495c0c9188", want: elbARN{kind: elbLoadBalancer, region: "eu-west-1", lbType: "app", suffix: "app/front/50dc6c495c0c9188"}},
		{in: p + "listener/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2", want: elbARN{kind: elbListener, region: "eu-west-1", lbType: "app", suffix: "app/front/50dc6c495c0c9188"}},
		{in: p + "listener-rule/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee", want: elbARN{kind: elbRule, region: "eu-west-1", lbType: "app", suffix: "app/front/50dc6c495c0c9188"}},
		{in: strings.Replace(p, "aws:", "aws-cn:", 1) + "listener/net/nlb/1/2", want: elbARN{kind: elbListener, region: "eu-west-1", lbType: "net", suffix: "net/nlb/1"}},
		{in: "", err: "arn: invalid prefix"},
		{in: "arn:aws:elasticloadbalancing:eu-west-1:123456789012", err: "not enough sections"},
		{in: "arn:gcp:elasticloadbalancing:eu-west-1:123456789012:targetgroup/a/b", err: "not an AWS partition"},
		{in: "arn:aws:elasticloadbalancing::123456789012:targetgroup/a/b", err: "region"},
		{in: p + "targetgroup/a/b/c", err: "has 3 parts"},
		{in: p + "targetgroup//b", err: "empty or invalid part"},
		{in: p + "listener/alb/front/1/2", err: `load balancer type "alb"`},
		{in: p + "instance/i-123", err: `resource type "instance"`},
		{in: p + "targetgroup/a b/c", err: "empty or invalid part"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseELBARN(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("parseELBARN(%q) = %+v, %v; want an error saying %q", tc.in, got, err, tc.err)
				}
				return
			}
			tc.want.raw = tc.in
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(elbARN{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseELBARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/a/b/c/d",
		"arn:aws::::", "arn:aws:elasticloadbalancing:r:123456789012:loadbalancer/app//x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseELBARN(s)
		if err != nil {
			if !strings.Contains(err.Error(), "malformed ELB ARN") {
				t.Errorf("error %q does not say what is wrong", err)
			}
			return
		}
		if a.raw != s || !strings.Contains(s+"/", "/"+a.suffix+"/") && !strings.HasSuffix(s, ":"+a.suffix) {
			t.Errorf("parseELBARN(%q) = %+v: suffix not taken from the ARN", s, a)
		}
	})
}

func TestPercentages(t *testing.T) {
	for _, tc := range []struct {
		raw  map[string]int64
		want map[string]int
		err  string
	}{
		{raw: map[string]int64{"a": 90, "b": 10}, want: map[string]int{"a": 90, "b": 10}},
		{raw: map[string]int64{"a": 1, "b": 3}, want: map[string]int{"a": 25, "b": 75}},
		{raw: map[string]int64{"a": 999, "b": 0}, want: map[string]int{"a": 100, "b": 0}},
		{raw: map[string]int64{"a": 1, "b": 2}, err: "not whole percentages"},
		{raw: map[string]int64{"a": 0, "b": 0}, err: "every weight is 0"},
		{raw: map[string]int64{"a": -1, "b": 2}, err: "negative"},
	} {
		got, err := percentages(tc.raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("percentages(%v) = %v, %v; want %q", tc.raw, got, err, tc.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(map[string]int(got), tc.want) {
			t.Errorf("percentages(%v) = %v, %v; want %v", tc.raw, got, err, tc.want)
		}
	}
}

func TestParseTargets(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
		err  string
	}{
		{in: "blue=arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1, green = g",
			want: map[string]string{"blue": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1", "green": "g"}},
		{in: "", err: "not name=value"},
		{in: "blue", err: "not name=value"},
		{in: "blue=a,", err: "not name=value"},
		{in: "=a", err: "empty name or value"},
		{in: "blue=", err: "empty name or value"},
		{in: "blue=a,blue=b", err: "given twice"},
	} {
		got, err := ParseTargets(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTargets(%q) = %v, %v; want an error saying %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("ParseTargets(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
