package canary_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
)

// A canary over a router of the fake cloud, run to the end.
func Example() {
	ctx := context.Background()
	cloud := fake.MustNew(fake.Options{})
	alb := cloud.Router("alb", "blue", "green")

	c, err := canary.New(alb, canary.Options{Steps: canary.Weights(5, 25, 50, 100)})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := cutover.Sequence("release 42", c)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range plan.Stages {
		fmt.Printf("%-12s %s\n", s.Name, s.Reversibility)
	}
	runner := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: time.Millisecond})
	st, err := runner.Run(ctx, "release-42", plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	w, _ := alb.Weights(ctx)
	fmt.Println(st.Phase, w)
	// Output:
	// canary 5%    reversible
	// canary 25%   reversible
	// canary 50%   reversible
	// canary 100%  reversible
	// completed blue=0 green=100
}

// A gate that fails at 25 % rolls the canary back: all traffic returns to
// the stable target in one change.
func Example_rollback() {
	ctx := context.Background()
	cloud := fake.MustNew(fake.Options{})
	alb := cloud.Router("alb", "blue", "green")

	errorRate := cutover.Named("green errors", cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
		w, err := alb.Weights(ctx)
		if err != nil {
			return cutover.Verdict{}, err
		}
		if w["green"] >= 25 {
			return cutover.Verdict{Decision: cutover.Fail, Reason: "green 5xx rate 4.0% > max 1.0%"}, nil
		}
		return cutover.Verdict{Decision: cutover.Pass}, nil
	}))
	c, err := canary.New(alb, canary.Options{Steps: canary.Weights(5, 25, 50, 100), Gates: []cutover.Gate{errorRate}})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, _ := cutover.Sequence("release 43", c)
	runner := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: time.Millisecond})
	_, err = runner.Run(ctx, "release-43", plan)
	var gf *cutover.GateFailedError
	if errors.Is(err, cutover.ErrRolledBack) && errors.As(err, &gf) {
		fmt.Printf("rolled back: stage %q, gate %q: %s\n", gf.Stage, gf.Gate, gf.Verdict.Reason)
	}
	for _, h := range alb.History() {
		fmt.Println(h.Weights)
	}
	// Output:
	// rolled back: stage "canary 25%", gate "green errors": green 5xx rate 4.0% > max 1.0%
	// blue=100 green=0
	// blue=95 green=5
	// blue=75 green=25
	// blue=100 green=0
}

// Schedules can be written out, or generated linearly or exponentially up
// to a cap.
func ExampleNew_schedules() {
	alb := fake.MustNew(fake.Options{}).Router("alb", "blue", "green")
	for _, opts := range []canary.Options{
		{},
		{Steps: canary.Weights(1, 10, 50)},
		{Linear: 20},
		{Linear: 10, Start: 5, Cap: 40},
		{Factor: 2, Cap: 50},
		{Steps: canary.Weights(10, 5)},
		{Linear: 10, Start: 30, Cap: 20},
	} {
		c, err := canary.New(alb, opts)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(c.Schedule())
	}
	// Output:
	// [1 5 25 50 100]
	// [1 10 50]
	// [20 40 60 80 100]
	// [5 15 25 35 40]
	// [1 2 4 8 16 32 50]
	// canary: Options.Steps[1].Weight 5 does not increase on the step before (10); the schedule must increase
	// canary: Options.Cap 20 is below the first step 30 (Options.Start)
}
