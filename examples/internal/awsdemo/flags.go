package awsdemo

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

// Flags are the flags of the -aws mode. The zero value is the fake-cloud
// mode: every flag is off or empty, so Flags is comparable and its zero
// value means "not given".
type Flags struct {
	On     bool   // -aws
	Region string // -region: overrides the SDK's usual region
	ID     string // -id: the cutover's ID in the journal (default: the example's)

	ListenerARN  string // -listener-arn: ALB router on a listener's default action
	RuleARN      string // -rule-arn: ALB router on a listener rule
	TargetGroups string // -target-groups blue=ARN,green=ARN

	HostedZone     string // -hosted-zone: Route 53 router
	RecordName     string // -record-name
	RecordType     string // -record-type (default A)
	SetIdentifiers string // -set-identifiers blue=ID,green=ID

	BlueEnv, GreenEnv string // -blue-env, -green-env: Beanstalk switcher; -blue-env alone: blue's Beanstalk fleet
	CNAME             string // -cname: the production CNAME (or its prefix)

	ECSCluster   string // -ecs-cluster (default: the default cluster)
	BlueService  string // -blue-service: blue's ECS service
	GreenService string // -green-service: green's ECS service
	BlueASG      string // -blue-asg: blue's EC2 Auto Scaling group
	Desired      int    // -desired: members to move (rolling) or green's capacity
	NoRetire     bool   // -no-retire: the migration leaves blue warm, with no point of no return

	Alarms         string // -alarms a,b: CloudWatch alarms judged as a gate
	LBARN          string // -lb-arn: ALB whose per-target-group metrics the gates read
	SlowExpression string // -slow-expression: metric math counting slow requests

	Steps string // -steps 1,5,25,50,100: the canary's weights
	Bake  string // -bake 5m: how long each step bakes

	CreateTable bool // -create-table: create the table of -journal dynamodb:TABLE if it does not exist
}

// flagDef is one flag of the -aws mode.
type flagDef struct {
	name, usage string
	str         *string
	num         *int
	on          *bool
}

func (f *Flags) defs() []flagDef {
	return []flagDef{
		{name: "region", usage: "AWS `REGION` (default: the SDK's usual sources, AWS_REGION or the profile)", str: &f.Region},
		{name: "id", usage: "cutover `ID` in the journal (default: the example's name)", str: &f.ID},
		{name: "listener-arn", usage: "ALB router: the listener `ARN` whose default forward action splits blue and green", str: &f.ListenerARN},
		{name: "rule-arn", usage: "ALB router: the listener rule `ARN` whose forward action splits blue and green", str: &f.RuleARN},
		{name: "target-groups", usage: "blue's and green's target groups, `blue=ARN,green=ARN` (ALB router, ALB metrics, target health)", str: &f.TargetGroups},
		{name: "hosted-zone", usage: "Route 53 router: the hosted zone `ID` of the weighted records", str: &f.HostedZone},
		{name: "record-name", usage: "Route 53 router: the records' `NAME`, e.g. app.example.com", str: &f.RecordName},
		{name: "record-type", usage: "Route 53 router: the records' `TYPE` (default A)", str: &f.RecordType},
		{name: "set-identifiers", usage: "Route 53 router: the weighted records, `blue=SETID,green=SETID`", str: &f.SetIdentifiers},
		{name: "blue-env", usage: "Beanstalk switcher: blue's environment `NAME`; without -green-env and -cname: blue's fleet, an Elastic Beanstalk environment whose capacity is set", str: &f.BlueEnv},
		{name: "green-env", usage: "Beanstalk switcher: green's environment `NAME`", str: &f.GreenEnv},
		{name: "cname", usage: "Beanstalk switcher: the production `CNAME` (or its prefix) the swap moves", str: &f.CNAME},
		{name: "ecs-cluster", usage: "ECS `CLUSTER` of -blue-service and -green-service (default: the default cluster)", str: &f.ECSCluster},
		{name: "blue-service", usage: "ECS fleet: blue's `SERVICE`", str: &f.BlueService},
		{name: "green-service", usage: "ECS fleet: green's `SERVICE`", str: &f.GreenService},
		{name: "blue-asg", usage: "Auto Scaling fleet: blue's EC2 Auto Scaling `GROUP`", str: &f.BlueASG},
		{name: "desired", usage: "rolling: the `N` members to move; bluegreen and migration: green's capacity (default: blue's desired count)", num: &f.Desired},
		{name: "no-retire", usage: "migration: name no blue fleet and leave blue warm at the end: the plan has no point of no return and -approve approves nothing", on: &f.NoRetire},
		{name: "alarms", usage: "CloudWatch alarm `NAMES`, comma-separated, judged as a gate at every stage", str: &f.Alarms},
		{name: "lb-arn", usage: "the ALB `ARN` whose per-target-group metrics the judge and the error-rate gate read (default: that of -listener-arn or -rule-arn)", str: &f.LBARN},
		{name: "slow-expression", usage: "CloudWatch metric math `EXPR` counting slow requests per minute, so the judge compares slow requests too (see awsprovider.ALBMetricsOptions)", str: &f.SlowExpression},
		{name: "steps", usage: "the canary's `WEIGHTS` in percent, increasing, e.g. 1,5,25,50,100 (default: the example's)", str: &f.Steps},
		{name: "bake", usage: "how long each step bakes, a `DURATION` from 1s to 24h, e.g. 5m (default: the example's)", str: &f.Bake},
		{name: "create-table", usage: "create the DynamoDB table of -journal dynamodb:TABLE if it does not exist", on: &f.CreateTable},
	}
}

// Register defines the -aws flag and the flags of the -aws mode on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.BoolVar(&f.On, "aws", false, "drive the real AWS resources the other flags name, on the real clock (credentials and region the SDK's usual way)")
	for _, d := range f.defs() {
		switch {
		case d.str != nil:
			fs.StringVar(d.str, d.name, "", d.usage)
		case d.num != nil:
			fs.IntVar(d.num, d.name, 0, d.usage)
		default:
			fs.BoolVar(d.on, d.name, false, d.usage)
		}
	}
}

// Check checks the combination of the flags, independently of which
// example runs; given reports whether a flag was set on the command line.
// Whether the example has what it needs is checked as it asks for its
// resources (see Cloud).
func (f Flags) Check(given func(name string) bool) error {
	if !f.On {
		for _, d := range f.defs() {
			if given(d.name) {
				return fmt.Errorf("-%s needs -aws", d.name)
			}
		}
		return nil
	}
	if f.ID != "" {
		if err := cutover.ValidateID(f.ID); err != nil {
			return fmt.Errorf("-id: %w", err)
		}
	}
	if f.ListenerARN != "" && f.RuleARN != "" {
		return fmt.Errorf("-listener-arn and -rule-arn: set one, not both")
	}
	alb := f.ListenerARN != "" || f.RuleARN != ""
	r53 := f.HostedZone != "" || f.RecordName != "" || f.RecordType != "" || f.SetIdentifiers != ""
	if alb && r53 {
		return fmt.Errorf("-listener-arn or -rule-arn (ALB) and -hosted-zone (Route 53): set one router, not both")
	}
	if alb && f.TargetGroups == "" {
		name := "-listener-arn"
		if f.RuleARN != "" {
			name = "-rule-arn"
		}
		return fmt.Errorf("%s needs -target-groups blue=ARN,green=ARN", name)
	}
	if f.TargetGroups != "" {
		if _, err := blueGreen("-target-groups", f.TargetGroups); err != nil {
			return err
		}
	}
	if r53 {
		for _, need := range []struct{ name, v string }{{"hosted-zone", f.HostedZone}, {"record-name", f.RecordName}, {"set-identifiers", f.SetIdentifiers}} {
			if need.v == "" {
				return fmt.Errorf("the Route 53 router needs -%s (it takes -hosted-zone, -record-name and -set-identifiers blue=SETID,green=SETID)", need.name)
			}
		}
		if _, err := blueGreen("-set-identifiers", f.SetIdentifiers); err != nil {
			return err
		}
	}
	eb := []struct{ name, v string }{{"blue-env", f.BlueEnv}, {"green-env", f.GreenEnv}, {"cname", f.CNAME}}
	if f.GreenEnv != "" || f.CNAME != "" {
		for _, need := range eb {
			if need.v == "" {
				return fmt.Errorf("the Beanstalk switcher needs -%s (it takes -blue-env, -green-env and -cname)", need.name)
			}
		}
		if f.BlueEnv == f.GreenEnv {
			return fmt.Errorf("-blue-env and -green-env: both name %q; want two environments", f.BlueEnv)
		}
	}
	if f.ECSCluster != "" && f.BlueService == "" && f.GreenService == "" {
		return fmt.Errorf("-ecs-cluster needs -blue-service or -green-service")
	}
	blues := 0
	for _, v := range []string{f.BlueService, f.BlueASG, f.blueEnvFleet()} {
		if v != "" {
			blues++
		}
	}
	if blues > 1 {
		return fmt.Errorf("-blue-service, -blue-asg and -blue-env (without -green-env) each name blue's fleet: give one")
	}
	if f.NoRetire && blues > 0 {
		return fmt.Errorf("-no-retire and a blue fleet (-blue-service, -blue-asg or -blue-env): a named blue fleet is retired; give one or the other")
	}
	if f.BlueService != "" && f.BlueService == f.GreenService {
		return fmt.Errorf("-blue-service and -green-service: both name %q; want two services", f.BlueService)
	}
	if f.Desired < 0 || f.Desired > 10000 {
		return fmt.Errorf("-desired %d: want a number of members in [1, 10000]", f.Desired)
	}
	if f.LBARN != "" && f.TargetGroups == "" {
		return fmt.Errorf("-lb-arn needs -target-groups blue=ARN,green=ARN: the metrics are read per target group")
	}
	if f.SlowExpression != "" && f.TargetGroups == "" {
		return fmt.Errorf("-slow-expression needs ALB metrics: -target-groups with -lb-arn, -listener-arn or -rule-arn")
	}
	if f.Alarms != "" {
		if _, err := alarmNames(f.Alarms); err != nil {
			return err
		}
	}
	if _, err := f.Schedule(); err != nil {
		return err
	}
	if _, err := f.BakeTime(); err != nil {
		return err
	}
	return nil
}

// blueEnvFleet returns -blue-env when it names blue's fleet rather than
// one side of the Beanstalk switcher, and "" otherwise.
func (f Flags) blueEnvFleet() string {
	if f.GreenEnv != "" || f.CNAME != "" {
		return ""
	}
	return f.BlueEnv
}

// blueGreen parses a flag of the form blue=X,green=Y.
func blueGreen(flagName, s string) (map[string]string, error) {
	m, err := awsprovider.ParseTargets(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	if len(m) != 2 || m["blue"] == "" || m["green"] == "" {
		names := slices.Sorted(maps.Keys(m))
		return nil, fmt.Errorf("%s %q: want exactly blue=…,green=…; got the names %s", flagName, s, strings.Join(names, ", "))
	}
	if m["blue"] == m["green"] {
		return nil, fmt.Errorf("%s %q: blue and green are both %q; want two", flagName, s, m["blue"])
	}
	return m, nil
}

// alarmNames splits -alarms.
func alarmNames(s string) ([]string, error) {
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			return nil, fmt.Errorf("-alarms %q: an empty alarm name; want NAME,NAME", s)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("-alarms %q: %q given twice", s, n)
		}
		out = append(out, n)
	}
	return out, nil
}

// Schedule parses -steps: nil when not given.
func (f Flags) Schedule() ([]int, error) {
	if f.Steps == "" {
		return nil, nil
	}
	var out []int
	prev := 0
	for _, p := range strings.Split(f.Steps, ",") {
		w, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || w < 1 || w > 100 {
			return nil, fmt.Errorf("-steps %q: %q: want a whole percentage in [1, 100]", f.Steps, strings.TrimSpace(p))
		}
		if w <= prev {
			return nil, fmt.Errorf("-steps %q: %d after %d: want increasing weights", f.Steps, w, prev)
		}
		out, prev = append(out, w), w
	}
	return out, nil
}

// BakeTime parses -bake: 0 when not given.
func (f Flags) BakeTime() (time.Duration, error) {
	if f.Bake == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(f.Bake)
	if err != nil || d < time.Second || d > 24*time.Hour {
		return 0, fmt.Errorf("-bake %q: want a duration in [1s, 24h], e.g. 5m", f.Bake)
	}
	return d, nil
}
