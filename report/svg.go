package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/safecutover/safecutover/cutover"
)

// The chart's geometry, in pixels, and its colours: the Okabe–Ito palette,
// which reads for colour-blind people; a failed verdict is vermillion and
// a triangle, a passed one blue and a circle.
const (
	svgWidth   = 960
	plotLeft   = 180
	plotRight  = svgWidth - 30
	plotWidth  = plotRight - plotLeft
	chartH     = 180
	laneH      = 18
	stageBandH = 12
	labelRowH  = 14
	charW      = 6.6 // an 11 px sans-serif character, about
	colBlue    = "#0072B2"
	colGreen   = "#009E73"
	colVermil  = "#D55E00"
	colSky     = "#56B4E9"
	colPurple  = "#CC79A7"
	colOrange  = "#E69F00"
	colYellow  = "#F0E442"
	colInk     = "#222222"
	colMuted   = "#666666"
	colGrid    = "#DDDDDD"
	fontFamily = "sans-serif"
)

// targetStyles are the colours and dashes of the traffic lines: "blue"
// and "green" by name, the others in order.
var targetStyles = []struct{ color, dash string }{
	{colBlue, ""}, {colGreen, "7 4"}, {colOrange, "2 3"}, {colPurple, "10 3 2 3"}, {colSky, "4 4"}, {colInk, "1 2"},
}

// svgWriter writes the chart.
type svgWriter struct {
	b    *bufio.Writer
	r    *Report
	axis timeAxis
}

// printf writes to the chart.
func (s *svgWriter) printf(format string, a ...any) { fmt.Fprintf(s.b, format, a...) }

// x maps t onto the chart.
func (s *svgWriter) x(t time.Time) float64 { return s.axis.x(t) }

// text writes a text element with journal text escaped.
func (s *svgWriter) text(x, y float64, attrs, body string) {
	s.printf(`<text x="%.1f" y="%.1f"%s>%s</text>`+"\n", x, y, attrs, xmlText(body))
}

// WriteSVG writes r as a self-contained SVG chart (no script, no external
// font or image): the traffic weight of each target over time as stepped
// lines, the stages with their bake periods shaded, each gate's verdicts
// as markers (a failed one a vermillion triangle, a passed one a blue
// circle), approvals, the start of a rollback and the crossing of the
// point of no return as labelled vertical lines, the time rollback was
// possible as a shaded lane, a time axis and a legend. Each marker and
// stage carries a tooltip (an SVG title) with the details.
//
// The time axis gives each stage room of its own as well as room in
// proportion to its length, so that a one-minute canary step beside a
// half-hour bake stays readable; its ticks say the time since the start.
func (r *Report) WriteSVG(w io.Writer) error {
	s := &svgWriter{b: bufio.NewWriter(w), r: r, axis: newTimeAxis(r)}
	lines := s.markers()
	rows := placeLabels(lines)
	nrows := 0
	for _, row := range rows {
		nrows = max(nrows, row+1)
	}
	gates := r.gateNames()

	top := 58.0 + float64(nrows)*labelRowH
	stageY := top + 4
	chartY := stageY + stageBandH + 30
	rollY := chartY + chartH + 10
	gateY := rollY + laneH + 6
	axisY := gateY + float64(len(gates))*laneH + 6
	legendY := axisY + 40
	legend := s.legendItems()
	legendRows := layoutLegend(legend)
	height := legendY + float64(legendRows)*20 + 30

	title := fmt.Sprintf("cutover %s · plan “%s” · %s", r.ID, r.Plan, strings.SplitN(r.result(func(x string) string { return x }), ":", 2)[0])
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="%s" font-size="12" role="img" aria-label="%s">`+"\n",
		svgWidth, height, svgWidth, height, fontFamily, xmlText(title))
	s.printf("<title>%s</title>\n", xmlText(title))
	s.printf(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="%s" stroke-width="2"/></pattern></defs>`+"\n", "#BBBBBB")
	s.printf(`<rect width="100%%" height="100%%" fill="#FFFFFF"/>` + "\n")
	s.text(12, 24, ` font-size="16" font-weight="bold" fill="`+colInk+`"`, title)
	sub := fmt.Sprintf("started %s by %s · %s in all", clock(r.Started), r.Initiator, dur(r.Total))
	if r.Outlined {
		sub += " · rollback possible for " + dur(r.ReversibleFor)
	}
	if r.Ended.IsZero() {
		sub += " · still open at " + r.rel(r.At)
	}
	s.text(12, 44, ` fill="`+colMuted+`"`, sub)

	s.stageLane(stageY)
	s.chart(chartY)
	s.rollbackLane(rollY)
	s.gateLanes(gateY, gates)
	s.timeAxis(axisY)

	// The vertical lines and their labels, over everything.
	for i, l := range lines {
		x := s.x(l.t)
		ly := 58 + float64(rows[i])*labelRowH + 10
		s.printf(`<g class="%s"><title>%s</title>`, l.class, xmlText(l.title))
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`,
			x, ly+3, x, axisY, l.color, l.width, dashAttr(l.dash))
		anchor, tx := "start", x+3
		if l.rightAnchored() {
			anchor, tx = "end", x-3
		}
		s.printf(`<text x="%.1f" y="%.1f" font-size="11" fill="%s" text-anchor="%s">%s</text></g>`+"\n", tx, ly, l.color, anchor, xmlText(l.label))
	}

	s.legend(legendY, legend)
	s.text(12, height-10, ` font-size="10" fill="`+colMuted+`"`,
		"Drawn from the journal alone. Each stage gets room on the time axis as well as room for its length, so the axis is not to scale: read its ticks. Hover for details.")
	s.printf("</svg>\n")
	return s.b.Flush()
}

// markers returns the vertical lines: the start of a rollback, the
// approvals, the crossing of the PNR, and the report's moment for a
// cutover still open.
func (s *svgWriter) markers() []vline {
	r := s.r
	var out []vline
	add := func(l vline) {
		l.x = s.x(l.t)
		out = append(out, l)
	}
	if !r.RollbackStarted.IsZero() {
		label := "rollback"
		for i := range r.Verdicts {
			if v := &r.Verdicts[i]; v.Decision == cutover.Fail {
				label = fmt.Sprintf("rollback: %s failed", v.Gate)
				break
			}
		}
		add(vline{t: r.RollbackStarted, class: "rollback", label: label, title: "rollback started at " + r.rel(r.RollbackStarted) + ": " + r.Cause,
			color: colVermil, width: 2})
	}
	for i := range r.Approvals {
		c := &r.Approvals[i]
		label := "approved by " + c.Actor
		if c.Answered && c.Refusal != "" {
			label = "approval by " + c.Actor + " refused"
		}
		add(vline{t: c.Time, class: "approval", label: label, title: fmt.Sprintf("%s at %s: %s — %s", label, r.rel(c.Time), c.Reason, r.answer(c, plainText)),
			color: "#8E3D72", dash: "5 3", width: 1.5})
	}
	if r.Outlined && r.PNR.Crossed {
		add(vline{t: r.PNR.CrossedAt, class: "pnr", label: "PNR crossed: " + r.PNR.Stage, title: "point of no return crossed at " + r.rel(r.PNR.CrossedAt) + ": rollback no longer possible",
			color: colInk, width: 2})
	}
	if r.Ended.IsZero() {
		add(vline{t: r.At, class: "now", label: "report at " + r.rel(r.At), title: "the moment of this report: " + clock(r.At), color: colMuted, dash: "2 2", width: 1})
	}
	return out
}

// placeLabels gives each line's label the first row where it overlaps no
// other label, at most four rows.
func placeLabels(lines []vline) []int {
	rows := make([]int, len(lines))
	var taken [][][2]float64
	for k, l := range lines {
		a, b := l.span()
		row := 0
		for ; row < 4; row++ {
			if row == len(taken) {
				taken = append(taken, nil)
			}
			free := true
			for _, iv := range taken[row] {
				if a < iv[1]+8 && iv[0] < b+8 {
					free = false
					break
				}
			}
			if free {
				break
			}
		}
		row = min(row, 3)
		for len(taken) <= row {
			taken = append(taken, nil)
		}
		taken[row] = append(taken[row], [2]float64{a, b})
		rows[k] = row
	}
	return rows
}

// stageBand is one piece of the stage lane.
type stageBand struct {
	x, w             float64
	fill, label, tip string
}

// stageLane draws the stages as a band: each from its start to the next
// stage's (or the rollback, or the end), the wait for an approval
// hatched, the rollback in vermillion; the labels below it on two
// staggered rows, so that a short stage's name may spill into its
// neighbours.
func (s *svgWriter) stageLane(y float64) {
	r := s.r
	s.text(12, y+12, ` font-weight="bold" fill="`+colInk+`"`, "stages")
	var bands []stageBand
	add := func(from, to time.Time, fill, label, tip string) {
		x0, x1 := s.x(from), s.x(to)
		bands = append(bands, stageBand{x0, max(x1-x0, 1), fill, label, tip})
	}
	end := r.At
	for i := range r.Stages {
		st := &r.Stages[i]
		if !st.Waited.IsZero() {
			wEnd := end
			if !st.Started.IsZero() {
				wEnd = st.Started
			}
			add(st.Waited, wEnd, "url(#hatch)", "waiting", "waited for an approval of “"+st.Name+"” from "+r.rel(st.Waited)+" to "+r.rel(wEnd))
		}
		if st.Started.IsZero() {
			continue
		}
		stop := end
		for j := i + 1; j < len(r.Stages); j++ {
			if t := r.Stages[j].Waited; !t.IsZero() && t.Before(stop) {
				stop = t
			}
			if t := r.Stages[j].Started; !t.IsZero() && t.Before(stop) {
				stop = t
			}
		}
		if !r.RollbackStarted.IsZero() && r.RollbackStarted.After(st.Started) && r.RollbackStarted.Before(stop) {
			stop = r.RollbackStarted
		}
		fill := "#E3E3E3"
		if i%2 == 1 {
			fill = "#CFCFCF"
		}
		name := st.Name
		if r.Outlined && i == r.PNR.Index {
			name = "⚑ " + name
		}
		tip := fmt.Sprintf("stage %d “%s” (%s): started %s, applied %s, ended %s — %s", i+1, st.Name, r.reversibility(st), r.rel(st.Started), r.rel(st.Applied), r.rel(st.Ended()), r.outcome(st))
		add(st.Started, stop, fill, name, tip)
	}
	if !r.RollbackStarted.IsZero() {
		add(r.RollbackStarted, end, "#F3C7A8", "rollback", "rollback from "+r.rel(r.RollbackStarted)+" to "+r.rel(end))
	}
	slices.SortStableFunc(bands, func(a, b stageBand) int { return cmpFloat(a.x, b.x) })
	for k, b := range bands {
		room := b.w
		switch {
		case len(bands) == 1:
			room = plotWidth
		case k == 0:
			room += bands[1].w
		case k == len(bands)-1:
			room += bands[k-1].w
		default:
			room += min(bands[k-1].w, bands[k+1].w)
		}
		s.printf(`<g><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s" stroke="#FFFFFF"/>`, xmlText(b.tip), b.x, y, b.w, stageBandH, b.fill)
		if n := int((room - 8) / (charW * 0.92)); n >= 3 {
			s.printf(`<text x="%.1f" y="%.1f" font-size="10.5" text-anchor="middle" fill="%s">%s</text>`,
				b.x+b.w/2, y+stageBandH+11+float64(k%2)*12, colInk, xmlText(truncate(b.label, n)))
		}
		s.printf("</g>\n")
	}
}

// cmpFloat compares a and b.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// chart draws the traffic weights over the bakes.
func (s *svgWriter) chart(y float64) {
	r := s.r
	s.text(12, y+13, ` font-weight="bold" fill="`+colInk+`"`, "traffic weight")
	s.text(12, y+28, ` font-size="11" fill="`+colMuted+`"`, "per target, in %")
	// Bakes: from applied until baked, failed or reverted.
	for i := range r.Stages {
		st := &r.Stages[i]
		if st.Applied.IsZero() {
			continue
		}
		stop := r.At
		for _, t := range []time.Time{st.Baked, st.RevertStarted, st.Reverted} {
			if !t.IsZero() && !t.Before(st.Applied) && t.Before(stop) {
				stop = t
			}
		}
		x0, x1 := s.x(st.Applied), s.x(stop)
		if x1-x0 < 0.5 {
			continue
		}
		s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="#000000" fill-opacity="0.07"><title>%s</title></rect>`+"\n",
			x0, y, x1-x0, chartH, xmlText(fmt.Sprintf("“%s” baked from %s to %s", st.Name, r.rel(st.Applied), r.rel(stop))))
	}
	for _, p := range []int{0, 25, 50, 75, 100} {
		py := wy(y, p)
		s.printf(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`, plotLeft, py, plotRight, py, colGrid)
		s.printf(`<text x="%d" y="%.1f" font-size="10" text-anchor="end" fill="%s">%d%%</text>`+"\n", plotLeft-4, py+3.5, colMuted, p)
	}
	s.printf(`<rect x="%d" y="%.1f" width="%d" height="%d" fill="none" stroke="#999999"/>`+"\n", plotLeft, y, plotWidth, chartH)
	if len(r.Traffic) == 0 {
		s.text(plotLeft+plotWidth/2, y+chartH/2, ` text-anchor="middle" fill="`+colMuted+`"`, "no traffic journaled")
		return
	}
	end := s.x(r.At)
	for k, t := range r.Targets {
		st := r.targetStyle(t, k)
		var d strings.Builder
		last := -1
		for i := range r.Traffic {
			p := &r.Traffic[i]
			w, ok := p.Weights[t]
			if !ok {
				continue
			}
			x := s.x(p.Time)
			if last < 0 {
				fmt.Fprintf(&d, "M%.1f %.1f", x, wy(y, w))
			} else {
				fmt.Fprintf(&d, " H%.1f V%.1f", x, wy(y, w))
			}
			last = w
		}
		if last < 0 {
			continue
		}
		fmt.Fprintf(&d, " H%.1f", end)
		s.printf(`<path d="%s" fill="none" stroke="%s" stroke-width="2.5"%s><title>%s</title></path>`+"\n",
			d.String(), st.color, dashAttr(st.dash), xmlText("traffic to "+t))
	}
	// The weights at each change, for the reader without a mouse.
	for i := range r.Traffic {
		p := &r.Traffic[i]
		s.printf(`<circle cx="%.1f" cy="%.1f" r="2" fill="%s"><title>%s</title></circle>`+"\n", s.x(p.Time), y+chartH-3, colMuted,
			xmlText(fmt.Sprintf("%s at %s (%s): %s", "traffic", r.rel(p.Time), p.Stage, weights(p, r.Targets, plainText))))
	}
}

// wy is the y of weight w on the chart whose top is y.
func wy(y float64, w int) float64 { return y + chartH*(1-float64(min(max(w, 0), 100))/100) }

// targetStyle is how the line of target t, the k-th, is drawn.
func (r *Report) targetStyle(t string, k int) struct{ color, dash string } {
	switch t {
	case "blue":
		return targetStyles[0]
	case "green":
		return targetStyles[1]
	}
	return targetStyles[2+k%(len(targetStyles)-2)]
}

// rollbackLane shades the time rollback was possible; for an open window,
// the time until it closes, outlined.
func (s *svgWriter) rollbackLane(y float64) {
	r := s.r
	s.text(12, y+13, ` font-weight="bold" fill="`+colInk+`"`, "rollback possible")
	s.printf(`<rect x="%d" y="%.1f" width="%d" height="%d" fill="url(#hatch)" fill-opacity="0.6"/>`+"\n", plotLeft, y, plotWidth, laneH)
	if !r.Outlined {
		s.text(plotLeft+6, y+13, ` font-size="11" fill="`+colInk+`"`, "unknown: the journal has no outline of the plan")
		return
	}
	for _, sp := range r.Reversible {
		x0, x1 := s.x(sp.From), s.x(sp.To)
		s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n", x0, y, max(x1-x0, 1), laneH, colSky,
			xmlText("rollback possible from "+r.rel(sp.From)+" to "+r.rel(sp.To)))
	}
	if r.CanRollBack && !r.RollbackUntil.IsZero() {
		x0, x1 := s.x(r.At), s.x(r.RollbackUntil)
		s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s" fill-opacity="0.35" stroke="%s" stroke-dasharray="4 2"><title>%s</title></rect>`+"\n",
			x0, y+1, max(x1-x0, 1), laneH-2, colSky, colBlue, xmlText("the window is open until "+clock(r.RollbackUntil)+" ("+r.rel(r.RollbackUntil)+")"))
		s.printf(`<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="%s">%s</text>`+"\n", x1-3, y+13, colInk, xmlText("closes "+r.rel(r.RollbackUntil)))
	}
}

// gateNames are the gates that have verdicts, in the order they first
// appear.
func (r *Report) gateNames() []string {
	var names []string
	for _, v := range r.Verdicts {
		if !slices.Contains(names, v.Gate) {
			names = append(names, v.Gate)
		}
	}
	return names
}

// gateLanes draws each gate's verdicts on a lane of its own: pending
// first, then passes, then fails, so that a fail is never hidden.
func (s *svgWriter) gateLanes(y float64, gates []string) {
	r := s.r
	for k, g := range gates {
		ly := y + float64(k)*laneH
		if k%2 == 0 {
			s.printf(`<rect x="%d" y="%.1f" width="%d" height="%d" fill="#F6F6F6"/>`+"\n", plotLeft, ly, plotWidth, laneH)
		}
		s.printf(`<text x="12" y="%.1f" font-size="11" fill="%s"><title>%s</title>%s</text>`+"\n", ly+13, colInk, xmlText("gate "+g), xmlText(truncate(g, 26)))
	}
	for _, d := range []cutover.Decision{cutover.Pending, cutover.Pass, cutover.Fail} {
		for i := range r.Verdicts {
			v := &r.Verdicts[i]
			if v.Decision != d {
				continue
			}
			k := slices.Index(gates, v.Gate)
			cx, cy := s.x(v.Time), y+float64(k)*laneH+laneH/2
			tip := fmt.Sprintf("%s · %s at %s: %s — %s", v.Stage, v.Gate, r.rel(v.Time), decision(v), v.Reason)
			if f := figures(v.Figures, plainText); f != "" {
				tip += " [" + f + "]"
			}
			s.printf(`<g class="verdict %s"><title>%s</title>%s</g>`+"\n", d, xmlText(tip), marker(d, cx, cy))
		}
	}
}

// marker is the shape of a verdict: a hollow grey circle for pending, a
// blue disc for pass, a vermillion triangle for fail.
func marker(d cutover.Decision, cx, cy float64) string {
	switch d {
	case cutover.Pass:
		return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="4.5" fill="%s" stroke="#FFFFFF" stroke-width="0.8"/>`, cx, cy, colBlue)
	case cutover.Fail:
		return fmt.Sprintf(`<path d="M%.1f %.1f L%.1f %.1f L%.1f %.1f Z" fill="%s" stroke="%s" stroke-width="0.8"/>`,
			cx, cy-7, cx+6.5, cy+5, cx-6.5, cy+5, colVermil, colInk)
	}
	return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="#FFFFFF" stroke="%s" stroke-width="1.5"/>`, cx, cy, colMuted)
}

// legendItem is one entry of the legend: a swatch and its meaning.
type legendItem struct {
	swatch string // SVG drawn in a 24×12 box at the origin
	label  string
}

func (it legendItem) width() float64 {
	return 32 + float64(utf8.RuneCountInString(it.label))*charW + 18
}

// legendItems are the entries the chart needs.
func (s *svgWriter) legendItems() []legendItem {
	r := s.r
	var items []legendItem
	for k, t := range r.Targets {
		st := r.targetStyle(t, k)
		items = append(items, legendItem{fmt.Sprintf(`<line x1="0" y1="6" x2="24" y2="6" stroke="%s" stroke-width="2.5"%s/>`, st.color, dashAttr(st.dash)), "traffic to " + t})
	}
	// Only what the chart shows: a legend of things absent is noise.
	decided := map[cutover.Decision]bool{}
	for _, v := range r.Verdicts {
		decided[v.Decision] = true
	}
	baked := false
	for _, st := range r.Stages {
		baked = baked || !st.Applied.IsZero()
	}
	add := func(show bool, swatch, label string) {
		if show {
			items = append(items, legendItem{swatch, label})
		}
	}
	add(baked, `<rect width="24" height="12" fill="#000000" fill-opacity="0.07" stroke="#CCCCCC"/>`, "bake")
	add(true, `<rect width="24" height="12" fill="`+colSky+`"/>`, "rollback possible")
	add(true, `<rect width="24" height="12" fill="url(#hatch)"/>`, "rollback impossible / waiting")
	add(decided[cutover.Pass], marker(cutover.Pass, 12, 6), "gate passed")
	add(decided[cutover.Fail], marker(cutover.Fail, 12, 7), "gate failed")
	add(decided[cutover.Pending], marker(cutover.Pending, 12, 6), "gate pending")
	add(len(r.Approvals) > 0, `<line x1="12" y1="0" x2="12" y2="12" stroke="#8E3D72" stroke-width="1.5" stroke-dasharray="5 3"/>`, "approval")
	add(r.Outlined && r.PNR.Crossed, `<line x1="12" y1="0" x2="12" y2="12" stroke="`+colInk+`" stroke-width="2"/>`, "point of no return crossed")
	add(!r.RollbackStarted.IsZero(), `<line x1="12" y1="0" x2="12" y2="12" stroke="`+colVermil+`" stroke-width="2"/>`, "rollback started")
	return items
}

// layoutLegend returns how many rows the legend takes.
func layoutLegend(items []legendItem) int {
	rows, x := 1, 12.0
	for _, it := range items {
		if x+it.width() > svgWidth-12 && x > 12 {
			rows++
			x = 12
		}
		x += it.width()
	}
	return rows
}

// legend draws the legend from y.
func (s *svgWriter) legend(y float64, items []legendItem) {
	x := 12.0
	for _, it := range items {
		if x+it.width() > svgWidth-12 && x > 12 {
			x, y = 12, y+20
		}
		s.printf(`<g transform="translate(%.1f %.1f)">%s<text x="30" y="10" font-size="11" fill="%s">%s</text></g>`+"\n", x, y, it.swatch, colInk, xmlText(it.label))
		x += it.width()
	}
}

// dashAttr is a stroke-dasharray attribute, or nothing.
func dashAttr(dash string) string {
	if dash == "" {
		return ""
	}
	return ` stroke-dasharray="` + dash + `"`
}

// xmlText escapes s for XML text and attribute values; control characters
// are shown as Go escapes first (XML 1.0 cannot hold most of them).
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(plainText(s))) // a strings.Builder does not fail
	return b.String()
}
