package cutover_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/safecutover/safecutover/cutover"
)

// The two-person rule is the journal's: a runner resuming a cutover with a
// different option is refused with an error naming both values, and
// nothing is written.
func TestTwoPersonIsTheJournals(t *testing.T) {
	ctx := t.Context()
	c := newCloud()
	p := c.plan(2, 0)
	p.Stages[1].Reversibility = cutover.Irreversible()
	j := cutover.NewMemJournal()
	if _, err := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice", TwoPerson: true}).Run(ctx, "c", p); !errors.Is(err, cutover.ErrPNRNotApproved) {
		t.Fatalf("first run: %v, want ErrPNRNotApproved", err)
	}
	before := len(readAll(t, j, "c"))
	_, err := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice"}).Run(ctx, "c", p)
	if !errors.Is(err, cutover.ErrPlanMismatch) || !strings.Contains(err.Error(), "TwoPerson: false") || !strings.Contains(err.Error(), "has it true") {
		t.Fatalf("weaker runner: %v, want ErrPlanMismatch naming both values", err)
	}
	if after := len(readAll(t, j, "c")); after != before || c.applied["s1"] {
		t.Errorf("the refused runner wrote %d records or applied s1 (%v)", after-before, c.applied["s1"])
	}
}

// A logger at Warn level sees the rollback, one at Error level the
// failure: zap's Check decides, not a look at Debug and Info.
func TestWarnLevelLoggerSeesRollback(t *testing.T) {
	for _, tt := range []struct {
		level zapcore.Level
		want  string
	}{
		{zapcore.WarnLevel, "rolling back"},
		{zapcore.WarnLevel, "rolled back"},
	} {
		core, logs := observer.New(tt.level)
		c := newCloud()
		p := c.plan(2, 0)
		p.Stages[1].Gates = []cutover.Gate{fixed("errors", cutover.Verdict{Decision: cutover.Fail, Reason: "5xx"})}
		_, err := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{Logger: zap.New(core), PollInterval: time.Millisecond}).Run(context.Background(), "c", p)
		if !errors.Is(err, cutover.ErrRolledBack) {
			t.Fatalf("run: %v, want ErrRolledBack", err)
		}
		if n := logs.FilterMessage(tt.want).Len(); n == 0 {
			t.Errorf("%s logger: no %q entry among %d", tt.level, tt.want, logs.Len())
		}
	}
}

// An Error-level logger sees a failure (a revert that keeps failing).
func TestErrorLevelLoggerSeesFailure(t *testing.T) {
	core, logs := observer.New(zapcore.ErrorLevel)
	c := newCloud()
	p := c.plan(2, 0)
	p.Stages[0].Revert = func(context.Context) error { return errors.New("throttled") }
	p.Stages[1].Gates = []cutover.Gate{fixed("errors", cutover.Verdict{Decision: cutover.Fail, Reason: "5xx"})}
	opts := cutover.RunnerOptions{Logger: zap.New(core), PollInterval: time.Millisecond, RevertTimeout: 20 * time.Millisecond, RetryBackoff: time.Millisecond}
	_, err := cutover.MustNewRunner(cutover.NewMemJournal(), opts).Run(context.Background(), "c", p)
	if !errors.Is(err, cutover.ErrRollbackIncomplete) {
		t.Fatalf("run: %v, want ErrRollbackIncomplete", err)
	}
	if logs.Len() == 0 || logs.All()[0].Level != zapcore.ErrorLevel {
		t.Errorf("error logger saw %d entries, want the failure", logs.Len())
	}
}

// With the two-person rule, an approval must come from someone other than
// the initiator. With no initiator (RunnerOptions.Actor empty) that cannot be
// checked, so NewRunner refuses the options instead of accepting anyone.
func TestTwoPersonNeedsActor(t *testing.T) {
	j := cutover.NewMemJournal()
	c := newCloud()
	p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s0", 0)}}
	r, err := cutover.NewRunner(j, cutover.RunnerOptions{TwoPerson: true})
	if err == nil || !strings.Contains(err.Error(), "Actor") {
		t.Fatalf("NewRunner: %v; want an error naming the Actor option", err)
	}
	if _, err := r.Run(context.Background(), "c", p); err == nil {
		t.Fatal("Run of the refused runner: nil error")
	}
	if recs := readAll(t, j, "c"); len(recs) != 0 {
		t.Errorf("journal has %d records, want none", len(recs))
	}
	if len(c.Log()) != 0 {
		t.Errorf("cloud %v, want untouched", c.Log())
	}
}
