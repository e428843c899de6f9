package main

import (
	"time"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
)

var scenario = demo.Scenario{
	ID:    "canary",
	Title: "Canary: green takes 5 → 25 → 100 % of the ALB's traffic, judged against blue while both take traffic",
	Build: build,
	AWS:   true,
}

func main() { demo.Main(scenario) }

func build(env *demo.Env) (cutover.Plan, error) {
	alb, err := env.Router()
	if err != nil {
		return cutover.Plan{}, err
	}
	env.Watch = demo.Watch{Router: alb}
	gates, err := demo.NewGates(env)
	if err != nil {
		return cutover.Plan{}, err
	}
	opts := canary.Options{
		Factor:      5,
		Start:       5,
		Bake:        10 * time.Minute,
		Deadline:    20 * time.Minute,
		Comparative: demo.Of(gates.Judge),
		Background:  demo.Of(gates.ErrorRate, gates.Alarms),
		Clock:       env.Clock,
	}
	if env.AWS != nil {
		// -steps and -bake: a real account's schedule.
		if steps, bake := env.AWS.Schedule(); steps != nil || bake > 0 {
			if steps != nil {
				opts.Factor, opts.Start, opts.Steps = 0, 0, canary.Weights(steps...)
			}
			if bake > 0 {
				opts.Bake, opts.Deadline = bake, 2*bake
			}
		}
	}
	c, err := canary.New(alb, opts)
	if err != nil {
		return cutover.Plan{}, err
	}
	return cutover.Sequence("canary-release", c)
}
