package main

import (
	"time"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
)

var scenario = demo.Scenario{
	ID:    "bluegreen",
	Title: "Blue/green: green beside blue, one switch (a CNAME swap), blue kept warm, then retired",
	Build: build,
}

func main() { demo.Main(scenario) }

func build(env *demo.Env) (cutover.Plan, error) {
	cname := env.Cloud.Switcher("cname", "blue", "green")
	blue, green := env.Cloud.Fleet("blue", 4), env.Cloud.Fleet("green", 0)
	env.Watch = demo.Watch{Switcher: cname, Fleets: []demo.NamedFleet{{Name: "blue", Fleet: blue}, {Name: "green", Fleet: green}}}
	gates, err := demo.NewGates(env)
	if err != nil {
		return cutover.Plan{}, err
	}
	bg, err := bluegreen.New(bluegreen.Options{
		BlueFleet:      blue,
		GreenFleet:     green,
		Switcher:       cname,
		PreSwitchGates: []cutover.Gate{gates.GreenHealthy},
		Gates:          []cutover.Gate{gates.ErrorRate},
		Bake:           10 * time.Minute,
		WarmWindow:     30 * time.Minute,
		PollInterval:   demo.PollInterval,
		Clock:          env.Clock,
	})
	if err != nil {
		return cutover.Plan{}, err
	}
	return cutover.Sequence("blue-green", bg)
}
