package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// summary is what list shows of a cutover, and what the commands report.
type summary struct {
	ID        string        `json:"id"`
	Plan      string        `json:"plan"`
	Phase     cutover.Phase `json:"phase"`
	Paused    bool          `json:"paused,omitempty"`
	Aborted   bool          `json:"aborted,omitempty"`
	Initiator string        `json:"initiator,omitempty"`
	TwoPerson bool          `json:"two_person,omitempty"`
	// Stage is the stage the runner last acted on (or waits to apply),
	// StageIndex its index (-1: none yet), StageStatus where it stands.
	Stage       string `json:"stage,omitempty"`
	StageIndex  int    `json:"stage_index"`
	StageStatus string `json:"stage_status,omitempty"`
	Stages      int    `json:"stages"`
	// Traffic is the last share of traffic a stage journaled, by target.
	Traffic  map[string]int `json:"traffic,omitempty"`
	Rollback rollback       `json:"rollback"`
	// Judged is when green was last judged as the journal shows it, and
	// Judgement the decision then; absent before any verdict.
	Judged    *time.Time `json:"judged,omitempty"`
	Judgement string     `json:"judgement,omitempty"`
	Cause     string     `json:"cause,omitempty"`
	Started   time.Time  `json:"started"`
	Updated   time.Time  `json:"updated"`
	LastSeq   uint64     `json:"last_seq"`
}

// rollback is whether, and until when, a cutover can still be rolled back.
type rollback struct {
	// Known is false when the journal has no outline of the plan (it was
	// written by an older runner): then nothing else is set but Text.
	Known    bool       `json:"known"`
	Possible bool       `json:"possible"`
	Until    *time.Time `json:"until,omitempty"`
	// PNR names the point of no return; PNRCrossed says it is behind.
	PNR        string `json:"pnr,omitempty"`
	PNRCrossed bool   `json:"pnr_crossed,omitempty"`
	ApprovedBy string `json:"pnr_approved_by,omitempty"`
	// Text says it for people.
	Text string `json:"text"`
}

// journalNow is the time to judge a cutover at: the wall clock, or the
// journal's last record if the runner's clock runs ahead (an accelerated
// example) or is skewed.
func journalNow(recs []cutover.Record) time.Time {
	now := time.Now()
	if n := len(recs); n > 0 && recs[n-1].Time.After(now) {
		now = recs[n-1].Time
	}
	return now
}

// summarize folds the records of cutover id.
func summarize(id string, recs []cutover.Record) (summary, cutover.State, error) {
	st, err := cutover.Fold(id, recs)
	if err != nil {
		return summary{ID: id}, st, err
	}
	s := summary{
		ID: id, Plan: st.Plan, Phase: st.Phase, Paused: st.Paused, Aborted: st.Aborted,
		Initiator: st.Initiator, TwoPerson: st.TwoPerson, Stages: len(st.Stages), StageIndex: -1,
		Cause: st.Cause, Started: st.Started, Updated: st.Updated, LastSeq: st.LastSeq,
	}
	if st.Phase == cutover.PhaseRunning || st.Phase == cutover.PhaseCompleted {
		s.Cause = "" // the cause of an earlier wait, now over
	}
	waiting := false
	for i := range recs {
		r := &recs[i]
		switch r.Type {
		case cutover.RecIntent, cutover.RecApplied, cutover.RecApplyFailed, cutover.RecVerdict,
			cutover.RecBaked, cutover.RecReverted, cutover.RecRevertFailed, cutover.RecWaiting:
			s.StageIndex, waiting = r.Index, r.Type == cutover.RecWaiting
		case cutover.RecData:
			if r.Key == cutover.DataTraffic {
				if w, err := cutover.ParseTraffic(r.Value); err == nil {
					s.Traffic = w
				}
			}
		}
	}
	if i := s.StageIndex; i >= 0 && i < len(st.Stages) {
		s.Stage = st.Stages[i].Name
		s.StageStatus = string(st.Stages[i].Status)
		switch {
		case waiting && st.Phase == cutover.PhaseWaiting:
			s.StageStatus = "awaiting approval"
		case st.Stages[i].Status == cutover.StageApplied:
			s.StageStatus = "baking"
		}
	}
	s.Rollback = rollbackOf(recs, st)
	if !st.Judged.IsZero() {
		j := st.Judged.UTC()
		s.Judged, s.Judgement = &j, st.Judgement.String()
	}
	return s, st, nil
}

// rollbackOf says whether and until when the cutover can be rolled back.
func rollbackOf(recs []cutover.Record, st cutover.State) rollback {
	plan, err := cutover.JournalPlan(recs)
	if err != nil {
		if errors.Is(err, cutover.ErrNoOutline) {
			return rollback{Text: "unknown (the journal has no outline of the plan)"}
		}
		return rollback{Text: "unknown (" + err.Error() + ")"}
	}
	ps := cutover.Track(plan, st, journalNow(recs))
	rb := rollback{Known: true, Possible: ps.CanRollBack, PNR: ps.Stage, PNRCrossed: ps.Crossed}
	if ps.Approved {
		rb.ApprovedBy = ps.ApprovedBy
	}
	switch {
	case st.Phase == cutover.PhaseRolledBack:
		rb.Possible = false
		rb.Text = "done: rolled back"
	case st.Phase == cutover.PhaseCompleted:
		rb.Possible = false
		rb.Text = "no: completed"
		if ps.Stage != "" {
			rb.Text = fmt.Sprintf("no: completed, past the point of no return %q", ps.Stage)
		}
	case !ps.CanRollBack:
		rb.Text = "no: past the point of no return"
		if ps.Stage != "" {
			rb.Text = fmt.Sprintf("no: past the point of no return %q", ps.Stage)
		}
	case !ps.Until.IsZero():
		u := ps.Until.UTC()
		rb.Until = &u
		rb.Text = "yes, until " + u.Format(time.RFC3339)
	case ps.Stage != "":
		rb.Text = fmt.Sprintf("yes, until %q is applied", ps.Stage)
	default:
		rb.Text = "yes (the plan has no point of no return)"
	}
	return rb
}

// trafficText writes weights as "blue 100% · green 0%".
func trafficText(w map[string]int) string {
	if len(w) == 0 {
		return "not journaled"
	}
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(w)) {
		parts = append(parts, fmt.Sprintf("%s %d%%", t, w[t]))
	}
	return strings.Join(parts, " · ")
}

// phaseText is the phase for people.
func (s *summary) phaseText() string {
	p := strings.ReplaceAll(string(s.Phase), "_", " ")
	if s.Paused && (s.Phase == cutover.PhaseRunning || s.Phase == cutover.PhaseWaiting) {
		p += " (paused)"
	}
	return p
}

// stageText is the current stage for people: "canary 50% (3/7, baking)".
func (s *summary) stageText() string {
	if s.StageIndex < 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d/%d, %s)", s.Stage, s.StageIndex+1, s.Stages, s.StageStatus)
}

func runList(ctx context.Context, c *cli, args []string) error {
	fs := c.flagSet()
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("list: takes no arguments, got %q; usage: cutoverctl list", pos)
	}
	j, err := c.openJournal(ctx)
	if err != nil {
		return err
	}
	ids, err := j.List(ctx)
	if err != nil {
		return fail(exitError, "list: %w", err)
	}
	out := make([]summary, 0, len(ids))
	var bad []error
	for _, id := range ids {
		recs, err := j.Read(ctx, id, 0)
		if err != nil {
			bad = append(bad, fmt.Errorf("cutover %s: %w", id, err))
			continue
		}
		if len(recs) == 0 {
			continue
		}
		s, _, err := summarize(id, recs)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, s)
	}
	if c.json {
		c.emitJSON(out)
	} else if len(out) == 0 {
		c.printf("no cutovers in the journal\n")
	} else {
		tw := tabwriter.NewWriter(c.io.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPHASE\tSTAGE\tTRAFFIC\tROLLBACK\tUPDATED")
		for i := range out {
			s := &out[i]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.phaseText(), s.stageText(), trafficText(s.Traffic), s.Rollback.Text, s.Updated.UTC().Format(time.RFC3339))
		}
		_ = tw.Flush()
	}
	if len(bad) > 0 {
		return fail(exitError, "list: %d cutover(s) could not be read: %w", len(bad), errors.Join(bad...))
	}
	return nil
}
