package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/internal/promtest"
	"github.com/safecutover/safecutover/notify"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/prometheus"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "prometheus:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("prometheus", flag.ContinueOnError)
	fs.SetOutput(errOut)
	bad := fs.Bool("bad-green", false, "green's error rate is twice blue's")
	scrape := fs.Duration("scrape", 5*time.Second, "the server's scrape `interval`")
	rate := fs.Float64("rate", 1000, "requests a second, blue and green together")
	var nf notify.Flags
	nf.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scrape < 10*time.Millisecond {
		return fmt.Errorf("-scrape %v: want ≥ 10ms", *scrape)
	}
	if *rate < 1 {
		return fmt.Errorf("-rate %v: want ≥ 1 request a second", *rate)
	}
	greenErrors := 0.01
	if *bad {
		greenErrors = 0.02
	}
	tr := promtest.NewTraffic(1, 0.01, greenErrors)
	defer tr.Close()
	dir, err := os.MkdirTemp("", "safecutover-prometheus-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prom, stopProm, err := promtest.Run(dir, promtest.Options{ScrapeInterval: *scrape}, tr.URL)
	if err != nil {
		return err
	}
	defer stopProm()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go tr.Serve(tctx, *rate)
	upCtx, upCancel := context.WithTimeout(ctx, max(30**scrape, 10*time.Second))
	defer upCancel()
	if err := prom.Up(upCtx, 1); err != nil {
		return fmt.Errorf("the server did not scrape the service: %w", err)
	}
	fmt.Fprintf(out, "prometheus on %s scrapes the service every %v\n", prom.URL, *scrape)

	src, err := prometheus.New(prom.URL, prometheus.Options{Queries: promtest.Queries, ScrapeInterval: *scrape})
	if err != nil {
		return err
	}
	notifiers, err := nf.Group(ctx, nil, notify.Options{})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := notifiers.Close(cctx); err != nil {
			fmt.Fprintln(errOut, "notifications:", err)
		}
	}()
	var stages []cutover.Stage
	prev := 0
	for _, w := range []int{10, 50, 100} {
		judge, err := health.NewJudge(src, "blue", "green", health.JudgeOptions{Metrics: []string{providers.MetricErrors}, PassInconclusive: true})
		if err != nil {
			return err
		}
		from := prev
		stages = append(stages, cutover.Stage{
			Name:   fmt.Sprintf("green %d%%", w),
			Apply:  func(context.Context) error { tr.SetShare(w); return nil },
			Revert: func(context.Context) error { tr.SetShare(from); return nil },
			Bake:   12 * *scrape,
			Gates:  []cutover.Gate{judge},
		})
		prev = w
	}
	start := time.Now()
	r, err := cutover.NewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{
		Actor:        "example",
		PollInterval: *scrape / 3,
		Observer: cutover.ObserverFunc(func(e cutover.Event) {
			notifiers.Observe(e)
			switch e.Type {
			case cutover.EvStageApplied, cutover.EvStageBaked, cutover.EvRollingBack, cutover.EvRolledBack, cutover.EvCompleted:
				msg := e.Message
				if e.Err != nil {
					msg += ": " + e.Err.Error()
				}
				fmt.Fprintf(out, "%6.1fs  %-13s %s %s\n", time.Since(start).Seconds(), e.Type, e.Stage, msg)
			}
		}),
	})
	if err != nil {
		return err // -scrape out of range, named
	}
	st, err := r.Run(ctx, "prometheus-example", cutover.Plan{Name: "canary judged from Prometheus", Stages: stages})
	fmt.Fprintf(out, "%s after %.1fs\n", st.Phase, time.Since(start).Seconds())
	if *bad && st.Phase == cutover.PhaseRolledBack {
		return nil // what -bad-green is for
	}
	return err
}
