package main

import (
	"errors"
	"time"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
)

var scenario = demo.Scenario{
	ID:    "bluegreen",
	Title: "Blue/green: green beside blue, one switch (a CNAME swap), blue kept warm, then retired",
	Build: build,
	AWS:   true,
}

func main() { demo.Main(scenario) }

// build returns the plan: prepare green → switch → keep blue warm →
// retire blue. With -aws the switch is an Elastic Beanstalk CNAME swap;
// the fleets are ECS services, each optional: without -green-service green
// is taken as ready, without -blue-service the plan ends with blue still
// warm (no retire stage, so no point of no return).
func build(env *demo.Env) (cutover.Plan, error) {
	cname, err := env.Switcher()
	if err != nil {
		return cutover.Plan{}, err
	}
	blue, err := demo.Optional(env.Fleet("blue", 4))
	if err != nil {
		return cutover.Plan{}, err
	}
	green, err := demo.Optional(env.Fleet("green", 0))
	if err != nil {
		return cutover.Plan{}, err
	}
	capacity := env.Desired(0) // 0: blue's
	if green != nil && blue == nil && capacity == 0 {
		return cutover.Plan{}, errors.New("-aws: -green-service is sized like blue's ECS service; give -blue-service, or green's capacity with -desired N")
	}
	env.Watch = demo.Watch{Switcher: cname, Fleets: []demo.NamedFleet{{Name: "blue", Fleet: blue}, {Name: "green", Fleet: green}}}
	gates, err := demo.NewGates(env)
	if err != nil {
		return cutover.Plan{}, err
	}
	bg, err := bluegreen.New(bluegreen.Options{
		BlueFleet:      blue,
		GreenFleet:     green,
		Capacity:       capacity,
		Switcher:       cname,
		PreSwitchGates: demo.Of(gates.GreenHealthy),
		Gates:          demo.Of(gates.ErrorRate, gates.Alarms),
		Bake:           10 * time.Minute,
		Window:         30 * time.Minute,
		PollInterval:   demo.PollInterval,
		Clock:          env.Clock,
	})
	if err != nil {
		return cutover.Plan{}, err
	}
	return cutover.Sequence("blue-green", bg)
}
