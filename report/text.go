package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/safecutover/safecutover/cutover"
)

// TextOptions are WriteText's options. The zero value is valid.
type TextOptions struct {
	// Color colours the text with ANSI escapes, for a terminal.
	Color bool
	// Width is the width to wrap long lines at, in characters; 0 means
	// 80. Widths below 40 are taken as 40.
	Width int
}

// The ANSI escapes of WriteText with Color.
const (
	ansiReset  = "\033[0m"
	ansiBold   = "\033[1m"
	ansiDim    = "\033[2m"
	ansiRed    = "\033[31m"
	ansiGreen  = "\033[32m"
	ansiYellow = "\033[33m"
)

// textWriter writes the text rendering.
type textWriter struct {
	w     *bufio.Writer
	color bool
	width int
}

func (t *textWriter) c(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// line writes indent, then s wrapped at the width with later lines
// indented by hang.
func (t *textWriter) line(indent, s string, hang int) {
	first := true
	for _, l := range wrap(s, t.width-utf8.RuneCountInString(indent), t.width-hang) {
		if first {
			t.w.WriteString(indent)
			first = false
		} else {
			t.w.WriteString(strings.Repeat(" ", hang))
		}
		t.w.WriteString(l)
		t.w.WriteByte('\n')
	}
}

// WriteText writes r for a terminal: the outcome, whether and until when
// rollback was possible, the stages, the gates' verdicts with their
// figures, the approvals and commands, and the traffic. Text from the
// journal has its control characters escaped.
func (r *Report) WriteText(w io.Writer, o TextOptions) error {
	width := o.Width
	if width == 0 {
		width = 80
	}
	t := &textWriter{w: bufio.NewWriter(w), color: o.Color, width: max(width, 40)}
	esc := plainText
	q := func(s string) string { return "“" + esc(s) + "”" }

	t.line("", t.c(ansiBold, fmt.Sprintf("cutover %s · plan %s", esc(r.ID), q(r.Plan))), 0)
	for _, f := range r.facts(esc) {
		v := f.value
		if f.label == "result" {
			v = t.c(phaseColor(r.Phase), v)
		}
		t.line(fmt.Sprintf("  %-9s ", f.label), v, 12)
	}

	t.w.WriteString("\n" + t.c(ansiBold, "stages") + "\n")
	names := []string{"stage"}
	for i := range r.Stages {
		names = append(names, esc(r.Stages[i].Name))
	}
	nw := min(colWidth(names), 28)
	rows := [][]string{{"#", pad("stage", nw), "reversible", "started", "applied", "ended", "outcome"}}
	for i := range r.Stages {
		s := &r.Stages[i]
		name := truncate(esc(s.Name), nw)
		mark := " "
		if r.Outlined && i == r.PNR.Index {
			mark = "⚑"
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), pad(name, nw) + mark, r.reversibility(s),
			r.rel(s.Started), r.rel(s.Applied), r.rel(s.Ended()), r.outcome(s)})
	}
	t.table(rows)
	for i := range r.Stages {
		if s := &r.Stages[i]; s.Error != "" {
			t.line(fmt.Sprintf("  %d: error: ", i+1), esc(s.Error), 6)
		}
	}
	if r.Outlined && r.PNR.Index >= 0 {
		t.w.WriteString(t.c(ansiDim, "  ⚑ the point of no return") + "\n")
	}

	shown := r.shownVerdicts()
	head := t.c(ansiBold, "gate verdicts")
	if len(shown) < len(r.Verdicts) {
		head += fmt.Sprintf(" (the last of each gate in each stage, and every fail; %d in the journal)", len(r.Verdicts))
	}
	t.w.WriteString("\n")
	t.line("", head, 2)
	if len(shown) == 0 {
		t.w.WriteString("  none\n")
	}
	for _, v := range shown {
		ts := fmt.Sprintf("  %-9s ", r.rel(v.Time))
		t.line(ts, fmt.Sprintf("%s · %s: %s", q(v.Stage), q(v.Gate), t.c(decisionColor(v.Decision), decision(v))), 12)
		if v.Reason != "" {
			t.line(strings.Repeat(" ", 12), esc(v.Reason), 12)
		}
		if f := figures(v.Figures, esc); f != "" {
			t.line(strings.Repeat(" ", 12), t.c(ansiDim, f), 12)
		}
	}

	t.w.WriteString("\n" + t.c(ansiBold, "approvals") + "\n")
	if len(r.Approvals) == 0 {
		t.w.WriteString("  none\n")
	}
	for i := range r.Approvals {
		c := &r.Approvals[i]
		t.line(fmt.Sprintf("  %-9s ", r.rel(c.Time)), fmt.Sprintf("%s approves %s: %s", esc(c.Actor), approvalStage(c, q), esc(c.Reason)), 12)
		t.line(strings.Repeat(" ", 12), r.answer(c, esc), 12)
	}
	if others := r.otherCommands(); len(others) > 0 {
		t.w.WriteString("\n" + t.c(ansiBold, "commands") + "\n")
		for _, c := range others {
			t.line(fmt.Sprintf("  %-9s ", r.rel(c.Time)), fmt.Sprintf("%s by %s: %s", c.Command, esc(c.Actor), esc(c.Reason)), 12)
			t.line(strings.Repeat(" ", 12), r.answer(c, esc), 12)
		}
	}

	t.w.WriteString("\n" + t.c(ansiBold, "traffic") + "\n")
	if len(r.Traffic) == 0 {
		t.w.WriteString("  none journaled\n")
	}
	for i := range r.Traffic {
		p := &r.Traffic[i]
		t.line(fmt.Sprintf("  %-9s %s  ", r.rel(p.Time), pad(truncate(esc(p.Stage), nw), nw)), weights(p, r.Targets, esc), 14+nw)
	}
	return t.w.Flush()
}

// otherCommands are the commands other than approvals.
func (r *Report) otherCommands() []*Command {
	var out []*Command
	for i := range r.Commands {
		if r.Commands[i].Command != cutover.CmdApprove {
			out = append(out, &r.Commands[i])
		}
	}
	return out
}

// table writes rows with their columns aligned, two spaces in, the first
// row dim.
func (t *textWriter) table(rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for k, row := range rows {
		var b strings.Builder
		for i, c := range row {
			if i == len(row)-1 {
				b.WriteString(c)
			} else {
				b.WriteString(pad(c, widths[i]) + "  ")
			}
		}
		s := "  " + b.String()
		if k == 0 {
			s = t.c(ansiDim, s)
		}
		t.w.WriteString(s + "\n")
	}
}

func phaseColor(p cutover.Phase) string {
	switch p {
	case cutover.PhaseCompleted:
		return ansiGreen
	case cutover.PhaseFailed:
		return ansiRed
	}
	return ansiYellow
}

func decisionColor(d cutover.Decision) string {
	switch d {
	case cutover.Pass:
		return ansiGreen
	case cutover.Fail:
		return ansiRed
	}
	return ansiYellow
}

// colWidth is the widest of ss, in characters.
func colWidth(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, utf8.RuneCountInString(s))
	}
	return n
}

// pad pads s with spaces to n characters.
func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// truncate shortens s to n characters, ending it with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// wrap splits s into lines, the first at most first characters long, the
// others at most rest, breaking at spaces; a word longer than a line has
// a line of its own. ANSI escapes count as characters, so coloured text
// wraps a little early.
func wrap(s string, first, rest int) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	limit := max(first, 10)
	cur, n := words[0], utf8.RuneCountInString(words[0])
	for _, w := range words[1:] {
		k := utf8.RuneCountInString(w)
		if n+1+k > limit {
			lines = append(lines, cur)
			cur, n, limit = w, k, max(rest, 10)
			continue
		}
		cur += " " + w
		n += 1 + k
	}
	return append(lines, cur)
}
