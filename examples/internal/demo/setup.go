package demo

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/awsdemo"
	"github.com/safecutover/safecutover/journalflag"
	"github.com/safecutover/safecutover/providers/fake"
)

// setup is what a run drives: the journal and lease, the records already
// journaled, the clock and the scenario's environment.
type setup struct {
	id      string
	journal cutover.Journal
	lease   cutover.Lease
	recs    []cutover.Record
	clock   cutover.Clock
	env     *Env
	actor   string
}

// setupFake makes the fake cloud on an accelerated clock, with the
// journal in memory or, with -journal, in files (the fake cloud saved
// beside it) so that a killed run resumes.
func setupFake(ctx context.Context, s Scenario, f Flags) (setup, error) {
	su := setup{id: s.ID, journal: cutover.NewMemJournal(), actor: "demo"}
	origin := time.Now()
	var store *journalflag.Store
	if f.Journal != "" {
		var err error
		if store, err = journalflag.Open(ctx, f.Journal, journalflag.Options{}); err != nil {
			return su, err
		}
		su.journal = store.Journal
		if su.recs, err = store.Journal.Read(ctx, s.ID, 0); err != nil {
			return su, fmt.Errorf("-journal: %w", err)
		}
		// A resumed run's clock goes on from where the last one stopped.
		if n := len(su.recs); n > 0 && su.recs[n-1].Time.After(origin) {
			origin = su.recs[n-1].Time
		}
		if t, err := fake.SavedAt(cloudPath(f)); err == nil && t.After(origin) {
			origin = t
		}
	}
	clock, err := cutover.NewScaledClock(origin, f.Speed)
	if err != nil {
		return su, fmt.Errorf("-speed: %w", err)
	}
	su.clock = clock
	fopts := fake.Options{Seed: f.Seed, Clock: su.clock, Rate: Rate, WarmUp: 90 * time.Second, Profile: BlueProfile}
	var cloud *fake.Cloud
	if store != nil {
		var err error
		if cloud, err = fake.Open(cloudPath(f), fopts); err != nil {
			return su, fmt.Errorf("-journal: %w", err)
		}
		if su.lease, err = store.Lease(su.clock); err != nil {
			return su, err
		}
	} else {
		var err error
		if cloud, err = fake.New(fopts); err != nil {
			return su, fmt.Errorf("fake cloud: %w", err)
		}
	}
	su.env = &Env{Cloud: cloud, Clock: su.clock, Flags: f}
	green := BlueProfile
	if f.BadGreen {
		green.ErrorRate = 10 * BlueProfile.ErrorRate
	}
	return su, cloud.SetProfile("green", green)
}

// setupAWS makes the real providers from the flags, on the real clock;
// openAWSJournal opens the journal once the plan is built.
func setupAWS(ctx context.Context, s Scenario, f Flags, std IO) (setup, error) {
	su := setup{id: s.ID, clock: cutover.RealClock{}, actor: "safecutover-example"}
	if f.AWS.ID != "" {
		su.id = f.AWS.ID
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		su.actor = u.Username
	}
	cloud, err := awsdemo.New(ctx, f.AWS, awsdemo.Options{Config: std.AWSConfig, Clock: su.clock})
	if err != nil {
		return su, err
	}
	su.env = &Env{AWS: cloud, Clock: su.clock, Flags: f}
	return su, nil
}

// openAWSJournal opens the journal and lease that -journal names — a
// directory, or dynamodb:TABLE in the providers' AWS configuration (checked,
// or created with -create-table) — and reads the cutover's records.
func (su *setup) openAWSJournal(ctx context.Context, f Flags) error {
	store, err := journalflag.Open(ctx, f.Journal, journalflag.Options{CreateTable: f.AWS.CreateTable, AWSConfig: su.env.AWS.Config()})
	if err != nil {
		return err
	}
	su.journal = store.Journal
	if su.lease, err = store.Lease(su.clock); err != nil {
		return err
	}
	su.recs, err = su.journal.Read(ctx, su.id, 0)
	return err
}

func cloudPath(f Flags) string { return filepath.Join(f.Journal, "fake-cloud.json") }

// runLeased runs the plan; while another run holds the lease (a killed run
// whose lease has not expired yet) it waits, at most two lease lifetimes.
func runLeased(ctx context.Context, r *cutover.Runner, id string, p cutover.Plan, clock cutover.Clock, ui *UI) (cutover.State, error) {
	var st cutover.State
	wait := cutover.Poll{
		What:     "run " + id + " while another run holds the lease",
		Interval: cutover.Backoff{Initial: LeaseTTL / 4},
		Attempts: 9,
		Retry:    func(err error) bool { return errors.Is(err, cutover.ErrLeaseHeld) },
		Clock:    clock,
	}
	attempt := 0
	err := wait.Until(ctx, func(ctx context.Context) (bool, string, error) {
		var err error
		st, err = r.Run(ctx, id, p)
		if attempt++; attempt == 1 && errors.Is(err, cutover.ErrLeaseHeld) {
			ui.line("", "another run holds the lease (%v); waiting for it to expire", err)
		}
		return err == nil, "", err
	})
	return st, err
}
