// Package rolling replaces blue's capacity with green's in batches: green
// grows while blue shrinks, one reversible stage per batch, each with its
// gates.
//
// Within a batch, green grows first as far as MaxSurge allows, the runner
// waits (with a bound) until the new members are healthy, and only then
// does blue shrink, as far as MaxUnavailable allows. So at no moment does
// the healthy capacity of blue and green together fall below desired −
// MaxUnavailable, nor their desired capacity rise above desired + MaxSurge.
// With a TrafficRouter, the weights follow the healthy capacity, moved
// before blue shrinks. Reverting a batch makes the same moves the other
// way, back to the capacities before it; members still starting (a batch
// whose Apply was cut short by an abort while they warmed up) are waited
// for, within the same bound, before anything shrinks.
//
//	r, err := rolling.New(blueFleet, greenFleet, 8, rolling.Options{
//		BatchPercent:   25,
//		MaxUnavailable: 1,
//		Gates:          []cutover.Gate{errorRate},
//		Bake:           5 * time.Minute,
//	})
//	if err != nil { ... }
//	plan, err := cutover.Sequence("roll release 42", r)
package rolling
