package main

import (
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/rolling"
)

var scenario = demo.Scenario{
	ID:    "rolling",
	Title: "Rolling: 8 members from blue to green in batches of 2 (max surge 1, max unavailable 1), weights following capacity",
	Build: build,
}

func main() { demo.Main(scenario) }

const desired = 8

func build(env *demo.Env) (cutover.Plan, error) {
	alb := env.Cloud.Router("alb", "blue", "green")
	blue, green := env.Cloud.Fleet("blue", desired), env.Cloud.Fleet("green", 0)
	env.Watch = demo.Watch{Router: alb, Fleets: []demo.NamedFleet{{Name: "blue", Fleet: blue}, {Name: "green", Fleet: green}}}
	gates, err := demo.NewGates(env)
	if err != nil {
		return cutover.Plan{}, err
	}
	r, err := rolling.New(blue, green, desired, rolling.Options{
		BatchSize:      2,
		MaxSurge:       1,
		MaxUnavailable: 1,
		Router:         alb,
		Gates:          []cutover.Gate{gates.ErrorRate, gates.GreenHealthy},
		Bake:           5 * time.Minute,
		PollInterval:   demo.PollInterval,
		Clock:          env.Clock,
	})
	if err != nil {
		return cutover.Plan{}, err
	}
	return cutover.Sequence("rolling-release", r)
}
