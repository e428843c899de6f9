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

// Every command gets a RecAck from the runner that names it by Seq and
// says what the runner does; an approval the two-person rule forbids is
// answered with a refusal, and only the other person's approval lets the
// irreversible stage be applied.
func TestCommandsAreAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		p := c.plan(2, time.Hour)
		p.Stages[1].Reversibility = cutover.Irreversible()
		mem := cutover.NewMemJournal()
		done := startRun(t.Context(), mem, cutover.RunnerOptions{PollInterval: poll, Actor: "alice", TwoPerson: true, WaitForApproval: true}, p)
		time.Sleep(10 * time.Minute)
		var sent []uint64
		send := func(cmd cutover.Command, actor string) {
			t.Helper()
			seq, err := cutover.SendSeq(context.Background(), mem, "c", cmd, actor, "test", "")
			if cmd == cutover.CmdApprove && actor == "alice" {
				// Send refuses it (CheckApproval); another tool may write
				// it anyway, and the runner must refuse it too.
				if err == nil {
					t.Fatal("Send wrote the initiator's approval under the two-person rule")
				}
				recs := readAll(t, mem, "c")
				seq = recs[len(recs)-1].Seq + 1
				err = mem.Append(context.Background(), "c", cutover.Record{Seq: seq, Type: cutover.RecCommand, Time: time.Now(), Command: cmd, Actor: actor, Reason: "test"})
			}
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, seq)
			time.Sleep(2 * poll)
		}
		send(cutover.CmdPause, "ops")
		send(cutover.CmdPromote, "ops")
		send(cutover.CmdApprove, "alice")
		send(cutover.CmdApprove, "bob")
		o := <-done
		if o.err != nil {
			t.Fatal(o.err)
		}
		recs := readAll(t, mem, "c")
		cmds := map[uint64]cutover.Record{}
		type ack struct {
			Cmd           cutover.Command
			Actor         string
			Refused       bool
			ReasonOrError string
		}
		var got []ack
		var refs []uint64
		for _, r := range recs {
			switch r.Type {
			case cutover.RecCommand:
				cmds[r.Seq] = r
			case cutover.RecAck:
				c, ok := cmds[r.Ref]
				if !ok || c.Command != r.Command {
					t.Fatalf("ack seq %d answers seq %d, which is not a %s command", r.Seq, r.Ref, r.Command)
				}
				delete(cmds, r.Ref)
				refs = append(refs, r.Ref)
				got = append(got, ack{r.Command, c.Actor, r.Error != "", r.Reason + r.Error})
			}
		}
		if diff := cmp.Diff(sent, refs); diff != "" {
			t.Errorf("answers name other seqs than SendSeq returned (-sent +answered):\n%s", diff)
		}
		if len(cmds) != 0 {
			t.Errorf("commands without an answer: %v", cmds)
		}
		want := []ack{
			{cutover.CmdPause, "ops", false, `pausing: the cutover holds after stage "s0" has baked, until resume or promote`},
			{cutover.CmdPromote, "ops", false, `promoting: the bake of stage "s0" ends now unless a gate fails`},
			{cutover.CmdApprove, "alice", true, "refused: actor: alice started this cutover and its journal has the two-person rule on; want another person"},
			{cutover.CmdApprove, "bob", false, "approval of every approval point by bob accepted"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("answers (-want +got):\n%s", diff)
		}
		if st := foldAll(t, mem, "c"); !st.TwoPerson || st.Initiator != "alice" {
			t.Errorf("state: two-person %v, initiator %q", st.TwoPerson, st.Initiator)
		}
	})
}

// The start record carries an outline of the plan from which JournalPlan
// rebuilds what Track needs: a tool that reads only the journal knows the
// PNR and until when rollback is possible.
func TestJournalPlanFromOutline(t *testing.T) {
	synctest.Test(t, testJournalPlanFromOutline)
}

func testJournalPlanFromOutline(t *testing.T) {
	c := newCloud()
	p := c.plan(3, 0)
	p.Stages[1].Reversibility = cutover.ReversibleWithin(time.Hour)
	p.Stages[1].Bake = 2 * time.Minute
	p.Stages[2].Reversibility = cutover.Irreversible()
	mem := cutover.NewMemJournal()
	_, err := cutover.MustNewRunner(mem, cutover.RunnerOptions{PollInterval: poll}).Run(context.Background(), "c", p)
	if !errors.Is(err, cutover.ErrPNRNotApproved) {
		t.Fatalf("run: %v, want ErrPNRNotApproved", err)
	}
	recs := readAll(t, mem, "c")
	jp, err := cutover.JournalPlan(recs)
	if err != nil {
		t.Fatal(err)
	}
	type shape struct {
		Name     string
		Rev      string
		Bake     time.Duration
		Approval bool
	}
	var got, want []shape
	for _, s := range p.Stages {
		want = append(want, shape{s.Name, s.Reversibility.String(), s.Bake, s.Reversibility.Kind == cutover.KindIrreversible})
	}
	for _, s := range jp.Stages {
		got = append(got, shape{s.Name, s.Reversibility.String(), s.Bake, s.Approval})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan from the journal (-want +got):\n%s", diff)
	}
	if g := recs[0].Outline[0].Gates; len(g) != 1 || g[0] == "" {
		t.Errorf("gates of s0 in the outline: %q", g)
	}
	st := foldAll(t, mem, "c")
	now := recs[len(recs)-1].Time
	if diff := cmp.Diff(cutover.Track(p, st, now), cutover.Track(jp, st, now)); diff != "" {
		t.Errorf("Track from the journal's plan differs (-plan +journal):\n%s", diff)
	}

	old := append([]cutover.Record(nil), recs...)
	old[0].Outline = nil
	if jp, err := cutover.JournalPlan(old); !errors.Is(err, cutover.ErrNoOutline) || len(jp.Stages) != 3 {
		t.Errorf("no outline: %v with %d stages, want ErrNoOutline and the names", err, len(jp.Stages))
	}
	bad := append([]cutover.Record(nil), recs...)
	bad[0].Outline = append([]cutover.StageOutline(nil), recs[0].Outline...)
	bad[0].Outline[1].Reversibility = "sometimes"
	if _, err := cutover.JournalPlan(bad); !errors.Is(err, cutover.ErrCorruptJournal) || !strings.Contains(err.Error(), "sometimes") {
		t.Errorf("bad reversibility: %v", err)
	}
	if _, err := cutover.JournalPlan(nil); !errors.Is(err, cutover.ErrCorruptJournal) {
		t.Errorf("empty journal: %v", err)
	}
}

func TestParseTraffic(t *testing.T) {
	if w, err := cutover.ParseTraffic(`{"blue":90,"green":10}`); err != nil || w["blue"] != 90 || w["green"] != 10 {
		t.Errorf("ParseTraffic = %v, %v", w, err)
	}
	for _, bad := range []string{``, `{"blue":`, `{"blue":101}`, `{"blue":-1}`, `[1]`} {
		if _, err := cutover.ParseTraffic(bad); err == nil {
			t.Errorf("ParseTraffic(%q) succeeded", bad)
		}
	}
	// Outside a runner's stage NoteTraffic does nothing.
	if err := cutover.NoteTraffic(context.Background(), map[string]int{"blue": 100}); err != nil {
		t.Errorf("NoteTraffic outside a stage: %v", err)
	}
}
