package awsdemo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

// ErrNotConfigured is wrapped by the error of a Cloud method whose
// resource was not named by the flags. The error's text says which flags
// name it; an example for which the resource is optional checks for it
// with errors.Is and goes on without.
var ErrNotConfigured = errors.New("not configured")

// notConfigured is an error that says which flags are missing.
type notConfigured string

func (e notConfigured) Error() string        { return string(e) }
func (e notConfigured) Is(target error) bool { return target == ErrNotConfigured }

// Options configure New. The zero value is valid.
type Options struct {
	// Config are extra options for config.LoadDefaultConfig, after the
	// SDK's usual sources and before -region (tests give an HTTP client
	// that serves a fake).
	Config []func(*config.LoadOptions) error
	// Logger receives the providers' logs (default: no-op).
	Logger *zap.Logger
	// Clock paces the providers' waits (default cutover.RealClock).
	Clock cutover.Clock
}

// Cloud makes the providers of the -aws mode from the flags, each when an
// example first asks for it, and remembers which flags it used, so that a
// flag the example has no use for is reported rather than ignored (see
// Unused). Making a provider calls no AWS API. A Cloud is not safe for
// concurrent use; the providers it returns are.
type Cloud struct {
	f       Flags
	metrics *awsprovider.ALBMetricSource
	cfg     aws.Config
	logger  *zap.Logger
	clock   cutover.Clock
	// elbPacer is shared by everything that calls ELB in this account and
	// region; route53Pacer by Route 53 calls.
	elbPacer, route53Pacer awsprovider.Pacer
	used                   map[string]bool

	elb    *elbv2.Client
	router providers.TrafficRouter
	sw     providers.Switcher
	fleets map[string]providers.Fleet
	// checks are the pre-flight checks of the providers made so far.
	checks []awsprovider.PreflightCheck
}

// New loads the SDK's configuration the usual way (environment, shared
// config and credentials files, SSO, instance roles; -region overrides the
// region) and returns a Cloud for f, which must have passed Check.
// Without a region from any source, the region of -listener-arn, -rule-arn
// or -lb-arn is used; an ARN in another region than the SDK's is an error.
// No region at all is reported by Validate, after what the example lacks.
func New(ctx context.Context, f Flags, opts Options) (*Cloud, error) {
	load := slices.Clone(opts.Config)
	if f.Region != "" {
		load = append(load, config.WithRegion(f.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	for _, a := range []struct{ name, v string }{{"-listener-arn", f.ListenerARN}, {"-rule-arn", f.RuleARN}, {"-lb-arn", f.LBARN}} {
		p, err := arn.Parse(a.v)
		if a.v == "" || err != nil || p.Region == "" {
			continue // the provider reports a malformed ARN
		}
		if cfg.Region == "" {
			cfg.Region = p.Region
		}
		if p.Region != cfg.Region {
			return nil, fmt.Errorf("%s is in region %s but the AWS region is %s; set -region %s", a.name, p.Region, cfg.Region, p.Region)
		}
	}
	// ELB and Route 53 throttle at a few requests a second per account;
	// stay well under that.
	elbPacer, err := awsprovider.NewPacer(5, 5)
	if err != nil {
		return nil, err
	}
	route53Pacer, err := awsprovider.NewPacer(4, 4)
	if err != nil {
		return nil, err
	}
	c := &Cloud{
		f: f, cfg: cfg, logger: opts.Logger, clock: opts.Clock,
		elbPacer: elbPacer, route53Pacer: route53Pacer,
		// The caller uses -region, -id and the journal's flags itself.
		used:   map[string]bool{"region": true, "id": true, "create-table": true},
		fleets: map[string]providers.Fleet{},
	}
	if c.logger == nil {
		c.logger = zap.NewNop()
	}
	if c.clock == nil {
		c.clock = cutover.RealClock{}
	}
	return c, nil
}

// Region is the AWS region the providers call.
func (c *Cloud) Region() string { return c.cfg.Region }

func (c *Cloud) use(names ...string) {
	for _, n := range names {
		c.used[n] = true
	}
}

func (c *Cloud) elbClient() *elbv2.Client {
	if c.elb == nil {
		c.elb = elbv2.NewFromConfig(c.cfg)
	}
	return c.elb
}

// Router returns the router between the targets "blue" and "green": an
// ALB forward action (-listener-arn or -rule-arn, with -target-groups) or
// Route 53 weighted records (-hosted-zone, -record-name, -set-identifiers).
func (c *Cloud) Router() (providers.TrafficRouter, error) {
	if c.router != nil {
		return c.router, nil
	}
	f := c.f
	switch {
	case f.ListenerARN != "" || f.RuleARN != "":
		c.use("listener-arn", "rule-arn", "target-groups")
		name, a := "-listener-arn", f.ListenerARN
		if a == "" {
			name, a = "-rule-arn", f.RuleARN
		}
		tgs, err := blueGreen("-target-groups", f.TargetGroups)
		if err != nil {
			return nil, err
		}
		r, err := awsprovider.NewALBRouter(c.elbClient(), a, tgs, awsprovider.ALBOptions{Logger: c.logger, Pacer: c.elbPacer})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.router = r
		c.check(awsprovider.CheckRouter(name+" and -target-groups", r))
	case f.HostedZone != "":
		c.use("hosted-zone", "record-name", "record-type", "set-identifiers")
		ids, err := blueGreen("-set-identifiers", f.SetIdentifiers)
		if err != nil {
			return nil, err
		}
		typ := f.RecordType
		if typ == "" {
			typ = "A"
		}
		r, err := awsprovider.NewRoute53Router(route53.NewFromConfig(c.cfg), awsprovider.Route53Records{
			HostedZoneID: f.HostedZone, Name: f.RecordName, Type: typ,
			SetIdentifiers: []string{ids["blue"], ids["green"]},
		}, awsprovider.Route53Options{Logger: c.logger, Clock: c.clock, Pacer: c.route53Pacer})
		if err != nil {
			return nil, fmt.Errorf("-hosted-zone %s -record-name %s: %w", f.HostedZone, f.RecordName, err)
		}
		c.router = renamedRouter{r: r, names: ids}
		c.check(awsprovider.CheckRouter("-hosted-zone, -record-name, -set-identifiers", c.router))
	default:
		return nil, notConfigured("-aws needs -listener-arn or -rule-arn with -target-groups blue=ARN,green=ARN (an ALB router), or -hosted-zone, -record-name and -set-identifiers blue=SETID,green=SETID (a Route 53 router)")
	}
	return c.router, nil
}

// Switcher returns the Elastic Beanstalk CNAME swap between -blue-env and
// -green-env, whose targets are "blue" and "green".
func (c *Cloud) Switcher() (providers.Switcher, error) {
	if c.sw != nil {
		return c.sw, nil
	}
	f := c.f
	if f.BlueEnv == "" || f.GreenEnv == "" {
		return nil, notConfigured("-aws needs -blue-env, -green-env and -cname (the Elastic Beanstalk environments whose CNAMEs are swapped)")
	}
	c.use("blue-env", "green-env", "cname")
	s, err := awsprovider.NewBeanstalkSwitcher(elasticbeanstalk.NewFromConfig(c.cfg), f.CNAME, [2]string{f.BlueEnv, f.GreenEnv},
		awsprovider.BeanstalkOptions{Logger: c.logger, Clock: c.clock})
	if err != nil {
		return nil, fmt.Errorf("-blue-env, -green-env, -cname: %w", err)
	}
	c.sw = renamedSwitcher{s: s, names: map[string]string{"blue": f.BlueEnv, "green": f.GreenEnv}}
	c.check(awsprovider.CheckSwitcher("-blue-env, -green-env, -cname", c.sw))
	return c.sw, nil
}

// Fleet returns the fleet of target "blue" or "green": an ECS service
// (-blue-service, -green-service, in -ecs-cluster), or for blue an EC2
// Auto Scaling group (-blue-asg) or an Elastic Beanstalk environment
// (-blue-env without -green-env and -cname).
func (c *Cloud) Fleet(target string) (providers.Fleet, error) {
	if fl, ok := c.fleets[target]; ok {
		return fl, nil
	}
	var (
		fl   providers.Fleet
		flag string
		err  error
	)
	f := c.f
	switch {
	case target == "blue" && f.BlueASG != "":
		flag = "-blue-asg"
		fl, err = awsprovider.NewASGFleet(autoscaling.NewFromConfig(c.cfg), f.BlueASG, awsprovider.ASGOptions{
			Logger: c.logger, TargetHealth: c.elbClient(),
			// Nothing launches into a retired group: no alarm, no
			// schedule.
			SuspendAtZero: []string{"Launch", "AlarmNotification", "ScheduledActions"},
		})
	case target == "blue" && f.blueEnvFleet() != "":
		flag = "-blue-env"
		fl, err = awsprovider.NewBeanstalkFleet(elasticbeanstalk.NewFromConfig(c.cfg), f.BlueEnv,
			awsprovider.BeanstalkFleetOptions{Logger: c.logger, Clock: c.clock})
	case target == "blue" || target == "green":
		service := f.BlueService
		if target == "green" {
			service = f.GreenService
		}
		if service == "" {
			what := fmt.Sprintf("-%s-service (%s's ECS service, in -ecs-cluster)", target, target)
			if target == "blue" {
				what = "-blue-service (blue's ECS service, in -ecs-cluster), -blue-asg (its EC2 Auto Scaling group) or -blue-env alone (its Elastic Beanstalk environment)"
			}
			return nil, notConfigured("-aws needs " + what)
		}
		flag = "-" + target + "-service"
		c.use("ecs-cluster")
		fl, err = awsprovider.NewECSFleet(ecs.NewFromConfig(c.cfg), f.ECSCluster, service, awsprovider.ECSOptions{Logger: c.logger, Clock: c.clock})
	default:
		return nil, fmt.Errorf("fleet %q: want blue or green", target)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	c.use(strings.TrimPrefix(flag, "-"))
	c.check(awsprovider.CheckFleet(flag, fl))
	c.fleets[target] = fl
	return fl, nil
}

// NoRetire returns -no-retire: the example leaves blue warm, with no
// point of no return.
func (c *Cloud) NoRetire() bool {
	c.use("no-retire")
	return c.f.NoRetire
}

// Desired returns -desired, 0 if it was not given.
func (c *Cloud) Desired() int {
	c.use("desired")
	return c.f.Desired
}

// Metrics returns the per-target-group ALB metrics of "blue" and "green"
// (-target-groups) behind -lb-arn, or behind the ALB router's load
// balancer.
func (c *Cloud) Metrics() (providers.MetricSource, error) {
	if c.metrics != nil {
		return c.metrics, nil // one source: one GetMetricData a poll for every gate
	}
	f := c.f
	lb := f.LBARN
	if lb == "" {
		lb = f.ListenerARN + f.RuleARN // at most one is set
	}
	if lb == "" || f.TargetGroups == "" {
		return nil, notConfigured("ALB metrics need -target-groups blue=ARN,green=ARN with -lb-arn (or -listener-arn or -rule-arn)")
	}
	c.use("lb-arn", "target-groups", "slow-expression")
	if f.LBARN == "" {
		c.use("listener-arn", "rule-arn")
	}
	tgs, err := blueGreen("-target-groups", f.TargetGroups)
	if err != nil {
		return nil, err
	}
	m, err := awsprovider.NewALBMetricSource(cloudwatch.NewFromConfig(c.cfg), lb, tgs, awsprovider.ALBMetricsOptions{
		Logger: c.logger, SlowExpression: f.SlowExpression,
	})
	if err != nil {
		return nil, fmt.Errorf("ALB metrics of -target-groups behind %s: %w", lb, err)
	}
	field := "-lb-arn and -target-groups"
	if f.LBARN == "" {
		field = "-target-groups (ALB metrics)"
	}
	end := c.clock.Now()
	var qs []providers.MetricQuery
	for _, target := range []string{"blue", "green"} {
		qs = append(qs, providers.MetricQuery{Target: target, Metric: providers.MetricRequests, Start: end.Add(-5 * time.Minute), End: end})
		if f.SlowExpression != "" {
			qs = append(qs, providers.MetricQuery{Target: target, Metric: providers.MetricSlow, Start: end.Add(-5 * time.Minute), End: end})
		}
	}
	c.check(awsprovider.CheckMetrics(field, m, qs...))
	c.metrics = m
	return m, nil
}

// Slow reports whether Metrics answers providers.MetricSlow
// (-slow-expression).
func (c *Cloud) Slow() bool { return c.f.SlowExpression != "" }

// TargetHealth returns the health of the members of "blue" and "green"
// (-target-groups).
func (c *Cloud) TargetHealth() (providers.TargetHealthSource, error) {
	if c.f.TargetGroups == "" {
		return nil, notConfigured("target health needs -target-groups blue=ARN,green=ARN")
	}
	c.use("target-groups")
	tgs, err := blueGreen("-target-groups", c.f.TargetGroups)
	if err != nil {
		return nil, err
	}
	s, err := awsprovider.NewTargetHealthSource(c.elbClient(), tgs, awsprovider.TargetHealthOptions{Logger: c.logger, Pacer: c.elbPacer})
	if err != nil {
		return nil, fmt.Errorf("-target-groups: %w", err)
	}
	c.check(awsprovider.CheckTargetHealth("-target-groups (target health)", s, "blue", "green"))
	return s, nil
}

// Alarms returns the CloudWatch alarms of -alarms and their names.
func (c *Cloud) Alarms() (providers.AlarmSource, []string, error) {
	if c.f.Alarms == "" {
		return nil, nil, notConfigured("an alarm gate needs -alarms NAME,NAME")
	}
	c.use("alarms")
	names, err := alarmNames(c.f.Alarms)
	if err != nil {
		return nil, nil, err
	}
	s, err := awsprovider.NewAlarmSource(cloudwatch.NewFromConfig(c.cfg), awsprovider.AlarmSourceOptions{Logger: c.logger})
	if err != nil {
		return nil, nil, fmt.Errorf("-alarms: %w", err)
	}
	c.check(awsprovider.CheckAlarms("-alarms", s, names))
	return s, names, nil
}

// Config returns a copy of the AWS configuration the providers use, for
// the DynamoDB journal (journalflag.Options.AWSConfig).
func (c *Cloud) Config() *aws.Config {
	cfg := c.cfg.Copy()
	return &cfg
}

// Schedule returns -steps and -bake (nil and 0 for those not given), for
// an example whose schedule they set.
func (c *Cloud) Schedule() ([]int, time.Duration) {
	c.use("steps", "bake")
	steps, _ := c.f.Schedule() // checked by Flags.Check
	bake, _ := c.f.BakeTime()
	return steps, bake
}

// Validate reports, once the example has asked for its resources, the
// flags it had no use for (naming the example) and a missing region.
func (c *Cloud) Validate(example string) error {
	if unused := c.Unused(); len(unused) > 0 {
		return fmt.Errorf("%s: not used by the %s example; see -h", strings.Join(unused, ", "), example)
	}
	if c.cfg.Region == "" {
		return errors.New("no AWS region: set -region, AWS_REGION or a region in the AWS profile")
	}
	return nil
}

// check adds a pre-flight check of a provider the example asked for; a
// provider asked for twice is checked once.
func (c *Cloud) check(pc awsprovider.PreflightCheck) {
	if !slices.ContainsFunc(c.checks, func(o awsprovider.PreflightCheck) bool { return o.Field == pc.Field }) {
		c.checks = append(c.checks, pc)
	}
}

// Preflight checks, before anything is journaled, that the credentials
// work and that every resource the example asked for exists and can be
// read — router, switcher, fleets, alarms, metrics, target health — and
// reports every problem at once under the flags that name it
// (awsprovider.Preflight). The journal's DynamoDB table is checked when it
// is opened (journalflag.Open), still before anything is journaled.
func (c *Cloud) Preflight(ctx context.Context) error {
	opts := awsprovider.PreflightOptions{}
	// Without credentials every other check fails for that reason alone.
	if err := awsprovider.Preflight(ctx, opts, awsprovider.CheckCredentials("credentials", c.cfg.Credentials)); err != nil {
		return err
	}
	return awsprovider.Preflight(ctx, opts, c.checks...)
}

// Unused returns the flags that were given but that nothing asked for
// (as "-name"), in the order -h lists them.
func (c *Cloud) Unused() []string {
	var out []string
	f := c.f
	for _, d := range f.defs() {
		given := d.str != nil && *d.str != "" || d.num != nil && *d.num != 0 || d.on != nil && *d.on
		if given && !c.used[d.name] {
			out = append(out, "-"+d.name)
		}
	}
	return out
}
