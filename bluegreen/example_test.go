package bluegreen_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
)

// A blue/green cutover through a switcher (think Beanstalk CNAME swap): the
// runner stops before retiring blue until someone approves it.
func Example() {
	ctx := context.Background()
	cloud := fake.MustNew(fake.Options{})
	blue, green := cloud.Fleet("blue", 4), cloud.Fleet("green", 0)
	cname := cloud.Switcher("cname", "blue", "green")
	healthy := cutover.Named("green healthy", cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
		c, err := green.Capacity(ctx)
		if err != nil || c.Healthy < c.Desired {
			return cutover.Verdict{Decision: cutover.Pending}, err
		}
		return cutover.Verdict{Decision: cutover.Pass}, nil
	}))
	bg, err := bluegreen.New(bluegreen.Options{
		BlueFleet: blue, GreenFleet: green, Switcher: cname,
		PreSwitchGates: []cutover.Gate{healthy},
		Window:         time.Millisecond, // an hour, in real life
		PollInterval:   time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := cutover.Sequence("beanstalk swap", bg)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range plan.Stages {
		fmt.Printf("%-16s %s\n", s.Name, s.Reversibility)
	}
	a := plan.Analyze()
	fmt.Printf("PNR: %q, %d stages reversible before it, %d findings\n", a.PNRStage, a.ReversibleStages, len(a.Findings))

	j := cutover.NewMemJournal()
	runner := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: time.Millisecond})
	_, err = runner.Run(ctx, "swap-1", plan)
	active, _ := cname.Active(ctx)
	fmt.Println("waiting for approval:", errors.Is(err, cutover.ErrPNRNotApproved), "traffic on", active)

	if err := cutover.Send(ctx, j, "swap-1", cutover.CmdApprove, "alice", "metrics clean for an hour", bluegreen.StageRetire); err != nil {
		fmt.Println(err)
		return
	}
	st, err := runner.Run(ctx, "swap-1", plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := blue.Capacity(ctx)
	fmt.Println(st.Phase, "approved by", st.Approvals[0].Actor, "- blue desired", b.Desired)
	// Output:
	// prepare green    reversible
	// switch to green  reversible
	// keep blue warm   reversible
	// retire blue      irreversible
	// PNR: "retire blue", 3 stages reversible before it, 0 findings
	// waiting for approval: true traffic on green
	// completed approved by alice - blue desired 0
}

// Prepare, a canary shift and Finish compose into one migration plan with a
// single point of no return.
func ExampleBlueGreen_Prepare() {
	cloud := fake.MustNew(fake.Options{})
	alb := cloud.Router("alb", "blue", "green")
	errorRate := cutover.Named("green error rate", cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
		return cutover.Verdict{Decision: cutover.Pass}, nil
	}))
	bg, err := bluegreen.New(bluegreen.Options{
		BlueFleet: cloud.Fleet("ec2", 4), GreenFleet: cloud.Fleet("fargate", 0), Router: alb,
		Gates: []cutover.Gate{errorRate},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	shift, err := canary.New(alb, canary.Options{Steps: canary.Weights(5, 25, 50, 100), Bake: 10 * time.Minute, Gates: []cutover.Gate{errorRate}})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := cutover.Sequence("ec2 to fargate", bg.Prepare(), shift, bg.Finish())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range plan.Stages {
		fmt.Printf("%-14s %-12s bake %v\n", s.Name, s.Reversibility, s.Bake)
	}
	a := plan.Analyze()
	fmt.Printf("PNR: %q (stage %d); reversible: %d stages, %v of %v bake; findings: %d\n",
		a.PNRStage, a.PNRIndex, a.ReversibleStages, a.ReversibleBake, a.TotalBake, len(a.Findings))
	// Output:
	// prepare green  reversible   bake 0s
	// canary 5%      reversible   bake 10m0s
	// canary 25%     reversible   bake 10m0s
	// canary 50%     reversible   bake 10m0s
	// canary 100%    reversible   bake 10m0s
	// keep blue warm reversible   bake 1h0m0s
	// retire blue    irreversible bake 0s
	// PNR: "retire blue" (stage 6); reversible: 6 stages, 1h40m0s of 1h40m0s bake; findings: 0
}
