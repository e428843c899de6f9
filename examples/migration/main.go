package main

import (
	"errors"
	"time"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
)

var scenario = demo.Scenario{
	ID:    "migration",
	Title: "EC2/Beanstalk → ECS Fargate: green beside blue, canary weights on the ALB, blue kept warm, then retired",
	Build: build,
	AWS:   true,
}

func main() { demo.Main(scenario) }

// build creates (or, resumed, finds) the ALB and the two fleets in the fake
// cloud and returns the migration plan:
//
//	prepare green → canary 5% → 25% → 50% → 100% → keep blue warm → retire blue
//
// With -aws, green is an ECS service (-green-service) behind the ALB
// router; blue is an EC2 Auto Scaling group (-blue-asg), an Elastic
// Beanstalk environment (-blue-env) or an ECS service (-blue-service), and
// retiring it is the plan's one point of no return. Only -no-retire builds
// a plan that leaves blue warm, with no point of no return at all.
func build(env *demo.Env) (cutover.Plan, error) {
	alb, err := env.Router()
	if err != nil {
		return cutover.Plan{}, err
	}
	blue, err := demo.Optional(env.Fleet("blue", 4)) // the Beanstalk environment's instances
	if err != nil {
		return cutover.Plan{}, err
	}
	green, err := env.Fleet("green", 0) // the Fargate service's tasks
	if err != nil {
		return cutover.Plan{}, err
	}
	capacity := env.Desired(0) // 0: blue's
	if env.AWS != nil && blue == nil && !env.AWS.NoRetire() {
		return cutover.Plan{}, errors.New("-aws: no blue fleet, so blue would never be retired: the plan would have no point of no return and -approve would approve nothing; " +
			"name blue's fleet with -blue-asg GROUP, -blue-env ENVIRONMENT or -blue-service SERVICE, or give -no-retire to leave blue warm for you to retire")
	}
	if blue == nil && capacity == 0 {
		return cutover.Plan{}, errors.New("-aws -no-retire: green is sized like blue's fleet, and none is named; give green's capacity with -desired N")
	}
	env.Watch = demo.Watch{Router: alb, Fleets: []demo.NamedFleet{{Name: "blue (EC2)", Fleet: blue}, {Name: "green (Fargate)", Fleet: green}}}

	gates, err := demo.NewGates(env)
	if err != nil {
		return cutover.Plan{}, err
	}
	bg, err := bluegreen.New(bluegreen.Options{
		BlueFleet:      blue,
		GreenFleet:     green,
		Capacity:       capacity,
		Router:         alb,
		PreSwitchGates: demo.Of(gates.GreenHealthy),
		Gates:          demo.Of(gates.ErrorRate, gates.Alarms),
		Window:         30 * time.Minute,
		PollInterval:   demo.PollInterval,
		Clock:          env.Clock,
	})
	if err != nil {
		return cutover.Plan{}, err
	}
	// The judge compares green with blue, so it is judged while both take
	// traffic (every step below 100 %); the error-rate gate watches green
	// through the whole shift and while blue is kept warm.
	shift, err := canary.New(alb, canary.Options{
		Steps:       canary.Weights(5, 25, 50, 100),
		Bake:        10 * time.Minute,
		Deadline:    20 * time.Minute,
		Comparative: demo.Of(gates.Judge),
		Background:  demo.Of(gates.ErrorRate, gates.Alarms),
		Clock:       env.Clock,
	})
	if err != nil {
		return cutover.Plan{}, err
	}
	return cutover.Sequence("ec2-to-fargate", bg.Prepare(), shift, bg.Finish())
}
