package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/notify"
	"github.com/safecutover/safecutover/report"
)

// showJSON is what show prints with -json.
type showJSON struct {
	Cutover summary        `json:"cutover"`
	Report  *report.Report `json:"report"`
}

// finished reports whether a cutover in phase p has stopped: completed,
// rolled back, or failed (until someone resumes it).
func finished(p cutover.Phase) bool {
	return p == cutover.PhaseCompleted || p == cutover.PhaseRolledBack || p == cutover.PhaseFailed
}

// notifyCloseBound bounds the delivery of the notifications still queued
// when show -watch ends.
const notifyCloseBound = 10 * time.Second

// ANSI escapes that redraw a terminal from its top left corner.
const clearScreen = "\033[H\033[2J"

func runShow(ctx context.Context, c *cli, args []string) error {
	f := &cmdFlags{}
	id, given, err := c.parseID(f, args)
	if err != nil {
		return err
	}
	if !f.watch && (given["wait"] || given["poll"] || given["notify-webhook"] || given["notify-sns"] || given["notify-eventbridge"] || given["notify-events"]) {
		return usageErr("show: -wait, -poll and -notify-* are for -watch")
	}
	color := false
	switch f.color {
	case "auto":
		color = c.io.outTerminal && c.io.getenv("NO_COLOR") == ""
	case "always":
		color = true
	case "never":
	default:
		return usageErr("show: -color %q: want auto, always or never", f.color)
	}
	width := f.width
	if width < 0 {
		return usageErr("show: -width %d: want ≥ 40 columns, or 0 for $COLUMNS or 100", width)
	}
	if width == 0 {
		width = 100
		if n, err := strconv.Atoi(c.io.getenv("COLUMNS")); err == nil && n > 0 {
			width = n
		}
	}
	j, recs, err := c.openCutover(ctx, id)
	if err != nil {
		return err
	}
	draw := func(recs []cutover.Record) error {
		s, _, err := summarize(id, recs)
		if err != nil {
			return fail(exitError, "cutover %s: %w", id, err)
		}
		r, err := report.Build(id, recs, report.Options{Now: journalNow(recs)})
		if err != nil {
			return fail(exitError, "cutover %s: %w", id, err)
		}
		if c.json {
			c.emitJSON(showJSON{Cutover: s, Report: r})
			return nil
		}
		var b bytes.Buffer
		if f.watch && c.io.outTerminal {
			b.WriteString(clearScreen)
		}
		if err := r.WriteText(&b, report.TextOptions{Color: color, Width: width}); err != nil {
			return fail(exitError, "cutover %s: %w", id, err)
		}
		if s.Judged != nil {
			fmt.Fprintf(&b, "green last judged: %s (%s)\n", s.Judged.Format(time.RFC3339), s.Judgement)
		}
		if f.watch {
			fmt.Fprintf(&b, "\n(record %d; rollback: %s)\n", s.LastSeq, s.Rollback.Text)
		}
		_, err = c.io.out.Write(b.Bytes())
		return err
	}
	if err := draw(recs); err != nil || !f.watch {
		return err
	}
	notifiers, err := f.notify.Group(ctx, nil, notify.Options{})
	if err != nil {
		return usageErr("show: %v", err)
	}
	defer func() {
		// What is queued is delivered within a bound; drops are reported.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyCloseBound)
		defer cancel()
		if err := notifiers.Close(cctx); err != nil {
			fmt.Fprintf(c.io.err, "cutoverctl: notifications: %v\n", err)
		}
	}()
	w := &waiter{j: j, id: id, recs: recs, poll: f.poll}
	wctx, cancel := context.WithTimeout(ctx, f.wait)
	defer cancel()
	var drawErr error
	err = w.follow(wctx, func(n int) (bool, error) {
		if len(w.recs) > n && (len(notifiers) > 0 || c.json) {
			s, _, _ := summarize(id, w.recs)
			rb := notify.Rollback{Possible: s.Rollback.Possible, Until: s.Rollback.Until}
			for _, r := range w.recs[n:] {
				if m, ok := notify.FromRecord(id, r, rb); ok {
					notifiers.Notify(m)
					if c.json {
						// -json -watch: the first object is the whole
						// cutover, then one per event, in the schema
						// notifications carry.
						c.emitJSON(m)
					}
				}
			}
		}
		if len(w.recs) > n && !c.json {
			if !c.io.outTerminal {
				fmt.Fprintf(c.io.out, "\n%s\n", time.Now().UTC().Format(time.RFC3339))
			}
			if drawErr = draw(w.recs); drawErr != nil {
				return false, drawErr
			}
		}
		st, err := cutover.Fold(id, w.recs)
		return err == nil && finished(st.Phase), nil
	})
	switch {
	case err == nil:
		return nil
	case drawErr != nil:
		return drawErr
	case ctx.Err() != nil:
		return nil // interrupted: the person stopped watching
	}
	return fail(exitUnfinished, "show -watch: cutover %s has not ended within -wait %v", id, f.wait)
}
