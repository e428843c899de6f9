package demo

import (
	"errors"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/awsdemo"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
)

// Gates are the gates the examples judge with. With -aws a gate whose
// source the flags do not name is nil; Of drops it from a gate list.
type Gates struct {
	// Judge is the sequential judge of green against blue on errors and
	// slow requests, tolerating green up to 1.25× blue's rates (so an
	// identical green is practically never failed by chance). It needs
	// traffic on both. With -aws it reads the ALB's per-target-group
	// metrics and compares 5xx errors (and slow requests with
	// -slow-expression).
	Judge cutover.Gate
	// ErrorRate bounds green's error rate at 2 %, four times blue's usual
	// rate, over the last two minutes (five with -aws: ALB publishes a
	// point a minute, late).
	ErrorRate cutover.Gate
	// GreenHealthy passes when every member of green is healthy (with
	// -aws: green's target group, -target-groups).
	GreenHealthy cutover.Gate
	// Alarms fails while any CloudWatch alarm of -alarms is in ALARM (or
	// has insufficient data); nil on the fake cloud.
	Alarms cutover.Gate
}

// Of returns the gates of gs that are not nil, for a strategy's gate list:
// demo.Of(gates.ErrorRate, gates.Alarms).
func Of(gs ...cutover.Gate) []cutover.Gate {
	var out []cutover.Gate
	for _, g := range gs {
		if g != nil {
			out = append(out, g)
		}
	}
	return out
}

// sources are what the gates read.
type sources struct {
	metrics      providers.MetricSource       // nil: no judge nor error rate
	judgeMetrics []string                     // nil: the judge's default
	window       time.Duration                // of the error rate
	health       providers.TargetHealthSource // nil: no GreenHealthy
	alarms       providers.AlarmSource        // nil: no Alarms
	alarmNames   []string
	expect       health.Expectation // the traffic the judge expects, for Plan.Analyze
}

// NewGates returns the examples' gates over env's fake cloud or, with
// -aws, over the CloudWatch metrics, alarms and target health the flags
// name. With -aws it is an error to name neither metrics nor alarms: a
// cutover judged by nothing is not safe.
func NewGates(env *Env) (Gates, error) {
	src := sources{metrics: env.Cloud, health: env.Cloud, window: 2 * time.Minute, expect: health.Expectation{RequestRate: Rate}}
	if env.AWS != nil {
		var err error
		if src, err = awsSources(env.AWS); err != nil {
			return Gates{}, err
		}
	}
	return newGates(env.Clock, src)
}

func awsSources(c *awsdemo.Cloud) (sources, error) {
	src := sources{window: 5 * time.Minute, judgeMetrics: []string{providers.MetricErrors}}
	if c.Slow() {
		src.judgeMetrics = append(src.judgeMetrics, providers.MetricSlow)
	}
	var err error
	if src.metrics, err = Optional(c.Metrics()); err != nil {
		return src, err
	}
	if src.health, err = Optional(c.TargetHealth()); err != nil {
		return src, err
	}
	a, names, err := c.Alarms()
	if err != nil && !errors.Is(err, awsdemo.ErrNotConfigured) {
		return src, err
	}
	src.alarms, src.alarmNames = a, names
	if src.metrics == nil && src.alarms == nil {
		return src, errors.New("-aws needs evidence for the gates: ALB metrics (-target-groups with -lb-arn, -listener-arn or -rule-arn) or -alarms NAME,NAME")
	}
	return src, nil
}

func newGates(clock cutover.Clock, src sources) (Gates, error) {
	var g Gates
	var err error
	if src.metrics != nil {
		if g.Judge, err = health.NewJudge(src.metrics, "blue", "green", health.JudgeOptions{
			Name:              "judge green vs blue",
			SequentialOptions: health.SequentialOptions{Tolerance: 0.25},
			Metrics:           src.judgeMetrics,
			Expect:            src.expect,
			// A real service may serve a whole step without a 5xx on
			// either side: then the comparison cannot conclude, and the
			// step should pass at the end of its bake, not fail closed.
			PassInconclusive: true,
			Clock:            clock,
		}); err != nil {
			return g, err
		}
		if g.ErrorRate, err = health.NewThreshold(src.metrics, "green", providers.MetricErrors, health.AtMost(0.02), health.ThresholdOptions{
			Name:   "green error rate ≤ 2%",
			Per:    providers.MetricRequests,
			Window: src.window,
			Clock:  clock,
		}); err != nil {
			return g, err
		}
	}
	if src.health != nil {
		if g.GreenHealthy, err = health.NewTargetHealth(src.health, "green", health.TargetHealthOptions{
			Name:  "green targets healthy",
			Clock: clock,
		}); err != nil {
			return g, err
		}
	}
	if src.alarms != nil {
		if g.Alarms, err = health.NewAlarm(src.alarms, src.alarmNames, health.AlarmOptions{Clock: clock}); err != nil {
			return g, err
		}
	}
	return g, nil
}
