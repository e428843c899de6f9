package main

import (
	"errors"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/rolling"
)

var scenario = demo.Scenario{
	ID:    "rolling",
	Title: "Rolling: 8 members from blue to green in batches of 2 (max surge 1, max unavailable 1), weights following capacity",
	Build: build,
	AWS:   true,
}

func main() { demo.Main(scenario) }

const desired = 8

// build returns the plan: one stage a batch. With -aws the fleets are ECS
// services (-blue-service, -green-service) and -desired says how many
// members move; the router is optional (without one, traffic follows
// whatever routes to the services).
func build(env *demo.Env) (cutover.Plan, error) {
	alb, err := demo.Optional(env.Router())
	if err != nil {
		return cutover.Plan{}, err
	}
	blue, err := env.Fleet("blue", desired)
	if err != nil {
		return cutover.Plan{}, err
	}
	green, err := env.Fleet("green", 0)
	if err != nil {
		return cutover.Plan{}, err
	}
	n := env.Desired(desired)
	if n == 0 {
		return cutover.Plan{}, errors.New("-aws: the rolling example needs -desired N, the number of members blue runs now")
	}
	env.Watch = demo.Watch{Router: alb, Fleets: []demo.NamedFleet{{Name: "blue", Fleet: blue}, {Name: "green", Fleet: green}}}
	gates, err := demo.NewGates(env)
	if err != nil {
		return cutover.Plan{}, err
	}
	r, err := rolling.New(blue, green, n, rolling.Options{
		BatchSize:      2,
		MaxSurge:       1,
		MaxUnavailable: 1,
		Router:         alb,
		Gates:          demo.Of(gates.ErrorRate, gates.GreenHealthy, gates.Alarms),
		Bake:           5 * time.Minute,
		PollInterval:   demo.PollInterval,
		Clock:          env.Clock,
	})
	if err != nil {
		return cutover.Plan{}, err
	}
	return cutover.Sequence("rolling-release", r)
}
