package main

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/examples/internal/demotest"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

func TestAWSFlagErrors(t *testing.T) {
	f := demotest.Flags
	green := []string{"-ecs-cluster", awstest.ECSCluster, "-green-service", awstest.GreenService}
	demotest.RunFlagErrors(t, scenario, []demotest.FlagCase{
		{Name: "no router", Args: f("-aws", "-green-service", "g"), Err: "-aws needs -listener-arn or -rule-arn"},
		{Name: "no green", Args: f("-aws", "alb"), Err: "-aws needs -green-service"},
		{Name: "no blue, no PNR", Args: f("-aws", "alb", "-green-service", "g", "-desired", "4"),
			Err: "-aws: no blue fleet, so blue would never be retired: the plan would have no point of no return"},
		{Name: "no retire, unsized", Args: f("-aws", "alb", "-green-service", "g", "-no-retire"), Err: "give green's capacity with -desired N"},
		{Name: "no retire and a blue", Args: f("-aws", "alb", "-green-service", "g", "-blue-asg", "b", "-no-retire"), Err: "-no-retire and a blue fleet"},
		{Name: "two blues", Args: f("-aws", "alb", "-green-service", "g", "-blue-asg", "b", "-blue-env", "shop-blue"), Err: "each name blue's fleet: give one"},
		{Name: "switcher unused", Args: f("-aws", "alb", "ecs", "beanstalk"), Err: "not used by the migration example"},
		// The pre-flight reads every resource before anything is
		// journaled, and reports every problem at once.
		{Name: "pre-flight", Args: f(append(append([]string{"-aws", "alb"}, green...), "-blue-asg", "shop-old-asg", "-alarms", "web-5xx")...),
			Err: "pre-flight: 2 problems:\n  -blue-asg: auto scaling group shop-old-asg: DescribeAutoScalingGroups: group not found\n  -alarms: "},
		{Name: "pre-flight environment", Args: f(append(append([]string{"-aws", "alb"}, green...), "-blue-env", "shop-gone")...),
			Err: "pre-flight: 1 problem:\n  -blue-env: beanstalk environment shop-gone: DescribeEnvironments: environment not found"},
	})
}

func TestAWSPlan(t *testing.T) {
	shift := []string{"prepare green", "canary 5%", "canary 25%", "canary 50%", "canary 100%", "keep blue warm"}
	retire := append(shift, "retire blue")
	demotest.RunPlans(t, scenario, []demotest.PlanCase{
		{Name: "blue on ECS too", Args: demotest.Flags("alb", "ecs"), Stages: retire, PNR: "retire blue",
			Gates: []string{"green targets healthy"}},
		{Name: "blue an Auto Scaling group", Args: demotest.Flags("alb", "-green-service", "web", "-blue-asg", "shop-blue-asg"), Stages: retire, PNR: "retire blue"},
		{Name: "blue a Beanstalk environment", Args: demotest.Flags("alb", "-green-service", "web", "-blue-env", "shop-blue", "-desired", "3"), Stages: retire, PNR: "retire blue"},
		{Name: "blue left alone", Args: demotest.Flags("alb", "-green-service", "web", "-desired", "4", "-alarms", "a", "-no-retire"), Stages: shift},
	})
}

// TestAWSMigration runs the seed's migration in the -aws mode end to end:
// the example's real SDK clients, configured from the environment, stand
// up green's ECS service, move the ALB listener's weights, keep blue warm
// and retire blue — an Auto Scaling group or a Beanstalk environment — as
// the one point of no return, on the real clock inside a synctest bubble,
// with the first calls of the operations that change things throttled.
// Without an approval the run stops before the PNR with blue untouched.
func TestAWSMigration(t *testing.T) {
	for _, tc := range []struct {
		name      string
		blueFlags []string
		blue      string
		throttle  map[string]int
	}{
		{"AutoScalingGroup", []string{"-blue-asg", awstest.BlueASG}, awstest.BlueASG,
			map[string]int{"UpdateAutoScalingGroup": 2, "DescribeAutoScalingGroups": 2, "ModifyListener": 1, "UpdateService": 2}},
		{"BeanstalkEnvironment", []string{"-blue-env", awstest.BlueEnv}, awstest.BlueEnv,
			map[string]int{"UpdateEnvironment": 2, "DescribeEnvironments": 1, "ModifyListener": 1, "UpdateService": 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cloud, err := awstest.NewCloud(awstest.CloudOptions{BlueErrorRate: 0.005, GreenErrorRate: 0.005, Throttle: tc.throttle})
			if err != nil {
				t.Fatal(err)
			}
			cloud.Setenv(t)
			args := append([]string{"-aws", "-plain", "-journal", t.TempDir(),
				"-listener-arn", awstest.ListenerARN, "-target-groups", "blue=" + awstest.BlueTG + ",green=" + awstest.GreenTG,
				"-ecs-cluster", awstest.ECSCluster, "-green-service", awstest.GreenService}, tc.blueFlags...)
			synctest.Test(t, func(t *testing.T) {
				d0, r0 := cloud.Fleet(tc.blue)
				code, out := demotest.RunAWS(t, scenario, cloud, args)
				if code != demo.ExitWaiting || !strings.Contains(out, "stopped before the point of no return") {
					t.Errorf("without an approval: exit status %d, want %d; output:\n%s", code, demo.ExitWaiting, out)
				}
				if d, r := cloud.Fleet(tc.blue); d != d0 || r != r0 || r != 4 {
					t.Errorf("blue before the approval: desired %d running %d, want %d and %d as at first", d, r, d0, r0)
				}
				code, out = demotest.RunAWS(t, scenario, cloud, append(args, "-approve", "ci"))
				if code != demo.ExitCompleted {
					t.Errorf("approved: exit status %d, want %d; output:\n%s", code, demo.ExitCompleted, out)
				}
				for _, want := range []string{`PNR:       "retire blue" crossed, approved by ci`, "all traffic is on green"} {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
				if diff := cmp.Diff(map[string]int{"blue": 0, "green": 100}, cloud.Weights()); diff != "" {
					t.Errorf("listener weights (-want +got):\n%s", diff)
				}
				if d, _ := cloud.Fleet(tc.blue); d != 0 {
					t.Errorf("blue retired to desired %d, want 0", d)
				}
				if d, r := cloud.Fleet(awstest.GreenService); d != 4 || r != 4 {
					t.Errorf("green: desired %d running %d, want 4 and 4 (blue's capacity)", d, r)
				}
				for op, n := range tc.throttle {
					if got := cloud.Calls(op); got <= n {
						t.Errorf("%s called %d times, throttled %d: never served", op, got, n)
					}
				}
			})
		})
	}
}

// TestUsage: -h lists the flags of both modes, the blue fleets and
// -no-retire among them.
func TestUsage(t *testing.T) {
	t.Parallel()
	code, out := demo.RunCaptured(t.Context(), scenario, []string{"-h"}, "", false)
	if code != demo.ExitCompleted {
		t.Errorf("-h: exit status %d, want 0", code)
	}
	for _, flag := range []string{"-approve", "-bad-green", "-journal", "-seed", "-speed", "-plain", "-report",
		"-aws", "-listener-arn", "-target-groups", "-ecs-cluster", "-green-service", "-desired",
		"-blue-asg", "-blue-env", "-blue-service", "-no-retire", "-alarms", "-create-table", "-region", "-id"} {
		if !strings.Contains(out, "\n  "+flag+" ") && !strings.Contains(out, "\n  "+flag+"\n") {
			t.Errorf("-h lacks %s:\n%s", flag, out)
		}
	}
}
