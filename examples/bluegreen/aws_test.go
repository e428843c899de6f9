package main

import (
	"testing"

	"github.com/safecutover/safecutover/examples/internal/demotest"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

func TestAWSFlagErrors(t *testing.T) {
	f := demotest.Flags
	demotest.RunFlagErrors(t, scenario, []demotest.FlagCase{
		{Name: "no switcher", Args: f("-aws", "-alarms", "a"), Err: "-aws needs -blue-env, -green-env and -cname"},
		{Name: "half a switcher", Args: f("-aws", "-blue-env", "a", "-cname", "c"), Err: "the Beanstalk switcher needs -green-env"},
		{Name: "one environment twice", Args: f("-aws", "-blue-env", "a", "-green-env", "a", "-cname", "c"), Err: `-blue-env and -green-env: both name "a"`},
		{Name: "green unsized", Args: f("-aws", "beanstalk", "-green-service", "g", "-alarms", "a"), Err: "-green-service is sized like blue's ECS service; give -blue-service, or green's capacity with -desired N"},
		{Name: "no evidence", Args: f("-aws", "beanstalk"), Err: "-aws needs evidence for the gates"},
		{Name: "router unused", Args: f("-aws", "beanstalk", "-alarms", "a", "route53"), Err: "-hosted-zone, -record-name, -set-identifiers: not used by the bluegreen example"},
	})
}

// With -aws the plan depends on which fleets the flags name: the retire
// stage (the point of no return) needs blue's ECS service.
func TestAWSPlan(t *testing.T) {
	warm := []string{"prepare green", "switch to green", "keep blue warm"}
	demotest.RunPlans(t, scenario, []demotest.PlanCase{
		{Name: "switch only", Args: demotest.Flags("beanstalk", "-alarms", "a"), Stages: warm,
			Gates: []string{}},
		{Name: "ECS fleets", Args: demotest.Flags("beanstalk", "ecs", "-alarms", "a"), Stages: append(warm, "retire blue"), PNR: "retire blue"},
		{Name: "green sized by -desired, with ALB metrics",
			Args:   demotest.Flags("beanstalk", "-green-service", "g", "-desired", "3", "-lb-arn", awstest.LBARN, "-target-groups", "blue="+awstest.BlueTG+",green="+awstest.GreenTG),
			Stages: warm, Gates: []string{"green targets healthy"}},
	})
}
