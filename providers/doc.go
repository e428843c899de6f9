// Package providers declares the small interfaces through which strategies
// and gates reach the cloud — TrafficRouter, Switcher, Fleet, MetricSource,
// AlarmSource and TargetHealthSource — and a conformance suite that every
// implementation runs from its own tests.
//
// Implementations ship in providers/fake (an in-memory cloud) and
// providers/awsprovider (ALB, Route 53, Elastic Beanstalk, ECS, CloudWatch).
// Strategies take the interfaces, so either fits:
//
//	var router providers.TrafficRouter = fake.MustNew(fake.Options{}).Router("alb", "blue", "green")
//	err := router.SetWeights(ctx, providers.Weights{"blue": 90, "green": 10})
//	w, err := router.Weights(ctx) // read back: blue=90 green=10
//
// After a change, strategies wait for it to show with ReadBack (weights),
// ReadBackActive (a switch) and WaitHealthy (capacity), each a bounded
// cutover.Poll that fails closed with an error wrapping
// cutover.ErrWaitTimeout:
//
//	every := cutover.Backoff{Initial: time.Second}
//	err = providers.ReadBack(ctx, router, providers.Weights{"blue": 90, "green": 10},
//		cutover.Poll{Interval: every, Attempts: 5, Clock: clock})
package providers
