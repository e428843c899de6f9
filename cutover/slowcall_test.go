package cutover_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
)

// hung makes stage i of p a stage whose Apply hangs: it says it entered,
// then blocks until its context is done (or release is closed, if not
// nil), and reports its context's cause on cause.
func hung(c *cloud, p *cutover.Plan, i int, release <-chan struct{}) (entered <-chan struct{}, cause <-chan error) {
	in, out := make(chan struct{}), make(chan error, 1)
	s := &p.Stages[i]
	name := s.Name
	s.Apply = func(ctx context.Context) error {
		close(in)
		select {
		case <-ctx.Done():
			out <- context.Cause(ctx)
			return ctx.Err()
		case <-release:
			c.do("apply", name, true)
			out <- nil
			return nil
		}
	}
	return in, out
}

// ackOf returns the runner's answer to the command of Seq ref, if any.
func ackOf(recs []cutover.Record, ref uint64) (cutover.Record, bool) {
	for _, r := range recs {
		if r.Type == cutover.RecAck && r.Ref == ref {
			return r, true
		}
	}
	return cutover.Record{}, false
}

// An abort sent while a stage's Apply hangs cancels the call's context
// with ErrAborted and rolls back within one poll interval; the abort is
// answered in the journal before the rollback.
func TestAbortDuringHungApply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(3, time.Minute)
		entered, cause := hung(c, &p, 1, nil)
		mem := cutover.NewMemJournal()
		done := startRun(t.Context(), mem, cutover.RunnerOptions{PollInterval: poll}, p)
		<-entered
		time.Sleep(3 * poll) // hung for a while
		sent := time.Now()
		seq, err := cutover.SendSeq(context.Background(), mem, "c", cutover.CmdAbort, "ops", "apply hangs", "")
		if err != nil {
			t.Fatal(err)
		}
		o := <-done
		if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.Is(o.err, cutover.ErrAborted) {
			t.Fatalf("run: %v, want rolled back for the abort", o.err)
		}
		if got := <-cause; !errors.Is(got, cutover.ErrAborted) {
			t.Errorf("Apply's context ended with %v, want ErrAborted", got)
		}
		recs := readAll(t, mem, "c")
		ack, ok := ackOf(recs, seq)
		if !ok || ack.Error != "" || !strings.HasPrefix(ack.Reason, "aborting") {
			t.Fatalf("abort answered %+v (found %t), want an aborting ack", ack, ok)
		}
		last := recs[len(recs)-1]
		if last.Type != cutover.RecRolledBack {
			t.Fatalf("last record %s, want rolled_back", last.Type)
		}
		took := last.Time.Sub(sent)
		t.Logf("abort during a hung Apply: answered after %s, rolled back after %s (poll interval %s)", ack.Time.Sub(sent), took, poll)
		if took > poll {
			t.Errorf("rolled back %s after the abort, want within one poll interval (%s)", took, poll)
		}
		if ack.Seq > last.Seq || ack.Time.After(last.Time) {
			t.Errorf("abort answered at seq %d after the rollback at seq %d", ack.Seq, last.Seq)
		}
		if diff := cmp.Diff([]string{"s1", "s0"}, c.Reverts()); diff != "" {
			t.Errorf("reverts (-want +got):\n%s", diff)
		}
		if got := c.Applied(); len(got) != 0 {
			t.Errorf("applied after the rollback: %v", got)
		}
	})
}

// Pause, approve and resume sent while a stage's Apply hangs are answered
// within a poll interval each, while the call still runs; the pause then
// holds the cutover after the stage, as it would have without the hang.
func TestCommandsAnsweredDuringHungApply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(3, time.Minute)
		p.Stages[2].Approval = true
		release := make(chan struct{})
		entered, cause := hung(c, &p, 1, release)
		mem := cutover.NewMemJournal()
		done := startRun(t.Context(), mem, cutover.RunnerOptions{PollInterval: poll, Actor: "alice"}, p)
		<-entered
		for _, cmd := range []cutover.Command{cutover.CmdPause, cutover.CmdApprove} {
			sent := time.Now()
			seq, err := cutover.SendSeq(context.Background(), mem, "c", cmd, "bob", "on call", "")
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(poll)
			synctest.Wait()
			ack, ok := ackOf(readAll(t, mem, "c"), seq)
			if !ok || ack.Error != "" {
				t.Fatalf("%s not answered within a poll interval while Apply hangs: %+v", cmd, ack)
			}
			if took := ack.Time.Sub(sent); took > poll {
				t.Errorf("%s answered after %s, want within %s", cmd, took, poll)
			}
		}
		select {
		case <-cause:
			t.Fatal("Apply returned before it was released")
		default:
		}
		close(release)
		if err := <-cause; err != nil {
			t.Fatalf("Apply cut short: %v", err)
		}
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if st := foldAll(t, mem, "c"); st.Stages[1].Status != cutover.StageBaked || st.Stages[2].Status != cutover.StagePending {
			t.Fatalf("with the pause: stages %s, %s; want s1 baked and s2 held", st.Stages[1].Status, st.Stages[2].Status)
		}
		if err := cutover.Send(context.Background(), mem, "c", cutover.CmdResume, "bob", "go on", ""); err != nil {
			t.Fatal(err)
		}
		if o := <-done; o.err != nil || o.st.Phase != cutover.PhaseCompleted {
			t.Fatalf("run: %s, %v; want completed with the approval given during the hang", o.st.Phase, o.err)
		}
	})
}

// An unapproved reversibility window of an applied stage is watched while
// the next stage's Apply hangs: the runner cuts the call short and rolls
// back before the window closes, as it would while baking.
func TestWindowWatchedDuringHungApply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(2, time.Minute)
		p.Stages[0].Reversibility = cutover.ReversibleWithin(30 * time.Minute)
		_, cause := hung(c, &p, 1, nil)
		mem := cutover.NewMemJournal()
		o := <-startRun(t.Context(), mem, cutover.RunnerOptions{PollInterval: poll}, p)
		if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.Is(o.err, cutover.ErrPNRNotApproved) {
			t.Fatalf("run: %v, want rolled back before the window closed", o.err)
		}
		if got := <-cause; !errors.Is(got, cutover.ErrPNRNotApproved) {
			t.Errorf("Apply's context ended with %v, want ErrPNRNotApproved", got)
		}
		st := foldAll(t, mem, "c")
		recs := readAll(t, mem, "c")
		if closes := st.Stages[0].AppliedAt.Add(30 * time.Minute); !recs[len(recs)-1].Time.Before(closes) {
			t.Errorf("rolled back at %s, after the window closed at %s", recs[len(recs)-1].Time, closes)
		}
		if diff := cmp.Diff([]string{"s1", "s0"}, c.Reverts()); diff != "" {
			t.Errorf("reverts (-want +got):\n%s", diff)
		}
	})
}

// A command sent while a Revert hangs is answered within a poll interval,
// while the revert still runs; the rollback then completes.
func TestCommandAnsweredDuringHungRevert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(2, time.Minute)
		p.Stages[1].Gates = []cutover.Gate{fixed("errors", cutover.Verdict{Decision: cutover.Fail, Reason: "5xx 9%"})}
		entered, release := make(chan struct{}), make(chan struct{})
		p.Stages[0].Revert = func(ctx context.Context) error {
			close(entered)
			select {
			case <-release:
				c.do("revert", "s0", false)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		mem := cutover.NewMemJournal()
		done := startRun(t.Context(), mem, cutover.RunnerOptions{PollInterval: poll}, p)
		<-entered
		seq, err := cutover.SendSeq(context.Background(), mem, "c", cutover.CmdPause, "ops", "look", "")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(poll)
		synctest.Wait()
		if _, ok := ackOf(readAll(t, mem, "c"), seq); !ok {
			t.Fatal("pause not answered within a poll interval while Revert hangs")
		}
		close(release)
		if o := <-done; !errors.Is(o.err, cutover.ErrRolledBack) {
			t.Fatalf("run: %v, want rolled back", o.err)
		}
		if got := c.Applied(); len(got) != 0 {
			t.Errorf("applied after the rollback: %v", got)
		}
	})
}
