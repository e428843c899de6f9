package demo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// summary prints the outcome, the cloud as it ended, the PNR and a timeline
// taken from the journal.
func (u *UI) summary(s Scenario, id string, f Flags, plan cutover.Plan, st cutover.State, recs []cutover.Record, code int, err error, wall time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.clearLocked()
	w := u.w
	fmt.Fprintln(w)
	fmt.Fprintln(w, u.c(cBold, "── summary "+strings.Repeat("─", 50)))
	switch code {
	case ExitCompleted:
		fmt.Fprintf(w, "result:    %s (exit %d)\n", u.c(cGreen, "completed"), code)
	case ExitRolledBack:
		fmt.Fprintf(w, "result:    %s (exit %d): %v\n", u.c(cYel, "rolled back"), code, cause(err))
	case ExitWaiting:
		fmt.Fprintf(w, "result:    %s (exit %d)\n", u.c(cYel, "stopped before the point of no return, waiting for an approval"), code)
	default:
		fmt.Fprintf(w, "result:    %s (exit %d): %v\n", u.c(cRed, "error"), code, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), u.timeout)
	defer cancel()
	var weights providers.Weights
	if u.watch.Router != nil {
		weights, _ = u.watch.Router.Weights(ctx)
	} else if u.watch.Switcher != nil {
		if a, err := u.watch.Switcher.Active(ctx); err == nil {
			weights = providers.Weights{"blue": 0, "green": 0}
			weights[a] = 100
		}
	}
	if weights != nil {
		note := ""
		switch {
		case weights["blue"] == 100:
			note = " — all traffic is on blue"
			if code == ExitRolledBack {
				note = " — all traffic is back on blue"
			}
		case weights["green"] == 100:
			note = " — all traffic is on green"
		}
		fmt.Fprintf(w, "traffic:   %s%s\n", u.bar(weights), note)
	}
	var fl []string
	for _, nf := range u.watch.Fleets {
		if nf.Fleet == nil {
			continue
		}
		if c, err := nf.Fleet.Capacity(ctx); err == nil {
			fl = append(fl, fmt.Sprintf("%s %d/%d healthy", nf.Name, c.Healthy, c.Desired))
		}
	}
	if len(fl) > 0 {
		fmt.Fprintf(w, "fleets:    %s\n", strings.Join(fl, ", "))
	}
	p := cutover.Track(plan, st, time.Now(), false)
	if len(recs) > 0 {
		if folded, ferr := cutover.Fold(id, recs); ferr == nil {
			p = cutover.Track(plan, folded, recs[len(recs)-1].Time, false)
		}
	}
	switch {
	case p.Index < 0:
		fmt.Fprintln(w, "PNR:       none in this plan; every stage could be rolled back")
	case p.Crossed:
		fmt.Fprintf(w, "PNR:       %q crossed, approved by %s (%s)\n", p.Stage, p.ApprovedBy, p.ApprovalReason)
	case code == ExitRolledBack:
		fmt.Fprintf(w, "PNR:       %q not crossed; the cutover rolled back\n", p.Stage)
	default:
		fmt.Fprintf(w, "PNR:       %q not crossed; rollback still possible\n", p.Stage)
	}
	if len(recs) > 0 {
		whole := recs[len(recs)-1].Time.Sub(recs[0].Time)
		if u.real {
			fmt.Fprintf(w, "time:      %v (whole cutover); this run took %v\n", whole.Round(time.Second), wall.Round(100*time.Millisecond))
		} else {
			fmt.Fprintf(w, "time:      %v simulated (whole cutover); this run took %v\n", whole.Round(time.Second), wall.Round(100*time.Millisecond))
		}
	}
	if code == ExitWaiting {
		fmt.Fprintf(w, "\nBlue is still warm and %q has not been applied, so the cutover can still be rolled back.\n", p.Stage)
		if u.real {
			fmt.Fprintln(w, "To approve and resume:  run the same command again with -approve NAME")
			fmt.Fprintf(w, "(or, from another process, cutover.Send(ctx, journal, %q, cutover.CmdApprove, NAME, REASON, %q), then run the same command again)\n", id, p.Stage)
		} else if f.Journal != "" {
			fmt.Fprintf(w, "To approve and resume:  %s -approve NAME -journal %s\n", s.command(), f.Journal)
			fmt.Fprintf(w, "(or, from another process, cutover.Send(ctx, journal, %q, cutover.CmdApprove, NAME, REASON, %q), then run the same command again)\n", s.ID, p.Stage)
		} else if s.NoJournal {
			fmt.Fprintf(w, "This run kept its journal in memory. To cross the point of no return, run it again with an approval:  %s -approve NAME\n", s.command())
		} else {
			fmt.Fprintf(w, "This run kept its journal in memory. To stop here and resume later, run with -journal DIR,\nthen approve and resume with:  %s -approve NAME -journal DIR\n", s.command())
		}
	}
	if code != ExitWaiting && (st.Phase == cutover.PhaseCompleted || st.Phase == cutover.PhaseRolledBack) {
		switch {
		case u.real:
			fmt.Fprintf(w, "The journal holds this finished cutover %q; running the same command again shows its outcome. Use another -id to start afresh.\n", id)
		case f.Journal != "":
			fmt.Fprintf(w, "The journal in %s holds this finished cutover; running the same command again shows its outcome. Use another directory to start afresh.\n", f.Journal)
		}
	}
	u.timeline(recs)
}

func cause(err error) error {
	var gf *cutover.GateFailedError
	if errors.As(err, &gf) {
		return gf
	}
	var se *cutover.StageError
	if errors.As(err, &se) {
		return se
	}
	return err
}

// timeline prints the journal's records that tell the story: verdicts are
// folded into the stage's "baked" or failure line.
func (u *UI) timeline(recs []cutover.Record) {
	if len(recs) == 0 {
		return
	}
	w := u.w
	fmt.Fprintln(w, "\ntimeline (from the journal):")
	origin := recs[0].Time
	verdicts := map[string]map[string]cutover.Verdict{}
	var prev time.Time
	show := func(r cutover.Record, format string, a ...any) {
		t := r.Time
		if r.Type == cutover.RecCommand {
			// Commands are stamped with the wall clock, not the
			// simulated one: place them after the record before.
			t = prev
		}
		fmt.Fprintf(w, "  %s  %s\n", u.c(cDim, offset(t.Sub(origin))), fmt.Sprintf(format, a...))
	}
	gates := func(stage string) string {
		var parts []string
		for g, v := range verdicts[stage] {
			parts = append(parts, g+": "+v.Decision.String())
		}
		sort.Strings(parts)
		if len(parts) == 0 {
			return ""
		}
		return " (" + strings.Join(parts, ", ") + ")"
	}
	for _, r := range recs {
		if r.Type != cutover.RecCommand {
			prev = r.Time
		}
		switch r.Type {
		case cutover.RecStart:
			show(r, "started plan %q by %s", r.Plan, r.Actor)
		case cutover.RecVerdict:
			if r.Verdict != nil {
				if verdicts[r.Stage] == nil {
					verdicts[r.Stage] = map[string]cutover.Verdict{}
				}
				verdicts[r.Stage][r.Gate] = *r.Verdict
				if r.Verdict.Decision == cutover.Fail {
					show(r, "%-16s gate %s failed: %s", r.Stage, r.Gate, r.Verdict.Reason)
				}
			}
		case cutover.RecApplied:
			show(r, "%-16s applied", r.Stage)
		case cutover.RecApplyFailed:
			show(r, "%-16s apply failed: %s", r.Stage, r.Error)
		case cutover.RecBaked:
			show(r, "%-16s baked%s", r.Stage, gates(r.Stage))
		case cutover.RecReverted:
			show(r, "%-16s reverted", r.Stage)
		case cutover.RecRevertFailed:
			show(r, "%-16s revert failed: %s", r.Stage, r.Error)
		case cutover.RecWaiting:
			show(r, "%-16s waiting for an approval", r.Stage)
		case cutover.RecCommand:
			what := string(r.Command)
			if r.Stage != "" {
				what += " " + fmt.Sprintf("%q", r.Stage)
			}
			show(r, "command %s by %s: %s", what, r.Actor, r.Reason)
		case cutover.RecCompleted:
			show(r, "completed")
		case cutover.RecRolledBack:
			show(r, "rolled back")
		case cutover.RecFailed:
			show(r, "failed: %s", r.Error)
		}
	}
}
