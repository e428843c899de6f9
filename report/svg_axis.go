package report

import (
	"slices"
	"time"
	"unicode/utf8"
)

// equalShare is the part of the chart's width the time axis shares out
// equally between its intervals; the rest goes in proportion to time.
const equalShare = 0.6

// timeAxis maps times onto the chart piecewise: between consecutive
// breakpoints (stage starts, waits, the rollback, the end) part of the
// width is shared out equally and the rest in proportion to time.
type timeAxis struct {
	points []time.Time // breakpoints, sorted, distinct
	xs     []float64   // their x
}

func newTimeAxis(r *Report) timeAxis {
	end := r.At
	ts := []time.Time{r.Started, end}
	for i := range r.Stages {
		st := &r.Stages[i]
		ts = append(ts, st.Started, st.Waited)
	}
	ts = append(ts, r.RollbackStarted, r.RollbackUntil)
	var pts []time.Time
	for _, t := range ts {
		// A stage that starts within a second of the cutover starts with it.
		if !t.IsZero() && (t.Equal(r.Started) || t.Sub(r.Started) >= time.Second) {
			pts = append(pts, t)
		}
	}
	if len(pts) == 0 { // a Report not made by Build
		pts = append(pts, r.Started)
	}
	slices.SortFunc(pts, func(a, b time.Time) int { return a.Compare(b) })
	pts = slices.CompactFunc(pts, func(a, b time.Time) bool { return a.Sub(b).Abs() < time.Millisecond })
	a := timeAxis{points: pts, xs: make([]float64, len(pts))}
	total := pts[len(pts)-1].Sub(pts[0])
	n := len(pts) - 1
	x := float64(plotLeft)
	for i := range pts {
		a.xs[i] = x
		if i == n {
			break
		}
		share := equalShare / float64(n)
		if total > 0 {
			share += (1 - equalShare) * float64(pts[i+1].Sub(pts[i])) / float64(total)
		} else {
			share *= 2
		}
		x += share * plotWidth
	}
	if n == 0 {
		a.xs[0] = plotLeft
	}
	return a
}

// x returns the x of t, clamped to the chart.
func (a timeAxis) x(t time.Time) float64 {
	p := a.points
	if len(p) == 1 || !t.After(p[0]) {
		return a.xs[0]
	}
	for i := 1; i < len(p); i++ {
		if !t.After(p[i]) {
			f := float64(t.Sub(p[i-1])) / float64(p[i].Sub(p[i-1]))
			return a.xs[i-1] + f*(a.xs[i]-a.xs[i-1])
		}
	}
	return a.xs[len(a.xs)-1]
}

// end is the last time on the axis.
func (a timeAxis) end() time.Time { return a.points[len(a.points)-1] }

// vline is a labelled vertical line.
type vline struct {
	t            time.Time
	class        string // rollback, approval, pnr or now
	label, title string
	color, dash  string
	width        float64
	x            float64
}

func (l vline) labelWidth() float64 { return float64(utf8.RuneCountInString(l.label))*charW + 6 }

// rightAnchored reports whether the label goes left of the line, to stay
// on the chart.
func (l vline) rightAnchored() bool { return l.x+l.labelWidth() > svgWidth-8 }

// span is where the label of l lies.
func (l vline) span() (float64, float64) {
	if l.rightAnchored() {
		return l.x - l.labelWidth(), l.x
	}
	return l.x, l.x + l.labelWidth()
}

// timeAxis draws the axis at y: a tick at each breakpoint with room for
// its label, and round ticks in between where there is room.
func (s *svgWriter) timeAxis(y float64) {
	r := s.r
	s.printf(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", plotLeft, y, plotRight, y, colInk)
	s.text(12, y+14, ` font-size="11" fill="`+colMuted+`"`, "time since the start")
	type tick struct {
		x     float64
		label string
	}
	var ticks []tick
	a := s.axis
	for i, t := range a.points {
		ticks = append(ticks, tick{a.xs[i], r.rel(t)})
		if i+1 == len(a.points) {
			break
		}
		// Round ticks inside a wide interval.
		w := a.xs[i+1] - a.xs[i]
		d := a.points[i+1].Sub(t)
		if w < 160 || d <= 0 {
			continue
		}
		step := niceStep(time.Duration(float64(d) * 90 / w))
		from := t.Sub(r.Started)
		// At most a few dozen: a bogus journal (a time in year 1) spans
		// more than a Duration holds, and off would overflow.
		for off, k := (from/step+1)*step, 0; off > 0 && off < a.points[i+1].Sub(r.Started) && k < 40; off, k = off+step, k+1 {
			tt := r.Started.Add(off)
			if x := a.x(tt); x-a.xs[i] > 50 && a.xs[i+1]-x > 50 {
				ticks = append(ticks, tick{x, "+" + dur(off)})
			}
		}
	}
	slices.SortStableFunc(ticks, func(p, q tick) int { return cmpFloat(p.x, q.x) })
	// Keep the end's tick; drop those too close to the one kept before.
	var kept []tick
	for i, tk := range ticks {
		if n := len(kept); n > 0 && tk.label == kept[n-1].label {
			continue
		}
		if n := len(kept); n > 0 && tk.x-kept[n-1].x < 52 {
			if i < len(ticks)-1 || n == 1 {
				continue
			}
			kept = kept[:n-1]
		}
		kept = append(kept, tk)
	}
	for _, tk := range kept {
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, tk.x, y, tk.x, y+5, colInk)
		s.printf(`<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="%s">%s</text>`+"\n", tk.x, y+17, colInk, xmlText(tk.label))
	}
	s.text(plotLeft, y+32, ` font-size="10" fill="`+colMuted+`"`, "started "+clock(r.Started))
	s.text(plotRight, y+32, ` font-size="10" text-anchor="end" fill="`+colMuted+`"`, "ends "+clock(a.end()))
}

// niceStep rounds d up to a step a reader counts in.
func niceStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		if d <= s {
			return s
		}
	}
	return d.Round(24 * time.Hour)
}
