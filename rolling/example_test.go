package rolling_test

import (
	"context"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/rolling"
)

// Eight members move from blue to green two at a time, with one member
// allowed to be unavailable and none above desired; the router's weights
// follow the healthy capacity.
func Example() {
	ctx := context.Background()
	cloud := fake.MustNew(fake.Options{})
	blue, green := cloud.Fleet("blue", 8), cloud.Fleet("green", 0)
	alb := cloud.Router("alb", "blue", "green")

	r, err := rolling.New(blue, green, 8, rolling.Options{
		BatchSize: 2, MaxUnavailable: 1, Router: alb,
		PollInterval: time.Millisecond, VerifyInterval: time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := cutover.Sequence("roll", r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("green after each batch:", r.Batches())
	runner := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{
		PollInterval: time.Millisecond,
		Observer: cutover.ObserverFunc(func(e cutover.Event) {
			if e.Type == cutover.EvStageApplied {
				b, _ := blue.Capacity(ctx)
				g, _ := green.Capacity(ctx)
				w, _ := alb.Weights(ctx)
				fmt.Printf("%s: blue %d, green %d, %s\n", e.Stage, b.Healthy, g.Healthy, w)
			}
		}),
	})
	st, err := runner.Run(ctx, "roll-1", plan)
	fmt.Println(st.Phase, err)
	// Output:
	// green after each batch: [2 4 6 8]
	// batch 1/4: blue 6, green 2, blue=75 green=25
	// batch 2/4: blue 4, green 4, blue=50 green=50
	// batch 3/4: blue 2, green 6, blue=25 green=75
	// batch 4/4: blue 0, green 8, blue=0 green=100
	// completed <nil>
}

// Bad input is an error that names the option.
func ExampleNew_errors() {
	cloud := fake.MustNew(fake.Options{})
	blue, green := cloud.Fleet("blue", 4), cloud.Fleet("green", 0)
	for _, opts := range []rolling.Options{
		{BatchSize: -1},
		{MaxUnavailable: 4},
		{BatchPercent: 120},
	} {
		_, err := rolling.New(blue, green, 4, opts)
		fmt.Println(err)
	}
	// Output:
	// rolling: Options.BatchSize -1: must be ≥ 1
	// rolling: Options.MaxUnavailable 4 would take healthy capacity to zero; it must be below desired 4
	// rolling: Options.BatchPercent 120 outside 1–100
}
