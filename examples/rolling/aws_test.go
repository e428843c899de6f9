package main

import (
	"testing"

	"github.com/safecutover/safecutover/examples/internal/demotest"
)

func TestAWSFlagErrors(t *testing.T) {
	f := demotest.Flags
	demotest.RunFlagErrors(t, scenario, []demotest.FlagCase{
		{Name: "no fleets", Args: f("-aws", "-alarms", "a"), Err: "-aws needs -blue-service"},
		{Name: "no green", Args: f("-aws", "-blue-service", "b", "-alarms", "a"), Err: "-aws needs -green-service"},
		{Name: "no desired", Args: f("-aws", "ecs", "-alarms", "a"), Err: "-aws: the rolling example needs -desired N"},
		{Name: "negative desired", Args: f("-aws", "ecs", "-desired", "-1"), Err: "-desired -1: want a number of members in [1, 10000]"},
		{Name: "cluster alone", Args: f("-aws", "-ecs-cluster", "prod"), Err: "-ecs-cluster needs -blue-service or -green-service"},
		{Name: "one service twice", Args: f("-aws", "-blue-service", "s", "-green-service", "s"), Err: `-blue-service and -green-service: both name "s"`},
		{Name: "batch larger than desired", Args: f("-aws", "ecs", "-desired", "1", "-alarms", "a"), Err: "rolling: Options.MaxUnavailable 1 would take healthy capacity to zero"},
		{Name: "switcher unused", Args: f("-aws", "ecs", "-desired", "4", "-alarms", "a", "beanstalk"), Err: "-blue-env, -green-env, -cname: not used by the rolling example"},
	})
}

func TestAWSPlan(t *testing.T) {
	demotest.RunPlans(t, scenario, []demotest.PlanCase{
		{Name: "ECS with alarms, no router", Args: demotest.Flags("ecs", "-desired", "4", "-alarms", "a"),
			Stages: []string{"batch 1/2", "batch 2/2"}, Gates: []string{"alarms a"}},
		{Name: "ECS behind the ALB", Args: demotest.Flags("ecs", "alb", "-desired", "8"),
			Stages: []string{"batch 1/4", "batch 2/4", "batch 3/4", "batch 4/4"}, Gates: []string{"green error rate ≤ 2%", "green targets healthy"}},
	})
}
