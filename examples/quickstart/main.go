package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/report"
)

func main() {
	bad := flag.Bool("bad", false, "make green's error rate ten times blue's")
	reportDir := flag.String("report", "", "write the cutover's report (report.md, report.svg, report.txt) into `DIR`")
	flag.Parse()

	clock, err := cutover.NewScaledClock(time.Time{}, 600) // ten minutes a second
	if err != nil {
		fail(err)
	}
	cloud, err := fake.New(fake.Options{Seed: 7, Clock: clock})
	if err != nil {
		fail(err)
	}
	router := cloud.Router("web", "blue", "green")
	cloud.SetProfile("blue", fake.Profile{ErrorRate: 0.005})
	if *bad {
		cloud.SetProfile("green", fake.Profile{ErrorRate: 0.05})
	}

	judge, err := health.NewJudge(cloud, "blue", "green", health.JudgeOptions{
		Metrics: []string{"errors"}, Clock: clock,
		// The traffic it expects, for Plan.Analyze's estimate of how long
		// each step's evidence takes.
		Expect: health.Expectation{RequestRate: 1000},
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

	// How long the evidence takes, before anything moves.
	for _, e := range plan.Analyze().Evidence {
		fmt.Println("evidence:", e)
	}

	journal := cutover.NewMemJournal()
	runner, err := cutover.NewRunner(journal, cutover.RunnerOptions{
		Clock:        clock,
		PollInterval: 10 * time.Second,
		Observer: cutover.ObserverFunc(func(e cutover.Event) {
			if e.Verdict == nil || e.Verdict.Decision != cutover.Pending {
				fmt.Printf("%-14s %-12s %s\n", e.Type, e.Stage, e.Message)
			}
		}),
	})
	if err != nil {
		fail(err)
	}
	_, err = runner.Run(context.Background(), "release-42", plan)
	if *reportDir != "" {
		if rerr := writeReport(journal, "release-42", *reportDir); rerr != nil {
			fail(rerr)
		}
	}
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

// writeReport renders cutover id from its journal into dir.
func writeReport(j cutover.Journal, id, dir string) error {
	recs, err := j.Read(context.Background(), id, 0)
	if err != nil {
		return err
	}
	r, err := report.Build(id, recs, report.Options{})
	if err != nil {
		return err
	}
	if err := report.WriteFiles(dir, r); err != nil {
		return err
	}
	fmt.Println("report:", filepath.Join(dir, "report.md"), filepath.Join(dir, "report.svg"))
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "quickstart:", err)
	os.Exit(1)
}
