package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes r as Markdown, for a change ticket or a postmortem:
// the same content as WriteText, in tables. Text from the journal is
// escaped so that it cannot add links, images, HTML or table cells.
func (r *Report) WriteMarkdown(w io.Writer) error {
	return r.writeMarkdown(w, "")
}

// writeMarkdown writes r as Markdown, with a link to the chart svg if it
// is set.
func (r *Report) writeMarkdown(w io.Writer, svg string) error {
	b := bufio.NewWriter(w)
	esc := mdEscape
	q := func(s string) string { return "“" + esc(s) + "”" }
	row := func(cells ...string) { fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | ")) }
	head := func(cells ...string) {
		row(cells...)
		row(strings.Split(strings.Repeat("---,", len(cells)-1)+"---", ",")...)
	}

	fmt.Fprintf(b, "# Cutover %s: %s\n\n", esc(r.ID), strings.SplitN(r.result(esc), ":", 2)[0])
	head("", "")
	row("plan", q(r.Plan))
	for _, f := range r.facts(esc) {
		row(f.label, f.value)
	}
	if svg != "" {
		fmt.Fprintf(b, "\n![timeline of the cutover: traffic, bakes, verdicts, approvals, rollback window](%s)\n", svg)
	}

	b.WriteString("\n## Stages\n\n")
	head("#", "stage", "reversible", "started", "applied", "ended", "outcome")
	for i := range r.Stages {
		s := &r.Stages[i]
		name := esc(s.Name)
		if r.Outlined && i == r.PNR.Index {
			name += " ⚑ PNR"
		}
		out := r.outcome(s)
		if s.Error != "" {
			out += ": " + esc(s.Error)
		}
		row(fmt.Sprint(i+1), name, r.reversibility(s), r.rel(s.Started), r.rel(s.Applied), r.rel(s.Ended()), out)
	}

	shown := r.shownVerdicts()
	b.WriteString("\n## Gate verdicts\n\n")
	if len(shown) < len(r.Verdicts) {
		fmt.Fprintf(b, "The last of each gate in each stage, and every fail (%d verdicts in the journal).\n\n", len(r.Verdicts))
	}
	if len(shown) == 0 {
		b.WriteString("None.\n")
	} else {
		head("time", "stage", "gate", "verdict", "reason", "figures")
		for _, v := range shown {
			d := decision(v)
			if v.Decision.String() == "fail" {
				d = "**" + d + "**"
			}
			row(r.rel(v.Time), esc(v.Stage), esc(v.Gate), d, esc(v.Reason), figures(v.Figures, esc))
		}
	}

	b.WriteString("\n## Approvals\n\n")
	if len(r.Approvals) == 0 {
		b.WriteString("None.\n")
	} else {
		head("time", "who", "approves", "why", "answer")
		for i := range r.Approvals {
			c := &r.Approvals[i]
			row(r.rel(c.Time), esc(c.Actor), approvalStage(c, q), esc(c.Reason), r.answer(c, esc))
		}
	}
	if others := r.otherCommands(); len(others) > 0 {
		b.WriteString("\n## Commands\n\n")
		head("time", "command", "who", "why", "answer")
		for _, c := range others {
			row(r.rel(c.Time), string(c.Command), esc(c.Actor), esc(c.Reason), r.answer(c, esc))
		}
	}

	b.WriteString("\n## Traffic\n\n")
	if len(r.Traffic) == 0 {
		b.WriteString("None journaled.\n")
	} else {
		cells := []string{"time", "stage"}
		for _, t := range r.Targets {
			cells = append(cells, esc(t))
		}
		head(cells...)
		for i := range r.Traffic {
			p := &r.Traffic[i]
			cells := []string{r.rel(p.Time), esc(p.Stage)}
			for _, t := range r.Targets {
				if w, ok := p.Weights[t]; ok {
					cells = append(cells, fmt.Sprintf("%d%%", w))
				} else {
					cells = append(cells, "")
				}
			}
			row(cells...)
		}
	}
	return b.Flush()
}

// mdEscape makes journal text inert in Markdown and in a table cell: the
// characters that open emphasis, code, links, images, HTML, entities or
// cells are escaped with a backslash, and line breaks become spaces. Text
// never starts a line, so block syntax (#, -, >) needs no escape.
func mdEscape(s string) string {
	s = plainText(s)
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune("\\`*_[]<>|~&!#", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
