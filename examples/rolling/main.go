// Command rolling runs a rolling cutover on the fake cloud: eight members
// move from blue to green two at a time, with at most one above desired
// and at most one unavailable; the ALB's weights follow the healthy
// capacity, and each batch bakes for five minutes while green's error rate
// and health are judged. A failure reverts the batches in reverse order.
//
//	go run ./examples/rolling
//	go run ./examples/rolling -bad-green   # reverts after the first batch, exit 3
//
// Every batch can be reverted, so this plan has no point of no return and
// never waits for an approval. Exit status: 0 completed, 3 rolled back, 1
// any other error.
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
