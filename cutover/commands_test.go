package cutover_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/safecutover/safecutover/cutover"
)

const poll = 10 * time.Second

// startRun runs p as cutover "c" in a goroutine and returns a channel
// with the outcome.
type outcome struct {
	st  cutover.State
	err error
}

func startRun(ctx context.Context, j cutover.Journal, o cutover.RunnerOptions, p cutover.Plan) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		st, err := cutover.MustNewRunner(j, o).Run(ctx, "c", p)
		ch <- outcome{st, err}
	}()
	return ch
}

// Commands written through a second journal handle are obeyed within one
// poll interval.
func TestCommandsObeyedWithinOnePoll(t *testing.T) {
	tests := []struct {
		name  string
		cmds  []cutover.Command // sent 25 min into stage s1's 1h bake, 1 min apart
		check func(t *testing.T, o outcome, c *cloud, rec *recorder, sent time.Time)
	}{
		{"abort", []cutover.Command{cutover.CmdAbort}, func(t *testing.T, o outcome, c *cloud, rec *recorder, sent time.Time) {
			if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.Is(o.err, cutover.ErrAborted) {
				t.Fatalf("err %v, want ErrRolledBack and ErrAborted", o.err)
			}
			e, _ := rec.First(cutover.EvRollingBack)
			if d := e.Time.Sub(sent); d < 0 || d > poll {
				t.Errorf("rollback started %s after the abort, want ≤ %s", d, poll)
			}
			if len(c.Applied()) != 0 {
				t.Errorf("cloud %v", c.Applied())
			}
		}},
		{"promote", []cutover.Command{cutover.CmdPromote}, func(t *testing.T, o outcome, c *cloud, rec *recorder, sent time.Time) {
			if o.err != nil {
				t.Fatal(o.err)
			}
			baked := o.st.Stages[1].BakedAt
			if d := baked.Sub(sent); d < 0 || d > poll {
				t.Errorf("s1 baked %s after the promote, want ≤ %s", d, poll)
			}
			// The next stage bakes in full.
			if d := o.st.Stages[2].BakedAt.Sub(o.st.Stages[2].AppliedAt); d != time.Hour {
				t.Errorf("s2 baked %s, want 1h", d)
			}
		}},
		{"pause then resume", []cutover.Command{cutover.CmdPause, cutover.CmdResume}, func(t *testing.T, o outcome, c *cloud, rec *recorder, sent time.Time) {
			if o.err != nil {
				t.Fatal(o.err)
			}
			// Paused after s1 baked (it keeps baking), resumed a minute after
			// the pause was sent: long before s1's bake ended, so no hold.
			if rec.Count(cutover.EvPaused) != 0 {
				t.Errorf("events %v", rec.Types())
			}
		}},
		{"pause holds after the bake", []cutover.Command{cutover.CmdPause}, func(t *testing.T, o outcome, c *cloud, rec *recorder, sent time.Time) {
			if !errors.Is(o.err, cutover.ErrRolledBack) || !errors.Is(o.err, context.DeadlineExceeded) {
				t.Fatalf("err %v, want a rollback at the test's deadline", o.err)
			}
			if rec.Count(cutover.EvPaused) != 1 || o.st.Stages[2].Status != cutover.StagePending {
				t.Errorf("events %v, s2 %s: want a hold before s2", rec.Types(), o.st.Stages[2].Status)
			}
			if got := c.Log(); len(got) != 4 || got[2] != "revert s1" {
				t.Errorf("cloud log %v, want s0, s1 applied and reverted", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				p := c.plan(3, time.Hour)
				mem := cutover.NewMemJournal()
				rec := &recorder{}
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Hour)
				defer cancel()
				done := startRun(ctx, mem, cutover.RunnerOptions{Observer: rec, PollInterval: poll}, p)
				time.Sleep(time.Hour + 25*time.Minute + 3*time.Second)
				sent := time.Now()
				for _, cmd := range tt.cmds {
					if err := cutover.Send(context.Background(), mem, "c", cmd, "ops", "test", ""); err != nil {
						t.Fatal(err)
					}
					time.Sleep(time.Minute)
				}
				tt.check(t, <-done, c, rec, sent)
			})
		})
	}
}

// A stage with Pause holds after its bake until resume, and a paused
// cutover still rolls back on abort.
func TestStagePauseHoldsUntilResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(2, time.Minute)
		p.Stages[0].Pause = true
		mem := cutover.NewMemJournal()
		rec := &recorder{}
		done := startRun(t.Context(), mem, cutover.RunnerOptions{Observer: rec, PollInterval: poll}, p)
		time.Sleep(time.Hour)
		if diff := cmp.Diff([]string{"s0"}, c.Applied()); diff != "" {
			t.Fatalf("cloud after 1h (-want +got):\n%s", diff)
		}
		if err := cutover.Send(context.Background(), mem, "c", cutover.CmdResume, "ops", "looks good", ""); err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		o := <-done
		if o.err != nil {
			t.Fatal(o.err)
		}
		if d := o.st.Stages[1].AppliedAt.Sub(sent); d < 0 || d > poll {
			t.Errorf("s1 applied %s after resume, want ≤ %s", d, poll)
		}
		if rec.Count(cutover.EvPaused) != 1 || rec.Count(cutover.EvResumed) != 1 {
			t.Errorf("events %v", rec.Types())
		}
	})
}

func TestSendValidates(t *testing.T) {
	mem := cutover.NewMemJournal()
	ctx := context.Background()
	if _, err := cutover.MustNewRunner(mem, cutover.RunnerOptions{}).Run(ctx, "done", cutover.Plan{Name: "p", Stages: []cutover.Stage{newCloud().stage("a", 0)}}); err != nil {
		t.Fatal(err)
	}
	irr := newCloud().stage("b", 0)
	irr.Reversibility = cutover.Irreversible()
	if _, err := cutover.MustNewRunner(mem, cutover.RunnerOptions{}).Run(ctx, "open", cutover.Plan{Name: "p", Stages: []cutover.Stage{newCloud().stage("a", 0), irr}}); !errors.Is(err, cutover.ErrPNRNotApproved) {
		t.Fatalf("run open: %v, want ErrPNRNotApproved", err)
	}
	tests := []struct {
		name                 string
		j                    cutover.Journal
		id                   string
		cmd                  cutover.Command
		actor, reason, stage string
		want                 string // in the error; "" for success
	}{
		{"approve", mem, "open", cutover.CmdApprove, "bob", "ok", "", ""},
		{"pause without actor", mem, "open", cutover.CmdPause, "", "", "", ""},
		{"unknown command", mem, "open", "reboot", "bob", "", "", "cmd"},
		{"approve without actor", mem, "open", cutover.CmdApprove, "", "", "", "actor"},
		{"approve unknown stage", mem, "open", cutover.CmdApprove, "bob", "ok", "nope", "stage"},
		{"pause unknown stage", mem, "open", cutover.CmdPause, "bob", "", "nope", "stage"},
		{"abort without actor", mem, "open", cutover.CmdAbort, "", "why", "", "actor"},
		{"abort without reason", mem, "open", cutover.CmdAbort, "bob", "", "", "reason"},
		{"ended", mem, "done", cutover.CmdAbort, "bob", "why", "", "it completed at"},
		{"no such cutover", mem, "nope", cutover.CmdAbort, "bob", "why", "", "no such cutover"},
		{"nil journal", nil, "done", cutover.CmdAbort, "bob", "", "", "journal is nil"},
		{"empty id", mem, "", cutover.CmdAbort, "bob", "", "", "cutover id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cutover.Send(ctx, tt.j, tt.id, tt.cmd, tt.actor, tt.reason, tt.stage)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err == nil || !hasText(err.Error(), tt.want) {
				t.Fatalf("err %v, want one naming %q", err, tt.want)
			}
		})
	}
	if err := cutover.Send(ctx, mem, "done", cutover.CmdApprove, "bob", "late", ""); !errors.Is(err, cutover.ErrEnded) {
		t.Errorf("send to an ended cutover: %v, want ErrEnded", err)
	}
	st := foldAll(t, mem, "open")
	if len(st.Approvals) != 1 || st.Approvals[0].Actor != "bob" {
		t.Errorf("approvals %+v", st.Approvals)
	}
}

// racyJournal loses the race for the sequence number to another writer's
// record before the n-th append.
type racyJournal struct {
	cutover.Journal
	n       int
	appends int
	other   cutover.Record
}

func (j *racyJournal) Append(ctx context.Context, id string, rec cutover.Record) error {
	j.appends++
	if j.appends == j.n {
		o := j.other
		o.Seq = rec.Seq
		o.Time = time.Now()
		if err := j.Journal.Append(ctx, id, o); err != nil {
			return err
		}
	}
	return j.Journal.Append(ctx, id, rec)
}

// A command that wins the race for the Seq is folded in and the append
// retried; any other record means another runner: ErrLeaseLost.
func TestJournalConflicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		j := &racyJournal{Journal: cutover.NewMemJournal(), n: 4, other: cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdAbort, Actor: "ops"}}
		_, err := cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(t.Context(), "c", c.plan(3, time.Minute))
		if !errors.Is(err, cutover.ErrAborted) || !errors.Is(err, cutover.ErrRolledBack) {
			t.Fatalf("err %v, want the raced abort obeyed", err)
		}
		c = newCloud()
		j = &racyJournal{Journal: cutover.NewMemJournal(), n: 4, other: cutover.Record{Type: cutover.RecBaked, Stage: "s0"}}
		_, err = cutover.MustNewRunner(j, cutover.RunnerOptions{}).Run(t.Context(), "c", c.plan(3, time.Minute))
		if !errors.Is(err, cutover.ErrLeaseLost) || errors.Is(err, cutover.ErrRolledBack) {
			t.Fatalf("err %v, want ErrLeaseLost and no rollback", err)
		}
		if len(c.Reverts()) != 0 {
			t.Errorf("reverted %v after losing the journal to another runner", c.Reverts())
		}
	})
}

// An abort written through a second file-journal handle on the same
// directory (as another process would) is obeyed within one poll.
func TestAbortThroughSecondFileJournalHandle(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		a, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c := newCloud()
		rec := &recorder{}
		done := startRun(t.Context(), a, cutover.RunnerOptions{Observer: rec, PollInterval: poll}, c.plan(3, time.Hour))
		time.Sleep(90*time.Minute + time.Second)
		if err := cutover.Send(context.Background(), b, "c", cutover.CmdAbort, "ops", "pager fired", ""); err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		o := <-done
		if !errors.Is(o.err, cutover.ErrAborted) {
			t.Fatalf("err %v, want ErrAborted", o.err)
		}
		e, _ := rec.First(cutover.EvRollingBack)
		if d := e.Time.Sub(sent); d < 0 || d > poll {
			t.Errorf("rollback began %s after the abort, want ≤ %s", d, poll)
		}
		if st := foldAll(t, b, "c"); st.Phase != cutover.PhaseRolledBack || !st.Aborted {
			t.Errorf("journal read through the other handle: phase %s aborted %v", st.Phase, st.Aborted)
		}
		if len(c.Applied()) != 0 {
			t.Errorf("cloud %v", c.Applied())
		}
	})
}

// A promote during the bake of a stage with Pause ends the bake and skips
// the pause.
func TestPromoteSkipsStagePause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(2, time.Hour)
		p.Stages[0].Pause = true
		mem := cutover.NewMemJournal()
		rec := &recorder{}
		done := startRun(t.Context(), mem, cutover.RunnerOptions{Observer: rec, PollInterval: poll}, p)
		time.Sleep(10 * time.Minute)
		if err := cutover.Send(context.Background(), mem, "c", cutover.CmdPromote, "ops", "", ""); err != nil {
			t.Fatal(err)
		}
		o := <-done
		if o.err != nil {
			t.Fatal(o.err)
		}
		if d := o.st.Stages[1].AppliedAt.Sub(o.st.Stages[0].AppliedAt); d < 10*time.Minute || d > 10*time.Minute+poll {
			t.Errorf("s1 applied %s after s0, want within a poll of the promote at 10m", d)
		}
		if rec.Count(cutover.EvPaused) != 0 {
			t.Errorf("events %v", rec.Types())
		}
	})
}

// A promote that ended a bake also skips the stage's Pause. A runner that
// resumes the cutover after a crash later on must not pause at that stage
// again: the journal shows it was promoted.
func TestResumeDoesNotRepausePromotedStage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{
			c.stage("s0", time.Hour, pass("ok")),
			c.stage("s1", time.Hour, pass("ok")),
		}}
		p.Stages[0].Pause = true
		c.do("apply", "s0", true)
		c.do("apply", "s1", true)
		j := cutover.NewMemJournal()
		// The first runner applied s0, was promoted during its bake
		// (skipping its pause), applied s1 and crashed.
		appendRecords(t, j, "c",
			cutover.Record{Type: cutover.RecStart, Plan: "p", Stages: []string{"s0", "s1"}},
			cutover.Record{Type: cutover.RecIntent, Stage: "s0", Index: 0, Action: "apply"},
			cutover.Record{Type: cutover.RecApplied, Stage: "s0", Index: 0},
			cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdPromote, Actor: "bob"},
			cutover.Record{Type: cutover.RecBaked, Stage: "s0", Index: 0},
			cutover.Record{Type: cutover.RecIntent, Stage: "s1", Index: 1, Action: "apply"},
			cutover.Record{Type: cutover.RecApplied, Stage: "s1", Index: 1},
		)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Hour)
		defer cancel()
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: time.Second}).Run(ctx, "c", p)
		if err != nil {
			t.Fatalf("resumed run: %v (phase %s); want it to complete without pausing at s0 again", err, st.Phase)
		}
		if st.Phase != cutover.PhaseCompleted {
			t.Fatalf("phase %s, want completed", st.Phase)
		}
	})
}

// A pause holds the cutover where it is. A pause sent while the runner waits
// for an approval still holds after the approval arrives: the approved
// stage is applied only after a resume.
func TestPauseHoldsAcrossApproval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		retire := c.irreversible("retire")
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s0", time.Minute, pass("ok")), retire}}
		j := cutover.NewMemJournal()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			opts := cutover.RunnerOptions{Actor: "alice", PollInterval: 10 * time.Second, WaitForApproval: true}
			_, err := cutover.MustNewRunner(j, opts).Run(ctx, "c", p)
			done <- err
		}()
		send := func(cmd cutover.Command, actor string) {
			t.Helper()
			if err := cutover.Send(ctx, j, "c", cmd, actor, "review", ""); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Minute) // s0 baked; waiting for the approval
		send(cutover.CmdPause, "carol")
		time.Sleep(time.Minute)
		send(cutover.CmdApprove, "bob")
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		if slices.Contains(c.Applied(), "retire") {
			t.Fatalf("retire applied while a pause was in force (cloud %v)", c.Applied())
		}
		send(cutover.CmdResume, "carol")
		if err := <-done; err != nil {
			t.Fatalf("Run after resume: %v", err)
		}
		if !slices.Contains(c.Applied(), "retire") {
			t.Fatalf("cloud %v, want retire applied after the resume", c.Applied())
		}
	})
}
