package awsdemo

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/providers/providertest"
)

var tgs = "blue=" + awstest.BlueTG + ",green=" + awstest.GreenTG

// parse parses args as a command line with the flags of the -aws mode.
func parse(t *testing.T, args ...string) (Flags, func(string) bool) {
	t.Helper()
	var f Flags
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	return f, func(n string) bool { return given[n] }
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" means valid
	}{
		{"fake cloud", nil, ""},
		{"ALB listener", []string{"-aws", "-listener-arn", awstest.ListenerARN, "-target-groups", tgs}, ""},
		{"ALB rule", []string{"-aws", "-rule-arn", "r", "-target-groups", tgs}, ""},
		{"Route 53", []string{"-aws", "-hosted-zone", "Z1", "-record-name", "a.example.com", "-set-identifiers", "blue=b,green=g"}, ""},
		{"everything else", []string{"-aws", "-blue-env", "b", "-green-env", "g", "-cname", "c", "-ecs-cluster", "p", "-blue-service", "b", "-green-service", "g",
			"-desired", "3", "-alarms", "a, b", "-create-table", "-region", "eu-west-1", "-id", "release-42"}, ""},
		{"blue fleets", []string{"-aws", "-blue-asg", "g", "-green-service", "s"}, ""},
		{"blue environment alone", []string{"-aws", "-blue-env", "shop-blue", "-green-service", "s"}, ""},
		{"two blue fleets", []string{"-aws", "-blue-asg", "g", "-blue-service", "s"}, "each name blue's fleet: give one"},
		{"no retire with a blue", []string{"-aws", "-blue-env", "shop-blue", "-no-retire"}, "-no-retire and a blue fleet"},
		{"green env without blue", []string{"-aws", "-green-env", "g", "-cname", "c"}, "the Beanstalk switcher needs -blue-env"},
		{"rule without target groups", []string{"-aws", "-rule-arn", "r"}, "-rule-arn needs -target-groups"},
		{"same target group twice", []string{"-aws", "-listener-arn", "l", "-target-groups", "blue=x,green=x"}, `blue and green are both "x"`},
		{"set identifiers", []string{"-aws", "-hosted-zone", "Z1", "-record-name", "a", "-set-identifiers", "green=g"}, "-set-identifiers \"green=g\": want exactly blue=…,green=…"},
		{"record type alone", []string{"-aws", "-record-type", "AAAA"}, "the Route 53 router needs -hosted-zone"},
		{"cname alone", []string{"-aws", "-cname", "c"}, "the Beanstalk switcher needs -blue-env"},
		{"too many", []string{"-aws", "-desired", "10001"}, "-desired 10001: want a number of members in [1, 10000]"},
		{"slow expression without metrics", []string{"-aws", "-slow-expression", "x"}, "-slow-expression needs ALB metrics"},
		{"alarm twice", []string{"-aws", "-alarms", "a,a"}, `"a" given twice`},
		{"empty id", []string{"-aws", "-id", ".x"}, "-id: cutover id \".x\": starts with '.'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, given := parse(t, tt.args...)
			err := f.Check(given)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Check(%q) = %v, want nil", tt.args, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

// Every flag of the -aws mode given without -aws is an error naming it.
func TestCheckWithoutAWS(t *testing.T) {
	t.Parallel()
	var f Flags
	for _, d := range f.defs() {
		args := []string{"-" + d.name}
		if d.on == nil {
			args = append(args, "1")
		}
		got, given := parse(t, args...)
		want := "-" + d.name + " needs -aws"
		if err := got.Check(given); err == nil || err.Error() != want {
			t.Errorf("Check(%q) = %v, want %q", args, err, want)
		}
	}
}

func TestRenamedRouterConformance(t *testing.T) {
	providertest.TestTrafficRouter(t, func(t *testing.T) (providers.TrafficRouter, []string) {
		r := fake.MustNew(fake.Options{}).Router("dns", "app-blue", "app-green")
		return renamedRouter{r: r, names: map[string]string{"blue": "app-blue", "green": "app-green"}}, []string{"blue", "green"}
	})
}

func TestRenamedSwitcherConformance(t *testing.T) {
	providertest.TestSwitcher(t, func(t *testing.T) (providers.Switcher, []string) {
		s := fake.MustNew(fake.Options{}).Switcher("cname", "shop-blue", "shop-green")
		return renamedSwitcher{s: s, names: map[string]string{"blue": "shop-blue", "green": "shop-green"}}, []string{"blue", "green"}
	})
}

// newCloud makes a Cloud for args with the SDK pointed at awstest.
func newCloud(t *testing.T, args ...string) (*Cloud, error) {
	t.Helper()
	fc, err := awstest.NewCloud(awstest.CloudOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fc.Setenv(t)
	f, given := parse(t, append([]string{"-aws"}, args...)...)
	if err := f.Check(given); err != nil {
		t.Fatalf("Check(%q): %v", args, err)
	}
	return New(t.Context(), f, Options{Config: []func(*config.LoadOptions) error{config.WithHTTPClient(fc.HTTPClient())}})
}

// Each resource is made from its flags, is of the expected kind, and uses
// up the flags that name it; one not named is ErrNotConfigured.
func TestCloudResources(t *testing.T) {
	c, err := newCloud(t, "-listener-arn", awstest.ListenerARN, "-target-groups", tgs, "-blue-env", "shop-blue", "-green-env", "shop-green", "-cname", "shop",
		"-ecs-cluster", "prod", "-green-service", "web", "-alarms", "a,b", "-desired", "2")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Region(), awstest.Region; got != want {
		t.Errorf("Region() = %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"-listener-arn", "-target-groups", "-blue-env", "-green-env", "-cname", "-ecs-cluster", "-green-service", "-desired", "-alarms"}, c.Unused()); diff != "" {
		t.Errorf("Unused() before use (-want +got):\n%s", diff)
	}
	r, err := c.Router()
	if _, ok := r.(*awsprovider.ALBRouter); err != nil || !ok {
		t.Errorf("Router() = %T, %v; want an *awsprovider.ALBRouter", r, err)
	}
	if s, err := c.Switcher(); err != nil || s.(renamedSwitcher).names["green"] != "shop-green" {
		t.Errorf("Switcher() = %#v, %v; want a renamed Beanstalk switcher", s, err)
	}
	if fl, err := c.Fleet("green"); err != nil || fl.(*awsprovider.ECSFleet).String() != "ecs service web in cluster prod" {
		t.Errorf("Fleet(green) = %v, %v", fl, err)
	}
	if _, err := c.Fleet("blue"); !errors.Is(err, ErrNotConfigured) || !strings.Contains(err.Error(), "-aws needs -blue-service") {
		t.Errorf("Fleet(blue) error = %v, want ErrNotConfigured naming -blue-service", err)
	}
	if _, err := c.Fleet("canary"); err == nil || errors.Is(err, ErrNotConfigured) {
		t.Errorf("Fleet(canary) error = %v, want a plain error", err)
	}
	if m, err := c.Metrics(); err != nil || m == nil {
		t.Errorf("Metrics() = %v, %v", m, err)
	}
	if h, err := c.TargetHealth(); err != nil || h == nil {
		t.Errorf("TargetHealth() = %v, %v", h, err)
	}
	if a, names, err := c.Alarms(); err != nil || a == nil || !cmp.Equal(names, []string{"a", "b"}) {
		t.Errorf("Alarms() = %v, %q, %v", a, names, err)
	}
	if got := c.Desired(); got != 2 {
		t.Errorf("Desired() = %d, want 2", got)
	}
	if cfg := c.Config(); cfg == nil || cfg.Region != c.Region() {
		t.Errorf("Config() = %v, want the providers' configuration in %s", cfg, c.Region())
	}
	if u := c.Unused(); len(u) != 0 {
		t.Errorf("Unused() after use = %q, want none", u)
	}
}

func TestCloudRouterRoute53(t *testing.T) {
	c, err := newCloud(t, "-hosted-zone", "Z0123456789ABC", "-record-name", "app.example.com", "-set-identifiers", "blue=b,green=g")
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Router()
	rr, ok := r.(renamedRouter)
	if err != nil || !ok {
		t.Fatalf("Router() = %T, %v; want a renamed Route 53 router", r, err)
	}
	if got, want := rr.String(), "zone Z0123456789ABC app.example.com. A"; got != want {
		t.Errorf("router %q, want %q", got, want)
	}
	if _, err := c.Metrics(); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("Metrics() error = %v, want ErrNotConfigured", err)
	}
}

func TestCloudRegion(t *testing.T) {
	t.Run("from the listener's ARN", func(t *testing.T) {
		fc, err := awstest.NewCloud(awstest.CloudOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fc.Setenv(t)
		t.Setenv("AWS_REGION", "")
		f, _ := parse(t, "-aws", "-listener-arn", strings.Replace(awstest.ListenerARN, "us-east-1", "eu-west-1", 1), "-target-groups", tgs)
		c, err := New(t.Context(), f, Options{})
		if err != nil || c.Region() != "eu-west-1" {
			t.Errorf("New: region %v, %v; want eu-west-1", c, err)
		}
	})
	t.Run("none", func(t *testing.T) {
		fc, err := awstest.NewCloud(awstest.CloudOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fc.Setenv(t)
		t.Setenv("AWS_REGION", "")
		f, _ := parse(t, "-aws", "-alarms", "a")
		c, err := New(t.Context(), f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Alarms(); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate("x"); err == nil || !strings.Contains(err.Error(), "no AWS region: set -region") {
			t.Errorf("Validate without a region: %v", err)
		}
	})
	t.Run("-region overrides", func(t *testing.T) {
		c, err := newCloud(t, "-region", "ap-southeast-2", "-alarms", "a")
		if err != nil || c.Region() != "ap-southeast-2" {
			t.Errorf("New: %v, %v; want region ap-southeast-2", c, err)
		}
	})
}

// FuzzCheck: Check never panics, and what it accepts the Cloud can use:
// target groups and set identifiers name exactly blue and green, alarm
// names are non-empty.
func FuzzCheck(f *testing.F) {
	f.Add("l", "", tgs, "", "", "", "a,b", 3)
	f.Add("", "", "", "Z1", "a.example.com", "blue=b,green=g", "", 0)
	f.Add("", "r", "blue=x,green=x", "", "", "", ",", -1)
	f.Fuzz(func(t *testing.T, listener, rule, targetGroups, zone, record, sets, alarms string, desired int) {
		fl := Flags{On: true, ListenerARN: listener, RuleARN: rule, TargetGroups: targetGroups, HostedZone: zone,
			RecordName: record, SetIdentifiers: sets, Alarms: alarms, Desired: desired}
		err := fl.Check(func(string) bool { return false })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "-") && !strings.HasPrefix(err.Error(), "the ") {
				t.Errorf("Check error %q does not start by naming a flag", err)
			}
			return
		}
		for name, v := range map[string]string{"-target-groups": targetGroups, "-set-identifiers": sets} {
			if v == "" {
				continue
			}
			if m, err := blueGreen(name, v); err != nil || len(m) != 2 || m["blue"] == m["green"] {
				t.Errorf("Check accepted %s %q, which parses as %v, %v", name, v, m, err)
			}
		}
		if alarms != "" {
			names, err := alarmNames(alarms)
			if err != nil || slices.Contains(names, "") {
				t.Errorf("Check accepted -alarms %q: %q, %v", alarms, names, err)
			}
		}
	})
}
