package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers/fake"
)

func main() {
	bad := flag.Bool("bad", false, "make green's error rate ten times blue's")
	flag.Parse()

	clock := cutover.NewScaledClock(time.Time{}, 600) // ten minutes a second
	cloud := fake.New(fake.Options{Seed: 7, Clock: clock})
	router := cloud.Router("web", "blue", "green")
	cloud.SetProfile("blue", fake.Profile{ErrorRate: 0.005})
	if *bad {
		cloud.SetProfile("green", fake.Profile{ErrorRate: 0.05})
	}

	judge, err := health.NewJudge(cloud, "blue", "green", health.JudgeOptions{
		Metrics: []string{"errors"}, Clock: clock,
	})
	if err != nil {
		fail(err)
	}
	shift, err := canary.New(router, canary.Options{
		Steps:       canary.Weights(10, 50, 100),
		Bake:        10 * time.Minute,
		Comparative: []cutover.Gate{judge},
		Clock:       clock,
	})
	if err != nil {
		fail(err)
	}
	plan, err := cutover.Sequence("release 42", shift)
	if err != nil {
		fail(err)
	}

	runner := cutover.NewRunner(cutover.NewMemJournal(), cutover.Options{
		Clock:        clock,
		PollInterval: 10 * time.Second,
		Observer: cutover.ObserverFunc(func(e cutover.Event) {
			if e.Verdict == nil || e.Verdict.Decision != cutover.Pending {
				fmt.Printf("%-14s %-12s %s\n", e.Type, e.Stage, e.Message)
			}
		}),
	})
	_, err = runner.Run(context.Background(), "release-42", plan)
	w, _ := router.Weights(context.Background())
	switch {
	case err == nil:
		fmt.Println("completed:", w)
	case errors.Is(err, cutover.ErrRolledBack):
		fmt.Println("rolled back:", w, "—", err)
		os.Exit(3)
	default:
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "quickstart:", err)
	os.Exit(1)
}
