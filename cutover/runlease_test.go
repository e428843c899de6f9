package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// A second runner on a cutover whose lease is held gets ErrLeaseHeld; the
// lease is renewed while the first drives and released when it ends.
func TestRunHoldsLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lease := cutover.NewMemLease(cutover.MemLeaseOptions{})
		j := cutover.NewMemJournal()
		c := newCloud()
		p := c.plan(2, time.Hour)
		o := cutover.RunnerOptions{Lease: lease, LeaseTTL: 30 * time.Second, Owner: "one"}
		done := startRun(t.Context(), j, o, p)
		time.Sleep(10 * time.Minute) // many TTLs: renewal must work
		o2 := o
		o2.Owner = "two"
		_, err := cutover.MustNewRunner(j, o2).Run(t.Context(), "c", p)
		var held *cutover.LeaseHeldError
		if !errors.Is(err, cutover.ErrLeaseHeld) || !errors.As(err, &held) || held.Holder != "one" {
			t.Fatalf("second runner: %v, want ErrLeaseHeld by one", err)
		}
		if r := <-done; r.err != nil {
			t.Fatal(r.err)
		}
		if err := lease.Acquire(context.Background(), "c", "three", time.Minute); err != nil {
			t.Errorf("lease not released: %v", err)
		}
	})
}

// flakyLease renews until lost is set, then reports ErrLeaseLost.
type flakyLease struct {
	cutover.Lease
	lost atomic.Bool
}

func (l *flakyLease) Renew(ctx context.Context, id, owner string, ttl time.Duration) error {
	if l.lost.Load() {
		return fmt.Errorf("lease %s: %w", id, cutover.ErrLeaseLost)
	}
	return l.Lease.Renew(ctx, id, owner, ttl)
}

// Losing the lease stops the runner with ErrLeaseLost, without a rollback:
// someone else drives now.
func TestLeaseLostStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lease := &flakyLease{Lease: cutover.NewMemLease(cutover.MemLeaseOptions{})}
		j := cutover.NewMemJournal()
		c := newCloud()
		done := startRun(t.Context(), j, cutover.RunnerOptions{Lease: lease, LeaseTTL: 30 * time.Second}, c.plan(2, time.Hour))
		time.Sleep(20 * time.Minute)
		lease.lost.Store(true)
		r := <-done
		if !errors.Is(r.err, cutover.ErrLeaseLost) || errors.Is(r.err, cutover.ErrRolledBack) {
			t.Fatalf("err %v, want ErrLeaseLost only", r.err)
		}
		if len(c.Reverts()) != 0 || foldAll(t, j, "c").Phase != cutover.PhaseRunning {
			t.Errorf("reverts %v after the lease was lost", c.Reverts())
		}
	})
}

func TestRunRejects(t *testing.T) {
	c := newCloud()
	good := c.plan(2, 0)
	j := cutover.NewMemJournal()
	if _, err := cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(context.Background(), "used", good); err != nil {
		t.Fatal(err)
	}
	renamed := c.plan(2, 0)
	renamed.Stages[1].Name = "other"
	longer := c.plan(3, 0)
	otherName := c.plan(2, 0)
	otherName.Name = "other"
	tests := []struct {
		name string
		r    *cutover.Runner
		id   string
		p    cutover.Plan
		want error
		text string
	}{
		{"empty id", cutover.MustNewRunner(j, cutover.RunnerOptions{}), "", good, nil, "cutover id"},
		{"invalid plan", cutover.MustNewRunner(j, cutover.RunnerOptions{}), "c", cutover.Plan{}, cutover.ErrInvalidPlan, "Stages"},
		{"other plan name", cutover.MustNewRunner(j, cutover.RunnerOptions{}), "used", otherName, cutover.ErrPlanMismatch, "plan"},
		{"other stage name", cutover.MustNewRunner(j, cutover.RunnerOptions{}), "used", renamed, cutover.ErrPlanMismatch, "other"},
		{"other stage count", cutover.MustNewRunner(j, cutover.RunnerOptions{}), "used", longer, cutover.ErrPlanMismatch, "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.r.Run(context.Background(), tt.id, tt.p)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !hasText(err.Error(), tt.text) {
				t.Fatalf("err %v, want %v naming %q", err, tt.want, tt.text)
			}
		})
	}
}

// corruptJournal returns records that do not fold.
type corruptJournal struct{ cutover.Journal }

func (corruptJournal) Read(context.Context, string, uint64) ([]cutover.Record, error) {
	return []cutover.Record{{Seq: 1, Type: cutover.RecStart, Plan: "test-plan", Stages: []string{"s0", "s1"}}, {Seq: 3, Type: cutover.RecCompleted}}, nil
}

func TestRunCorruptJournal(t *testing.T) {
	_, err := cutover.MustNewRunner(corruptJournal{cutover.NewMemJournal()}, cutover.RunnerOptions{}).Run(context.Background(), "c", newCloud().plan(2, 0))
	if !errors.Is(err, cutover.ErrCorruptJournal) || !hasText(err.Error(), "seq 3") {
		t.Fatalf("err %v, want ErrCorruptJournal naming seq 3", err)
	}
}
