package cutover_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// reviewAppend appends recs to j as cutover id, numbering them from 1.
func reviewAppend(t *testing.T, j cutover.Journal, id string, recs ...cutover.Record) {
	t.Helper()
	for i, r := range recs {
		r.Seq = uint64(i + 1)
		if r.Time.IsZero() {
			r.Time = time.Now()
		}
		if err := j.Append(context.Background(), id, r); err != nil {
			t.Fatal(err)
		}
	}
}

// A promote that ended a bake also skips the stage's Pause. A runner that
// resumes the cutover after a crash later on must not pause at that stage
// again: the journal shows it was promoted.
func TestReviewResumeDoesNotRepausePromotedStage(t *testing.T) {
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
		reviewAppend(t, j, "c",
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
		st, err := cutover.NewRunner(j, cutover.Options{PollInterval: time.Second}).Run(ctx, "c", p)
		if err != nil {
			t.Fatalf("resumed run: %v (phase %s); want it to complete without pausing at s0 again", err, st.Phase)
		}
		if st.Phase != cutover.PhaseCompleted {
			t.Fatalf("phase %s, want completed", st.Phase)
		}
	})
}

// The zero ScaledClock runs at the wall clock's pace ("the zero Factor
// means 1"): its time moves, and After waits.
func TestReviewScaledClockZeroValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c cutover.ScaledClock
		t0, start := c.Now(), time.Now()
		<-c.After(time.Second)
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("After(1s) returned after %s, want ≥ 1s", waited)
		}
		if moved := c.Now().Sub(t0); moved < time.Second {
			t.Errorf("clock moved %s in 1s, want ≥ 1s", moved)
		}
	})
}

// A gate that is a nil func or wraps a nil gate would panic in the runner:
// Validate rejects it, naming the stage and the field.
func TestReviewValidateTypedNilGate(t *testing.T) {
	tests := []struct {
		name string
		gate cutover.Gate
	}{
		{"nil GateFunc", cutover.GateFunc(nil)},
		{"Named nil", cutover.Named("g", nil)},
		{"Named nil GateFunc", cutover.Named("g", cutover.GateFunc(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := cutover.Plan{Name: "p", Stages: []cutover.Stage{{
				Name:   "s0",
				Apply:  func(context.Context) error { return nil },
				Revert: func(context.Context) error { return nil },
				Gates:  []cutover.Gate{pass("ok"), tt.gate},
			}}}
			err := p.Validate()
			var ve *cutover.ValidationError
			if !errors.As(err, &ve) || ve.Field != "Gates[1]" || ve.Stage != "s0" {
				t.Fatalf("Validate: %v; want a *ValidationError for stage s0, field Gates[1]", err)
			}
		})
	}
}

// With the two-person rule, an approval must come from someone other than
// the initiator. With no initiator (Options.Actor empty) that cannot be
// checked, so Run refuses the options instead of accepting anyone.
func TestReviewTwoPersonRuleNeedsActor(t *testing.T) {
	j := cutover.NewMemJournal()
	c := newCloud()
	p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s0", 0)}}
	_, err := cutover.NewRunner(j, cutover.Options{TwoPersonRule: true}).Run(context.Background(), "c", p)
	if err == nil || !contains(err.Error(), "Actor") {
		t.Fatalf("Run: %v; want an error naming the Actor option", err)
	}
	if recs := readAll(t, j, "c"); len(recs) != 0 {
		t.Errorf("journal has %d records, want none", len(recs))
	}
	if len(c.Log()) != 0 {
		t.Errorf("cloud %v, want untouched", c.Log())
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// Past the PNR the way out is forward: an irreversible stage whose apply
// failed is applied again by a later Run, even when an abort was sent
// meanwhile (an abort cannot undo it, and leaving it half-applied is the
// worst place to stop).
func TestReviewAbortDoesNotStrandUnfinishedIrreversibleStage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		retire := cutover.Stage{
			Name:          "retire",
			Apply:         func(context.Context) error { c.do("apply", "retire", true); return nil },
			Reversibility: cutover.Irreversible(),
		}
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s0", time.Minute, pass("ok")), retire}}
		c.do("apply", "s0", true)
		j := cutover.NewMemJournal()
		// The first runner applied s0, was approved, failed to apply
		// retire until its bound ran out; an abort came meanwhile.
		reviewAppend(t, j, "c",
			cutover.Record{Type: cutover.RecStart, Plan: "p", Stages: []string{"s0", "retire"}, Actor: "alice"},
			cutover.Record{Type: cutover.RecIntent, Stage: "s0", Index: 0, Action: "apply"},
			cutover.Record{Type: cutover.RecApplied, Stage: "s0", Index: 0},
			cutover.Record{Type: cutover.RecBaked, Stage: "s0", Index: 0},
			cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "bob", Reason: "go"},
			cutover.Record{Type: cutover.RecIntent, Stage: "retire", Index: 1, Action: "apply"},
			cutover.Record{Type: cutover.RecApplyFailed, Stage: "retire", Index: 1, Attempt: 1, Error: "throttled"},
			cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdAbort, Actor: "carol"},
			cutover.Record{Type: cutover.RecFailed, Stage: "retire", Index: 1, Error: "point of no return already crossed at stage \"retire\": apply keeps failing"},
		)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		st, err := cutover.NewRunner(j, cutover.Options{PollInterval: time.Second}).Run(ctx, "c", p)
		if got := c.Applied(); !slices.Contains(got, "retire") {
			t.Fatalf("Run: %v; cloud has %v applied, want retire applied again (rolled forward)", err, got)
		}
		if s := st.Stages[1].Status; s != cutover.StageApplied && s != cutover.StageBaked {
			t.Errorf("retire is %s in the journal, want applied or baked", s)
		}
		if err := c.matches(foldAll(t, j, "c")); err != nil {
			t.Error(err)
		}
	})
}

// behindClock is the wall clock a year behind: an injected clock whose
// times are not wall times (a replay, a test clock with a fixed start).
type behindClock struct{}

func (behindClock) Now() time.Time                         { return time.Now().AddDate(-1, 0, 0) }
func (behindClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Gates are judged with a context bounded by the stage's deadline. The
// deadline is on the injected clock, so the bound must not read it as a
// wall-clock instant: with a clock behind the wall, every gate got a context
// that had already expired and the stage failed closed.
func TestReviewGateContextOnInjectedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := cutover.Named("ctx-aware", cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
			if err := ctx.Err(); err != nil {
				return cutover.Verdict{}, err
			}
			return cutover.Verdict{Decision: cutover.Pass, Reason: "fine"}, nil
		}))
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s0", time.Minute, g)}}
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		opts := cutover.Options{Clock: behindClock{}, PollInterval: 10 * time.Second}
		st, err := cutover.NewRunner(cutover.NewMemJournal(), opts).Run(ctx, "c", p)
		if err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("Run: %v (phase %s); want completed", err, st.Phase)
		}
	})
}

// A pause holds the cutover where it is. A pause sent while the runner waits
// for an approval still holds after the approval arrives: the approved
// stage is applied only after a resume.
func TestReviewPauseHoldsAcrossApproval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		retire := cutover.Stage{
			Name:          "retire",
			Apply:         func(context.Context) error { c.do("apply", "retire", true); return nil },
			Reversibility: cutover.Irreversible(),
		}
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s0", time.Minute, pass("ok")), retire}}
		j := cutover.NewMemJournal()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			opts := cutover.Options{Actor: "alice", PollInterval: 10 * time.Second, WaitForApproval: true}
			_, err := cutover.NewRunner(j, opts).Run(ctx, "c", p)
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
