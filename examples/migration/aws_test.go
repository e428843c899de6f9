package main

import (
	"testing"

	"github.com/safecutover/safecutover/examples/internal/demotest"
)

func TestAWSFlagErrors(t *testing.T) {
	f := demotest.Flags
	demotest.RunFlagErrors(t, scenario, []demotest.FlagCase{
		{Name: "no router", Args: f("-aws", "-green-service", "g"), Err: "-aws needs -listener-arn or -rule-arn"},
		{Name: "no green", Args: f("-aws", "alb"), Err: "-aws needs -green-service"},
		{Name: "green unsized", Args: f("-aws", "alb", "-green-service", "g"), Err: "-aws: green is sized like blue's ECS service; give -blue-service, or green's capacity with -desired N"},
		{Name: "switcher unused", Args: f("-aws", "alb", "ecs", "beanstalk"), Err: "not used by the migration example"},
	})
}

func TestAWSPlan(t *testing.T) {
	shift := []string{"prepare green", "canary 5%", "canary 25%", "canary 50%", "canary 100%", "keep blue warm"}
	demotest.RunPlans(t, scenario, []demotest.PlanCase{
		{Name: "blue on ECS too", Args: demotest.Flags("alb", "ecs"), Stages: append(shift, "retire blue"), PNR: "retire blue",
			Gates: []string{"green targets healthy"}},
		{Name: "blue left alone", Args: demotest.Flags("alb", "-green-service", "web", "-desired", "4", "-alarms", "a"), Stages: shift},
	})
}
