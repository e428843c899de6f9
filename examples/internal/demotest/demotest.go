package demotest

import (
	"bytes"
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/awsdemo"
	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/internal/syncbuf"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/fake"
)

// Fast are flags that run a scenario ten times faster than by default,
// with plain output.
var Fast = []string{"-speed", "3000", "-plain"}

// Case is one run of a scenario.
type Case struct {
	Name     string
	Args     []string // after Fast, so they may override it
	Stdin    string
	Terminal bool // whether stdin is a terminal
	Want     int  // exit status
	Output   []string
}

// Run runs each case as a parallel subtest of t and checks its exit status
// and that its output contains each of Output.
func Run(t *testing.T, s demo.Scenario, cases []Case) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			code, out := RunOnce(t, s, tt.Args, tt.Stdin, tt.Terminal)
			if code != tt.Want {
				t.Errorf("exit status %d, want %d; output:\n%s", code, tt.Want, out)
			}
			for _, want := range tt.Output {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// GreenOrBack are the two runs every strategy example passes: a healthy
// green completes with all traffic on green, a bad green rolls back with
// all traffic back on blue; both approve the point of no return as "ci".
func GreenOrBack() []Case {
	return []Case{
		{Name: "healthy green", Args: []string{"-approve", "ci"}, Want: demo.ExitCompleted,
			Output: []string{"✓ completed", "all traffic is on green"}},
		{Name: "bad green", Args: []string{"-bad-green", "-approve", "ci"}, Want: demo.ExitRolledBack,
			Output: []string{"rolling back", "all traffic is back on blue"}},
	}
}

// FakePlan builds s's plan over a new fake cloud with default options, as
// a run without -aws would, and fails the test if it cannot.
func FakePlan(t *testing.T, s demo.Scenario) cutover.Plan {
	t.Helper()
	plan, err := s.Build(&demo.Env{Cloud: fake.MustNew(fake.Options{}), Clock: cutover.RealClock{}})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return plan
}

// RunOnce runs s fast with args and returns its exit status and output.
func RunOnce(t *testing.T, s demo.Scenario, args []string, stdin string, terminal bool) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	return demo.RunCaptured(ctx, s, append(append([]string{}, Fast...), args...), stdin, terminal)
}

// AWSEnv makes the AWS SDK's default configuration self-contained for the
// rest of the test — static credentials, region us-east-1, no shared
// config files, endpoints of a fake — and returns the IO whose HTTP
// client serves every call in-process, so no test ever reaches AWS. The
// test must not be parallel (it sets environment variables).
func AWSEnv(t *testing.T) demo.IO {
	t.Helper()
	fake, err := awstest.NewCloud(awstest.CloudOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fake.Setenv(t)
	return demo.IO{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard,
		AWSConfig: []func(*config.LoadOptions) error{config.WithHTTPClient(fake.HTTPClient())}}
}

// FlagCase is a command line of the -aws mode that must be refused.
type FlagCase struct {
	Name string
	Args []string
	// Err is what the error message must contain.
	Err string
	// Unset are environment variables to clear after AWSEnv set them.
	Unset []string
}

// RunFlagErrors runs s with each case's arguments (and -journal in a
// temporary directory, unless they name a journal) and checks that it
// exits with status 1 and an error containing Err, and that it wrote no
// journal. Not parallel: see AWSEnv.
func RunFlagErrors(t *testing.T, s demo.Scenario, cases []FlagCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			std := AWSEnv(t)
			for _, v := range tt.Unset {
				t.Setenv(v, "")
			}
			var out bytes.Buffer
			std.Out, std.Err = &out, &out
			args, dir := tt.Args, t.TempDir()
			if !slices.Contains(args, "-journal") {
				args = append([]string{"-journal", dir}, args...)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			if code := demo.Run(ctx, s, args, std); code != demo.ExitError {
				t.Errorf("exit status %d, want %d; output:\n%s", code, demo.ExitError, out.String())
			}
			if !strings.Contains(out.String(), "error: ") || !strings.Contains(out.String(), tt.Err) {
				t.Errorf("output lacks error %q:\n%s", tt.Err, out.String())
			}
			if files, err := os.ReadDir(dir); err != nil || len(files) > 0 {
				t.Errorf("refused, yet the journal directory holds %v (%v)", files, err)
			}
		})
	}
}

// AWSPlan builds s's plan in the -aws mode from args, as a run would,
// without calling AWS (making the providers calls no API), and fails the
// test if a flag goes unused. Not parallel: see AWSEnv.
func AWSPlan(t *testing.T, s demo.Scenario, args []string) cutover.Plan {
	t.Helper()
	std := AWSEnv(t)
	f, err := demo.ParseFlags(s, append([]string{"-aws"}, args...), io.Discard)
	if err != nil {
		t.Fatalf("ParseFlags(%q): %v", args, err)
	}
	cloud, err := awsdemo.New(t.Context(), f.AWS, awsdemo.Options{Config: std.AWSConfig})
	if err != nil {
		t.Fatalf("awsdemo.New: %v", err)
	}
	plan, err := s.Build(&demo.Env{AWS: cloud, Clock: cutover.RealClock{}, Flags: f})
	if err != nil {
		t.Fatalf("Build with %q: %v", args, err)
	}
	if err := cloud.Validate(s.ID); err != nil {
		t.Errorf("Build with %q: %v", args, err)
	}
	return plan
}

// PlanCase is a command line of the -aws mode and the plan it must build.
type PlanCase struct {
	Name string
	Args []string // after -aws
	// Stages are the plan's stage names; PNR is the point of no return
	// ("" for none).
	Stages []string
	PNR    string
	// Gates, if not nil, are the names of the first stage's gates.
	Gates []string
}

// RunPlans builds s's plan for each case with AWSPlan and compares it with
// the case. Not parallel: see AWSEnv.
func RunPlans(t *testing.T, s demo.Scenario, cases []PlanCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			plan := AWSPlan(t, s, tt.Args)
			var stages []string
			for _, st := range plan.Stages {
				stages = append(stages, st.Name)
			}
			if diff := cmp.Diff(tt.Stages, stages); diff != "" {
				t.Errorf("stages (-want +got):\n%s", diff)
			}
			if got := plan.Analyze().PNRStage; got != tt.PNR {
				t.Errorf("point of no return %q, want %q", got, tt.PNR)
			}
			if tt.Gates == nil || len(plan.Stages) == 0 {
				return
			}
			var gates []string
			for i, g := range plan.Stages[0].Gates {
				gates = append(gates, cutover.GateName(g, i))
			}
			if diff := cmp.Diff(tt.Gates, gates, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("gates of the first stage (-want +got):\n%s", diff)
			}
		})
	}
}

// Flags returns well-formed flags of the -aws mode for each kind of
// resource named, in order: "alb" (awstest's listener and target groups),
// "route53", "beanstalk", "ecs" (both services); anything else is taken
// as flags as they are.
func Flags(kinds ...string) []string {
	var out []string
	for _, k := range kinds {
		switch k {
		case "alb":
			out = append(out, "-listener-arn", awstest.ListenerARN, "-target-groups", "blue="+awstest.BlueTG+",green="+awstest.GreenTG)
		case "route53":
			out = append(out, "-hosted-zone", "Z0123456789ABC", "-record-name", "app.example.com", "-set-identifiers", "blue=app-blue,green=app-green")
		case "beanstalk":
			out = append(out, "-blue-env", "shop-blue", "-green-env", "shop-green", "-cname", "shop")
		case "ecs":
			out = append(out, "-ecs-cluster", "prod", "-blue-service", "web-blue", "-green-service", "web-green")
		default:
			out = append(out, k)
		}
	}
	return out
}

// RunAWS runs s with args in the -aws mode, its SDK clients served by
// cloud in-process (after cloud.Setenv), and returns its exit status and
// output; with go test -v the output is logged.
func RunAWS(t *testing.T, s demo.Scenario, cloud *awstest.Cloud, args []string) (int, string) {
	t.Helper()
	var out syncbuf.Buffer
	code := demo.Run(t.Context(), s, args, demo.IO{In: strings.NewReader(""), Out: &out, Err: &out,
		AWSConfig: []func(*config.LoadOptions) error{config.WithHTTPClient(cloud.HTTPClient())}})
	if testing.Verbose() {
		t.Log(out.String())
	}
	return code, out.String()
}
