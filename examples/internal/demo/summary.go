package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/report"
)

// summary prints the outcome, the cloud as it ended, the PNR and the
// report drawn from the journal (rep, if there is one).
func (u *UI) summary(s Scenario, id string, f Flags, plan cutover.Plan, st cutover.State, recs []cutover.Record, rep *report.Report, code int, err error, wall time.Duration) {
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
	if u.watch.Router != nil && u.traffic != nil {
		if w, ok := u.traffic(ctx); ok {
			weights = w
		} else {
			weights, _ = u.watch.Router.Weights(ctx)
		}
	} else if u.watch.Router != nil {
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
	p := cutover.Track(plan, st, time.Now())
	if len(recs) > 0 {
		if folded, ferr := cutover.Fold(id, recs); ferr == nil {
			p = cutover.Track(plan, folded, recs[len(recs)-1].Time)
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
	if rep != nil {
		fmt.Fprintln(w)
		_ = rep.WriteText(w, report.TextOptions{Color: u.tty})
	}
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
