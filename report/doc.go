// Package report renders a cutover from its journal alone — never from the
// cloud — for a terminal, for Markdown (a change ticket, a postmortem) and
// as a self-contained SVG chart.
//
// Build folds a cutover's records into a Report: the stages with their
// start, end and outcome; every gate verdict with its reason and figures;
// the approvals and other commands with the runner's answers; the traffic
// weights the strategies journaled (cutover.NoteTraffic); whether and
// until when rollback was possible, how long the cutover was reversible,
// and where its point of no return is, whether it was crossed and who
// approved it. The state comes from cutover.Fold, the plan from
// cutover.JournalPlan and the rollback window from cutover.Track, so the
// report says what the runner itself would.
//
//	recs, err := journal.Read(ctx, id, 0)
//	if err != nil { ... }
//	r, err := report.Build(id, recs, report.Options{Now: time.Now()})
//	if err != nil { ... }
//	r.WriteText(os.Stdout, report.TextOptions{Color: true})
//	err = report.WriteFiles("out", r) // out/report.md, report.svg, report.txt
//
// The renderings are deterministic — the same records give the same
// bytes — and escape every text that comes from the journal (stage and
// gate names, reasons, actors): control characters for the terminal,
// Markdown syntax, and XML.
//
// The chart (WriteSVG) uses no script and no external font: traffic per
// target as stepped lines, bakes shaded, verdicts as markers (a failed one
// a vermillion triangle, a passed one a blue circle: the Okabe–Ito
// colours, told apart by shape as well), approvals, the rollback and the
// point of no return as labelled vertical lines, and a lane shaded while
// rollback was possible. tools/render-svg.sh renders it to PNG with
// headless Chromium.
package report
