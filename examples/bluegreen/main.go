// Command bluegreen runs a blue/green cutover on the fake cloud through a
// switcher (think Elastic Beanstalk CNAME swap): green is scaled to blue's
// capacity and checked alone, all traffic switches at once and bakes,
// blue is kept warm for half an hour, and blue is retired — the point of no
// return — only with an approval.
//
//	go run ./examples/bluegreen -approve ci
//	go run ./examples/bluegreen -bad-green    # switches back, exit 3
//	go run ./examples/bluegreen -journal DIR  # stops before retiring blue, exit 4
//
// Exit status: 0 completed, 3 rolled back, 4 stopped before the point of
// no return waiting for an approval, 1 any other error.
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
