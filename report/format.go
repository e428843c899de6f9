package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/safecutover/safecutover/cutover"
)

// The renderings share what they say; each escapes the journal's text its
// own way (esc) before it goes into a sentence.

// dur renders d rounded to the second: "0s", "1m31s", "1h2m3s", "25m",
// "1h".
func dur(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// rel renders t as the time since the cutover started, "+1m31s"; "–" for
// a zero t.
func (r *Report) rel(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return "+" + dur(t.Sub(r.Started))
}

// clock renders t as a UTC date and time to the second.
func clock(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// fact is one line of a report's summary.
type fact struct{ label, value string }

// facts are the summary lines of r, with the journal's text escaped by esc.
func (r *Report) facts(esc func(string) string) []fact {
	q := func(s string) string { return "“" + esc(s) + "”" }
	var fs []fact
	add := func(label, format string, a ...any) { fs = append(fs, fact{label, fmt.Sprintf(format, a...)}) }

	add("result", "%s", r.result(esc))
	if r.Current != "" && r.Ended.IsZero() {
		add("stage", "%s", q(r.Current))
	}
	who := esc(r.Initiator)
	if r.TwoPerson {
		who += " (two-person rule: the initiator cannot approve)"
	}
	add("started", "%s by %s", clock(r.Started), who)
	if r.Ended.IsZero() {
		add("reported", "%s (%s), still open", clock(r.At), r.rel(r.At))
	} else {
		add("ended", "%s (%s)", clock(r.Ended), r.rel(r.Ended))
	}
	if r.Outlined {
		add("time", "%s in all; rollback possible for %s of it", dur(r.Total), dur(r.ReversibleFor))
	} else {
		add("time", "%s in all", dur(r.Total))
	}
	add("rollback", "%s", r.rollback())
	add("PNR", "%s", r.pnr(q, esc))
	for _, n := range r.Notes {
		add("note", "%s", esc(n))
	}
	return fs
}

// result says how the cutover ended or where it stands.
func (r *Report) result(esc func(string) string) string {
	var s string
	switch r.Phase {
	case cutover.PhaseCompleted:
		return "completed"
	case cutover.PhaseRolledBack:
		s = "rolled back"
	case cutover.PhaseFailed:
		s = "failed (neither completed nor rolled back)"
	case cutover.PhaseWaiting:
		s = "waiting for an approval"
	case cutover.PhaseRollingBack:
		s = "rolling back"
	case cutover.PhaseSuspended:
		s = "suspended (not rolled back; the next run resumes)"
	default:
		s = "running"
	}
	if r.Cause != "" && r.Phase != cutover.PhaseRunning && r.Phase != cutover.PhaseRollingBack {
		s += ": " + esc(r.Cause)
	}
	return s
}

// rollback says whether and until when rollback was possible.
func (r *Report) rollback() string {
	if !r.Outlined {
		return "unknown: the journal has no outline of the plan (pass the plan in Options.Plan)"
	}
	closed := func() string {
		return fmt.Sprintf("no longer possible since %s (%s)", r.rel(r.PNR.CrossedAt), clock(r.PNR.CrossedAt))
	}
	switch {
	case r.Phase == cutover.PhaseRolledBack:
		return fmt.Sprintf("possible until it was used: rolled back from %s to %s", r.rel(r.RollbackStarted), r.rel(r.Ended))
	case r.Phase == cutover.PhaseCompleted && r.PNR.Crossed:
		return closed() + "; the cutover completed"
	case r.Phase == cutover.PhaseCompleted:
		return "possible to the end; the cutover completed"
	case !r.CanRollBack && r.PNR.Crossed:
		return closed()
	case !r.CanRollBack:
		return "not possible"
	case r.Phase == cutover.PhaseRollingBack:
		return fmt.Sprintf("under way since %s", r.rel(r.RollbackStarted))
	case !r.RollbackUntil.IsZero():
		left := r.RollbackUntil.Sub(r.At)
		return fmt.Sprintf("possible until %s (%s), %s after this report", clock(r.RollbackUntil), r.rel(r.RollbackUntil), dur(left))
	}
	return "possible now"
}

// pnr describes the point of no return.
func (r *Report) pnr(q, esc func(string) string) string {
	if !r.Outlined {
		return "unknown"
	}
	p := r.PNR
	if p.Index < 0 {
		return "none: every stage can be rolled back"
	}
	s := fmt.Sprintf("%s (stage %d), ", q(p.Stage), p.Index+1)
	if p.Crossed {
		s += "crossed at " + r.rel(p.CrossedAt)
	} else {
		s += "not crossed"
	}
	if p.Approved {
		s += fmt.Sprintf("; approved by %s at %s", esc(p.ApprovedBy), r.rel(p.ApprovedAt))
		if p.ApprovalReason != "" {
			s += ": " + esc(p.ApprovalReason)
		}
	} else {
		s += "; not approved"
	}
	return s
}

// reversibility describes how reversible stage s is.
func (r *Report) reversibility(s *Stage) string {
	if !r.Outlined {
		return "?"
	}
	if s.Reversibility.Kind == cutover.KindWindow {
		return "for " + dur(s.Reversibility.Window)
	}
	return s.Reversibility.String()
}

// outcome describes where stage s stands.
func (r *Report) outcome(s *Stage) string {
	switch s.Outcome {
	case cutover.StagePending:
		if r.Phase == cutover.PhaseWaiting && s.Name == r.Current {
			return "waiting for an approval"
		}
		return "not started"
	case cutover.StageApplied:
		if r.Ended.IsZero() {
			return "baking"
		}
		return "applied"
	case cutover.StageFailed:
		return "apply failed"
	}
	return string(s.Outcome)
}

// decision renders v's decision, "pass (final)".
func decision(v *Verdict) string {
	if v.Final {
		return v.Decision.String() + " (final)"
	}
	return v.Decision.String()
}

// figures renders the figures of a verdict, sorted by name: "a=1 b=0.5".
func figures(m map[string]float64, esc func(string) string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = esc(k) + "=" + number(m[k])
	}
	return strings.Join(parts, " ")
}

// shownVerdicts returns the verdicts the text and Markdown show: the last
// of each gate in each stage, and every fail.
func (r *Report) shownVerdicts() []*Verdict {
	last := map[[2]string]int{}
	for i, v := range r.Verdicts {
		last[[2]string{v.Stage, v.Gate}] = i
	}
	var out []*Verdict
	for i := range r.Verdicts {
		v := &r.Verdicts[i]
		if v.Decision == cutover.Fail || last[[2]string{v.Stage, v.Gate}] == i {
			out = append(out, v)
		}
	}
	return out
}

// answer describes the runner's answer to c.
func (r *Report) answer(c *Command, esc func(string) string) string {
	switch {
	case !c.Answered:
		return "no answer yet (no runner has taken it in)"
	case c.Refusal != "":
		return fmt.Sprintf("refused at %s: %s", r.rel(c.AnsweredAt), esc(c.Refusal))
	}
	signed := ""
	if c.Identity != "" {
		signed = fmt.Sprintf(" (signed by key %s)", esc(c.Identity))
	}
	if c.Answer != "" {
		return fmt.Sprintf("accepted at %s%s: %s", r.rel(c.AnsweredAt), signed, esc(c.Answer))
	}
	return "accepted at " + r.rel(c.AnsweredAt) + signed
}

// approvalStage names the stage an approval is for.
func approvalStage(c *Command, q func(string) string) string {
	if c.Stage == "" {
		return "every approval point"
	}
	return q(c.Stage)
}

// weights renders a traffic point's weights over targets: "blue 95% · green 5%".
func weights(p *TrafficPoint, targets []string, esc func(string) string) string {
	parts := make([]string, 0, len(targets))
	for _, t := range targets {
		if w, ok := p.Weights[t]; ok {
			parts = append(parts, fmt.Sprintf("%s %d%%", esc(t), w))
		}
	}
	return strings.Join(parts, " · ")
}

// plainText makes journal text safe for a terminal: control characters
// (escape sequences, newlines) are shown as Go escapes.
func plainText(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if unsafeRune(c) {
			q := strconv.QuoteRune(c)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func unsafeRune(c rune) bool {
	return unicode.IsControl(c) || unicode.In(c, unicode.Cf)
}

// number renders a figure: whole numbers in full, others to four
// significant digits.
func number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e12 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
