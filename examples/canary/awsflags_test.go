package main

import (
	"testing"

	"github.com/safecutover/safecutover/examples/internal/demotest"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// Flags of the -aws mode are checked before anything is called; each
// mistake is an error that names the flag, and exit status 1.
func TestAWSFlagErrors(t *testing.T) {
	f := demotest.Flags
	demotest.RunFlagErrors(t, scenario, []demotest.FlagCase{
		{Name: "no router", Args: []string{"-aws", "-alarms", "a"}, Err: "-aws needs -listener-arn or -rule-arn"},
		{Name: "without -aws", Args: f("alb"), Err: "-listener-arn needs -aws"},
		{Name: "no target groups", Args: []string{"-aws", "-listener-arn", awstest.ListenerARN}, Err: "-listener-arn needs -target-groups blue=ARN,green=ARN"},
		{Name: "listener and rule", Args: f("-aws", "alb", "-rule-arn", awstest.ListenerARN+"/rule"), Err: "-listener-arn and -rule-arn: set one, not both"},
		{Name: "ALB and Route 53", Args: f("-aws", "alb", "route53"), Err: "set one router, not both"},
		{Name: "target groups not blue and green", Args: f("-aws", "-listener-arn", awstest.ListenerARN, "-target-groups", "blue=x,canary=y"), Err: `-target-groups "blue=x,canary=y": want exactly blue=…,green=…; got the names blue, canary`},
		{Name: "target group entry", Args: f("-aws", "-listener-arn", awstest.ListenerARN, "-target-groups", "blue"), Err: `-target-groups: targets "blue": entry "blue" is not name=value`},
		{Name: "malformed listener", Args: f("-aws", "-listener-arn", "listener/1", "-target-groups", "blue=a,green=b"), Err: `-listener-arn: `},
		{Name: "Route 53 half", Args: f("-aws", "-hosted-zone", "Z1"), Err: "the Route 53 router needs -record-name"},
		{Name: "fake-only flag", Args: f("-aws", "alb", "-bad-green"), Err: "-bad-green is for the fake cloud"},
		{Name: "speed", Args: f("-aws", "alb", "-speed", "10"), Err: "-speed is for the fake cloud"},
		{Name: "unused flags", Args: f("-aws", "alb", "beanstalk"), Err: "-blue-env, -green-env, -cname: not used by the canary example"},
		{Name: "unused desired", Args: f("-aws", "alb", "-desired", "4"), Err: "-desired: not used by the canary example"},
		{Name: "no evidence", Args: f("-aws", "route53"), Err: "-aws needs evidence for the gates"},
		{Name: "region mismatch", Args: f("-aws", "alb", "-region", "eu-west-1"), Err: "-listener-arn is in region us-east-1 but the AWS region is eu-west-1; set -region us-east-1"},
		{Name: "bad id", Args: f("-aws", "alb", "-id", "../x"), Err: `-id: cutover id "../x"`},
		{Name: "retired table flag", Args: f("-aws", "alb", "-dynamodb-table", "t"), Err: "retired: use -journal dynamodb:t"},
		{Name: "create without table", Args: f("-aws", "alb", "-journal", "d", "-create-table"), Err: `-journal: "d": creating a table is for dynamodb:TABLE`},
		{Name: "empty alarm", Args: f("-aws", "alb", "-alarms", "a,,b"), Err: `-alarms "a,,b": an empty alarm name`},
		{Name: "no credentials", Args: f("-aws", "alb"), Unset: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
			Err: "no AWS credentials (set AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{Name: "no region", Args: f("-aws", "route53", "-alarms", "a"), Unset: []string{"AWS_REGION"}, Err: "no AWS region: set -region"},
		{Name: "steps not increasing", Args: f("-aws", "alb", "-steps", "5,1"), Err: `-steps "5,1": 1 after 5: want increasing weights`},
		{Name: "steps out of range", Args: f("-aws", "alb", "-steps", "1,150"), Err: `-steps "1,150": "150": want a whole percentage in [1, 100]`},
		{Name: "bake", Args: f("-aws", "alb", "-bake", "5"), Err: `-bake "5": want a duration in [1s, 24h]`},
		{Name: "bake too long", Args: f("-aws", "alb", "-bake", "48h"), Err: `-bake "48h": want a duration in [1s, 24h]`},
		{Name: "steps without -aws", Args: []string{"-steps", "1,100"}, Err: "-steps needs -aws"},
		{Name: "lb without target groups", Args: f("-aws", "route53", "-lb-arn", awstest.LBARN), Err: "-lb-arn needs -target-groups"},
	})
}

// With -aws the canary's plan is the fake cloud's, on the real providers,
// with the gates the flags give evidence for.
func TestAWSPlan(t *testing.T) {
	steps := []string{"canary 5%", "canary 25%", "canary 100%"}
	tgs := "blue=" + awstest.BlueTG + ",green=" + awstest.GreenTG
	demotest.RunPlans(t, scenario, []demotest.PlanCase{
		{Name: "ALB", Args: demotest.Flags("alb"), Stages: steps,
			Gates: []string{"judge green vs blue", "green error rate ≤ 2%"}},
		{Name: "ALB with alarms and a slow expression", Args: demotest.Flags("alb", "-alarms", "a,b", "-slow-expression", "SUM(SEARCH('x', 'Sum', 60))"), Stages: steps,
			Gates: []string{"judge green vs blue", "green error rate ≤ 2%", "alarms a,b"}},
		{Name: "Route 53 with ALB metrics", Args: demotest.Flags("route53", "-lb-arn", awstest.LBARN, "-target-groups", tgs), Stages: steps,
			Gates: []string{"judge green vs blue", "green error rate ≤ 2%"}},
		{Name: "Route 53 with alarms", Args: demotest.Flags("route53", "-alarms", "a"), Stages: steps, Gates: []string{"alarms a"}},
		{Name: "ALB with steps and bake", Args: demotest.Flags("alb", "-steps", "1,5,25,50,100", "-bake", "5m"),
			Stages: []string{"canary 1%", "canary 5%", "canary 25%", "canary 50%", "canary 100%"},
			Gates:  []string{"judge green vs blue", "green error rate ≤ 2%"}},
	})
}
