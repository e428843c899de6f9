package demo

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/journalflag"
	"github.com/safecutover/safecutover/providers"
)

// UI shows a cutover's progress from the runner's events: one line per
// thing that happened, and on a terminal a status line redrawn at every
// gate poll with the bake's progress.
type UI struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	plan  cutover.Plan
	watch Watch
	// traffic, if set, says what traffic the stages set (with -aws: the
	// journal's traffic notes), so the display makes no cloud call.
	traffic func(ctx context.Context) (providers.Weights, bool)
	origin  time.Time
	status  bool // a status line is on screen
	// resumed is set when the journal had records before this process
	// started, or after the first EvStarted.
	resumed bool
	// last is the last decision shown per stage and gate.
	last map[string]verdictKey
	// real is set in the -aws mode: times are real, not simulated.
	real bool
	// timeout bounds each read of the cloud for the display.
	timeout time.Duration
}

var _ cutover.Observer = (*UI)(nil)

func newUI(w io.Writer, tty bool, plan cutover.Plan, watch Watch) *UI {
	return &UI{w: w, tty: tty, plan: plan, watch: watch, last: map[string]verdictKey{}, timeout: time.Second}
}

const (
	cReset = "\033[0m"
	cBold  = "\033[1m"
	cDim   = "\033[2m"
	cRed   = "\033[31m"
	cGreen = "\033[32m"
	cYel   = "\033[33m"
	cBlue  = "\033[34m"
)

func (u *UI) c(code, s string) string {
	if !u.tty {
		return s
	}
	return code + s + cReset
}

// clearStatus removes the status line, if any.
func (u *UI) clearStatus() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.clearLocked()
}

func (u *UI) clearLocked() {
	if u.status {
		fmt.Fprint(u.w, "\r\033[K")
		u.status = false
	}
}

// line prints one permanent line stamped with the simulated time t (zero:
// no stamp).
func (u *UI) line(stamp string, format string, a ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lineLocked(stamp, format, a...)
}

func (u *UI) lineLocked(stamp string, format string, a ...any) {
	u.clearLocked()
	if stamp == "" {
		stamp = strings.Repeat(" ", 9)
	}
	fmt.Fprintf(u.w, "%s  %s\n", u.c(cDim, stamp), fmt.Sprintf(format, a...))
}

func (u *UI) stamp(t time.Time) string {
	if u.origin.IsZero() {
		u.origin = t
	}
	return offset(t.Sub(u.origin))
}

// offset renders d as +hh:mm:ss.
func offset(d time.Duration) string {
	d = d.Round(time.Second)
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%s%02d:%02d:%02d", sign, int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

func (u *UI) header(title string, plan cutover.Plan, env *Env, resumed bool) {
	f := env.Flags
	a := plan.Analyze()
	fmt.Fprintln(u.w, u.c(cBold, title))
	mode := "memory journal (use -journal DIR to make the run resumable)"
	table, dynamo := strings.CutPrefix(f.Journal, journalflag.DynamoDBPrefix)
	switch {
	case dynamo:
		mode = "DynamoDB journal and lease in table " + table
	case f.Journal != "":
		mode = "file journal in " + f.Journal
	}
	if resumed { // only a journal kept outside the process has records at the start
		mode += " — resuming"
	}
	if env.AWS != nil {
		fmt.Fprintf(u.w, "AWS region %s, real clock; %s\n", env.AWS.Region(), mode)
	} else {
		green := "healthy green"
		if f.BadGreen {
			green = u.c(cRed, "bad green (error rate 10× blue's)")
		}
		fmt.Fprintf(u.w, "fake cloud, clock ×%g, seed %d, %s; %s\n", f.Speed, f.Seed, green, mode)
	}
	fmt.Fprintf(u.w, "plan %q: %d stages\n", plan.Name, len(plan.Stages))
	for i, s := range plan.Stages {
		var extra []string
		if s.Bake > 0 {
			extra = append(extra, "bake "+s.Bake.String())
		}
		if n := len(s.Gates); n > 0 {
			var names []string
			for k, g := range s.Gates {
				names = append(names, cutover.GateName(g, k))
			}
			extra = append(extra, "gates: "+strings.Join(names, ", "))
		}
		if s.Pause {
			extra = append(extra, "pauses")
		}
		mark := "  "
		if i == a.PNRIndex {
			mark = u.c(cYel, "⚑ ")
		}
		fmt.Fprintf(u.w, "  %s%d. %-16s %-12s %s\n", mark, i+1, s.Name, s.Reversibility, strings.Join(extra, "; "))
	}
	if a.PNRIndex >= 0 {
		fmt.Fprintf(u.w, "point of no return: %q (stage %d); before it %d stages and %v of bake stay reversible\n",
			a.PNRStage, a.PNRIndex+1, a.ReversibleStages, a.ReversibleBake)
	} else {
		fmt.Fprintln(u.w, "point of no return: none — every stage can be rolled back")
	}
	if len(a.Findings) == 0 {
		fmt.Fprintln(u.w, "plan lint: no findings")
	}
	for _, fd := range a.Findings {
		fmt.Fprintf(u.w, "plan lint: %s: %s\n", fd.Code, fd.Message)
	}
	for _, e := range a.Evidence {
		fmt.Fprintf(u.w, "evidence: %s\n", e)
	}
	fmt.Fprintln(u.w)
}

// Observe shows event e.
func (u *UI) Observe(e cutover.Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	ts := u.stamp(e.Time)
	n := len(u.plan.Stages)
	switch e.Type {
	case cutover.EvStarted:
		phase := strings.TrimPrefix(e.Message, "cutover ")
		if u.resumed {
			u.lineLocked(ts, "%s resuming cutover %s from the journal (%s)", u.c(cBold, "▶"), e.Cutover, phase)
		} else {
			u.lineLocked(ts, "%s starting cutover %s", u.c(cBold, "▶"), e.Cutover)
		}
		u.resumed = true
	case cutover.EvStageStarted:
		u.lineLocked(ts, "%s [%d/%d] %s — %s", u.c(cBold, "▶"), e.Index+1, n, u.c(cBold, e.Stage), u.pnr(e.PNR))
	case cutover.EvStageApplied:
		u.lineLocked(ts, "%s applied  %-16s %s%s", u.c(cGreen, "✓"), e.Stage, u.cloud(), u.bakeUntil(e))
	case cutover.EvGateJudged:
		if e.Verdict == nil {
			return
		}
		key := e.Stage + "\x00" + e.Gate
		now := verdictKey{e.Verdict.Decision, e.Verdict.Final}
		if prev, seen := u.last[key]; !seen || prev != now {
			u.last[key] = now
			u.lineLocked(ts, "  gate %s: %s", e.Gate, u.verdict(*e.Verdict))
		}
		if u.tty {
			u.clearLocked()
			bake := ""
			if e.Bake > 0 {
				bake = fmt.Sprintf("bake %v/%v ", e.Elapsed.Round(time.Second), e.Bake)
			}
			s := fmt.Sprintf("  ⧗ %s %s%s: %s", e.Stage, bake, e.Gate, e.Verdict.String())
			fmt.Fprint(u.w, u.c(cDim, truncate(s, 110)))
			u.status = true
		}
	case cutover.EvStageBaked:
		u.lineLocked(ts, "%s baked    %-16s %s", u.c(cGreen, "✓"), e.Stage, u.rollback(e.PNR))
	case cutover.EvPaused:
		u.lineLocked(ts, "%s paused after %s: %s", u.c(cYel, "⏸"), e.Stage, e.Message)
	case cutover.EvResumed:
		u.lineLocked(ts, "%s resumed", u.c(cGreen, "▶"))
	case cutover.EvWaitingApproval:
		u.lineLocked(ts, "%s waiting for approval: %s", u.c(cYel, "⏸"), e.Message)
		u.lineLocked("", "  blue is still warm: %s", u.cloud())
	case cutover.EvApproved:
		u.lineLocked(ts, "%s approved: %s", u.c(cGreen, "✓"), e.Message)
	case cutover.EvPNRApproaching:
		u.lineLocked(ts, "%s %s", u.c(cYel, "⚠"), e.Message)
	case cutover.EvPNRCrossed:
		by := ""
		if e.PNR.ApprovedBy != "" {
			by = fmt.Sprintf(", approved by %s (%s)", e.PNR.ApprovedBy, e.PNR.ApprovalReason)
		}
		u.lineLocked(ts, "%s point of no return crossed: %s%s — rollback is no longer possible", u.c(cYel, "⚑"), e.Stage, by)
	case cutover.EvRollingBack:
		u.lineLocked(ts, "%s rolling back: %v", u.c(cRed, "✗"), e.Err)
	case cutover.EvStageReverted:
		u.lineLocked(ts, "%s reverted %-16s %s", u.c(cYel, "↩"), e.Stage, u.cloud())
	case cutover.EvRevertFailed:
		u.lineLocked(ts, "%s revert of %s failed, retrying: %v", u.c(cRed, "✗"), e.Stage, e.Err)
	case cutover.EvApplyRetry:
		u.lineLocked(ts, "%s %s: %s: %v", u.c(cYel, "↻"), e.Stage, e.Message, e.Err)
	case cutover.EvRolledBack:
		u.lineLocked(ts, "%s rolled back: %s", u.c(cYel, "↩"), u.cloud())
	case cutover.EvCompleted:
		u.lineLocked(ts, "%s completed: %s", u.c(cGreen, "✓"), u.cloud())
	case cutover.EvFailed:
		u.lineLocked(ts, "%s failed: %v", u.c(cRed, "✗"), e.Err)
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (u *UI) verdict(v cutover.Verdict) string {
	d := v.Decision.String()
	switch v.Decision {
	case cutover.Pass:
		d = u.c(cGreen, d)
	case cutover.Fail:
		d = u.c(cRed, d)
	default:
		d = u.c(cYel, d)
	}
	if v.Final {
		d += " (final)"
	}
	out := d
	if v.Reason != "" {
		out += " — " + v.Reason
	}
	if f := figures(v.Figures); f != "" {
		out += u.c(cDim, " ["+f+"]")
	}
	return out
}

// figures renders the headline figures of a verdict: counts and rates,
// not the internals of a test.
func figures(m map[string]float64) string {
	var keys []string
	for k := range m {
		base := k[strings.LastIndex(k, ".")+1:]
		if strings.Contains(base, "log_") || strings.HasSuffix(base, "_s") || base == "points" || base == "min" || base == "max" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 6 {
		keys = keys[:6]
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := m[k]
		switch {
		case strings.HasSuffix(k, "rate") || k == "value":
			parts[i] = fmt.Sprintf("%s=%.2f%%", k, 100*v)
		case v == math.Trunc(v):
			parts[i] = fmt.Sprintf("%s=%.0f", k, v)
		default:
			parts[i] = fmt.Sprintf("%s=%.3g", k, v)
		}
	}
	return strings.Join(parts, " ")
}

// pnr describes the rollback window and the PNR before a stage.
func (u *UI) pnr(p cutover.PNRStatus) string {
	return u.rollback(p)
}

func (u *UI) rollback(p cutover.PNRStatus) string {
	var b strings.Builder
	switch {
	case p.Crossed:
		b.WriteString(u.c(cYel, "rollback no longer possible"))
	case !p.Until.IsZero():
		fmt.Fprintf(&b, "rollback possible until %s", u.stamp(p.Until))
	default:
		b.WriteString("rollback possible")
	}
	switch {
	case p.Index < 0:
		b.WriteString("; no point of no return")
	case p.Crossed:
		fmt.Fprintf(&b, "; PNR %q crossed", p.Stage)
	case p.Approved:
		fmt.Fprintf(&b, "; PNR %q ahead, approved by %s", p.Stage, p.ApprovedBy)
	default:
		fmt.Fprintf(&b, "; PNR %q ahead, not approved", p.Stage)
	}
	return b.String()
}

// cloud describes the traffic split and the fleets now.
func (u *UI) cloud() string {
	ctx, cancel := context.WithTimeout(context.Background(), u.timeout)
	defer cancel()
	var parts []string
	switch {
	case u.watch.Router != nil && u.traffic != nil:
		if w, ok := u.traffic(ctx); ok {
			parts = append(parts, u.bar(w))
		} else if w, err := u.watch.Router.Weights(ctx); err == nil {
			parts = append(parts, u.bar(w)) // before the first traffic note
		}
	case u.watch.Router != nil:
		if w, err := u.watch.Router.Weights(ctx); err == nil {
			parts = append(parts, u.bar(w))
		}
	case u.watch.Switcher != nil:
		if a, err := u.watch.Switcher.Active(ctx); err == nil {
			w := providers.Weights{"blue": 0, "green": 0}
			w[a] = 100
			parts = append(parts, u.bar(w))
		}
	}
	var fl []string
	for _, f := range u.watch.Fleets {
		if f.Fleet == nil {
			continue
		}
		if c, err := f.Fleet.Capacity(ctx); err == nil {
			fl = append(fl, fmt.Sprintf("%s %d/%d healthy", f.Name, c.Healthy, c.Desired))
		}
	}
	if len(fl) > 0 {
		parts = append(parts, strings.Join(fl, ", "))
	}
	return strings.Join(parts, " · ")
}

// Bar renders blue's and green's shares of w as a 20-cell bar.
func Bar(w providers.Weights) string {
	b := barCells(w)
	return fmt.Sprintf("blue %3d%% %s%s %d%% green", w["blue"], strings.Repeat("█", b), strings.Repeat("░", 20-b), w["green"])
}

func (u *UI) bar(w providers.Weights) string {
	if !u.tty {
		return Bar(w)
	}
	b := barCells(w)
	return fmt.Sprintf("blue %3d%% %s%s %d%% green", w["blue"],
		u.c(cBlue, strings.Repeat("█", b)), u.c(cGreen, strings.Repeat("█", 20-b)), w["green"])
}

// verdictKey is what makes a gate's verdict worth a line of its own: a new
// decision, or the same decision becoming final.
type verdictKey struct {
	decision cutover.Decision
	final    bool
}

// barCells returns how many of the bar's 20 cells are blue's; weights
// outside 0–100 (a provider breaking its contract) are clamped, never a
// panic.
func barCells(w providers.Weights) int {
	return min(max(int(math.Round(float64(w["blue"])/5)), 0), 20)
}

// bakeUntil says until when, at most, the stage of e bakes (for "keep blue
// warm": how long blue stays warm, the rollback window), or nothing.
func (u *UI) bakeUntil(e cutover.Event) string {
	if e.Index < 0 || e.Index >= len(u.plan.Stages) || u.plan.Stages[e.Index].Bake <= 0 {
		return ""
	}
	return " · bake up to " + u.stamp(e.Time.Add(u.plan.Stages[e.Index].Bake))
}
