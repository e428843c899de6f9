// Package canary shifts a growing share of traffic from blue (what runs
// now) to green (what should run next, the canary) through a
// providers.TrafficRouter, one reversible stage per weight step.
//
// The schedule is given as explicit steps (1, 5, 25, 50, 100), as a linear
// ramp (a step size) or as an exponential one (a growth factor), with a cap.
// Each step sets the weights, reads them back until the router confirms them
// (bounded retries, then the stage fails closed), and bakes while its gates
// are judged. Background gates are judged in every step for the whole run.
// Comparative gates (the sequential judge) are judged in every step below
// 100 %, where blue still takes traffic; a comparative gate
// anywhere else is refused by New. MinBake keeps an early final Pass from
// ending a step too soon. A step may pause the run until a resume or
// promote command arrives.
// Reverting any step puts all traffic back on blue in one
// weight change, so a rollback never walks back down the schedule.
//
// The canary yields only the traffic shift, so it composes: between
// bluegreen's Prepare and Finish it is the gradual switch of a blue/green
// migration.
//
//	c, err := canary.New(router, canary.Options{
//		Steps: canary.Weights(5, 25, 50, 100),
//		Bake:  10 * time.Minute,
//		Gates: []cutover.Gate{errorRate},
//	})
//	if err != nil { ... }
//	plan, err := cutover.Sequence("release 42", c)
package canary
