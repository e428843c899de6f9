package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// A canary of hand-written stages: each stage sets the share of traffic the
// green target gets; a gate judges it while it bakes.
func ExampleRunner() {
	green := 0 // the "cloud": green's share of traffic, in percent
	shift := func(name string, from, to int) cutover.Stage {
		return cutover.Stage{
			Name:   name,
			Apply:  func(context.Context) error { green = to; return nil },
			Revert: func(context.Context) error { green = from; return nil },
			Bake:   20 * time.Millisecond,
			Gates: []cutover.Gate{cutover.Named("error-rate", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
				return cutover.Verdict{Decision: cutover.Pass, Reason: "0.1% errors ≤ 1%"}, nil
			}))},
		}
	}
	plan := cutover.Plan{Name: "checkout-v2", Stages: []cutover.Stage{
		shift("green-10", 0, 10), shift("green-50", 10, 50), shift("green-100", 50, 100),
	}}

	r, err := cutover.NewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{
		Actor:        "alice",
		PollInterval: 5 * time.Millisecond,
		Observer: cutover.ObserverFunc(func(e cutover.Event) {
			switch e.Type {
			case cutover.EvStageBaked, cutover.EvCompleted:
				fmt.Printf("%s %s: green=%d%%\n", e.Type, e.Stage, green)
			}
		}),
	})
	if err != nil {
		fmt.Println(err) // an option out of range, named
		return
	}
	st, err := r.Run(context.Background(), "checkout-v2-rollout", plan)
	fmt.Println(st.Phase, err)
	// Output:
	// stage_baked green-10: green=10%
	// stage_baked green-50: green=50%
	// stage_baked green-100: green=100%
	// completed : green=100%
	// completed <nil>
}

// A gate that fails rolls the cutover back: every applied stage is
// reverted in reverse order, and the error says which gate failed.
func ExampleRunner_rollback() {
	green := 0
	stage := func(name string, from, to int, gate cutover.Gate) cutover.Stage {
		return cutover.Stage{
			Name:  name,
			Apply: func(context.Context) error { green = to; return nil },
			Revert: func(context.Context) error {
				green = from
				fmt.Printf("reverted %s: green=%d%%\n", name, from)
				return nil
			},
			Gates: []cutover.Gate{gate},
		}
	}
	ok := cutover.Named("5xx", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
		return cutover.Verdict{Decision: cutover.Pass, Final: true}, nil
	}))
	bad := cutover.Named("5xx", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
		return cutover.Verdict{Decision: cutover.Fail, Reason: "green 5xx 4.2% > 1%"}, nil
	}))
	plan := cutover.Plan{Name: "checkout-v2", Stages: []cutover.Stage{
		stage("green-10", 0, 10, ok), stage("green-50", 10, 50, bad), stage("green-100", 50, 100, ok),
	}}
	_, err := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: time.Millisecond}).
		Run(context.Background(), "checkout-v2-rollout", plan)
	var gf *cutover.GateFailedError
	fmt.Println(errors.Is(err, cutover.ErrRolledBack), errors.As(err, &gf), gf.Stage, gf.Gate, green)
	fmt.Println(err)
	// Output:
	// reverted green-50: green=10%
	// reverted green-10: green=0%
	// true true green-50 5xx 0
	// cutover rolled back: stage "green-50": gate "5xx" failed: green 5xx 4.2% > 1%
}

// Analyze shows where the point of no return is and how to move it later.
func ExamplePlan_Analyze() {
	nop := func(context.Context) error { return nil }
	plan := cutover.Plan{Name: "ec2-to-fargate", Stages: []cutover.Stage{
		{Name: "create-green", Apply: nop, Revert: nop, Bake: 10 * time.Minute},
		{Name: "migrate-db", Apply: nop, Reversibility: cutover.Irreversible()},
		{Name: "shift-50", Apply: nop, Revert: nop, Bake: time.Hour},
		{Name: "keep-blue-warm", Apply: nop, Revert: nop, Reversibility: cutover.ReversibleWithin(time.Hour)},
	}}
	a := plan.Analyze()
	fmt.Printf("PNR: stage %d %q\n", a.PNRIndex, a.PNRStage)
	fmt.Printf("reversible: %d stages, %s of %s bake\n", a.ReversibleStages, a.ReversibleBake, a.TotalBake)
	for _, f := range a.Findings {
		fmt.Printf("%s (%s)\n", f.Code, f.Stage)
	}
	// Output:
	// PNR: stage 1 "migrate-db"
	// reversible: 1 stages, 10m0s of 1h10m0s bake
	// irreversible-too-early (migrate-db)
	// no-gate-before-pnr (migrate-db)
	// several-pnrs (keep-blue-warm)
}

// Commands steer a running cutover from anywhere that can write its
// journal: here an approval for the point of no return.
func ExampleSend() {
	j := cutover.NewMemJournal()
	nop := func(context.Context) error { return nil }
	plan := cutover.Plan{Name: "retire-blue", Stages: []cutover.Stage{
		{Name: "shift-100", Apply: nop, Revert: nop},
		{Name: "delete-blue", Apply: nop, Reversibility: cutover.Irreversible()},
	}}
	r := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice", TwoPerson: true})
	ctx := context.Background()
	_, err := r.Run(ctx, "retire-1", plan)
	fmt.Println(errors.Is(err, cutover.ErrPNRNotApproved))

	if err := cutover.Send(ctx, j, "retire-1", cutover.CmdApprove, "bob", "blue idle for a week", "delete-blue"); err != nil {
		fmt.Println(err)
	}
	st, err := r.Run(ctx, "retire-1", plan)
	pnr := cutover.Track(plan, st, time.Now())
	fmt.Println(st.Phase, err, pnr.Crossed, pnr.ApprovedBy, pnr.ApprovalReason)
	// Output:
	// true
	// completed <nil> true bob blue idle for a week
}
