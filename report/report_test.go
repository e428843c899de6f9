package report_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/report"
)

// render returns r's text, Markdown and SVG.
func render(t *testing.T, r *report.Report) (txt, md, svg string) {
	t.Helper()
	var a, b, c bytes.Buffer
	if err := r.WriteText(&a, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSVG(&c); err != nil {
		t.Fatal(err)
	}
	checkXML(t, c.Bytes())
	return a.String(), b.String(), c.String()
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	start := cutover.Record{Seq: 1, Type: cutover.RecStart, Time: t0, Plan: "p", Stages: []string{"a"}}
	tests := []struct {
		name string
		recs []cutover.Record
		opts report.Options
		is   error
		want string
	}{
		{name: "empty", recs: nil, is: report.ErrNoRecords, want: `cutover "x"`},
		{name: "first record not start", recs: []cutover.Record{{Seq: 1, Type: cutover.RecApplied, Time: t0}},
			is: cutover.ErrCorruptJournal, want: "seq 1"},
		{name: "gap", recs: []cutover.Record{start, {Seq: 3, Type: cutover.RecCompleted, Time: t0}},
			is: cutover.ErrCorruptJournal, want: "gap"},
		{name: "unknown stage", recs: []cutover.Record{start, {Seq: 2, Type: cutover.RecApplied, Time: t0, Stage: "zz"}},
			is: cutover.ErrCorruptJournal, want: `"zz"`},
		{name: "bad outline", recs: []cutover.Record{{Seq: 1, Type: cutover.RecStart, Time: t0, Plan: "p", Stages: []string{"a"},
			Outline: []cutover.StageOutline{{Reversibility: "sometimes"}}}}, is: cutover.ErrCorruptJournal, want: "sometimes"},
		{name: "plan of other stages", recs: []cutover.Record{start},
			opts: report.Options{Plan: &cutover.Plan{Name: "p", Stages: []cutover.Stage{{Name: "b"}}}}, want: `Options.Plan "p": stage 0 is "b"`},
		{name: "plan of more stages", recs: []cutover.Record{start},
			opts: report.Options{Plan: &cutover.Plan{Name: "p", Stages: []cutover.Stage{{Name: "a"}, {Name: "b"}}}}, want: "2 stages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := report.Build("x", tt.recs, tt.opts)
			if err == nil {
				t.Fatalf("Build = %+v, want an error", r)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want one wrapping %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

// TestOpenWindow: a running cutover whose window is open can be rolled
// back until the window closes; once it has closed, no longer.
func TestOpenWindow(t *testing.T) {
	t.Parallel()
	recs := windowJournal()
	applied := t0.Add(10*time.Minute + 2*time.Second)
	tests := []struct {
		name      string
		now       time.Time
		can       bool
		until     time.Time
		crossed   bool
		revFor    time.Duration
		textParts []string
	}{
		{name: "open", now: t0.Add(25 * time.Minute), can: true, until: applied.Add(time.Hour), revFor: 25 * time.Minute,
			textParts: []string{"possible until 2025-06-01 10:10:02 UTC (+1h10m2s), 45m2s after this report"}},
		{name: "zero now: the last record", can: true, until: applied.Add(time.Hour), revFor: 10*time.Minute + 4*time.Second},
		{name: "closed", now: t0.Add(2 * time.Hour), crossed: true, revFor: 70*time.Minute + 2*time.Second,
			textParts: []string{"no longer possible since +1h10m2s", `“keep blue” (stage 2), crossed at +1h10m2s`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := report.Build("c", recs, report.Options{Now: tt.now})
			if err != nil {
				t.Fatal(err)
			}
			if r.Phase != cutover.PhaseWaiting || r.Current != "retire blue" || !r.Ended.IsZero() {
				t.Errorf("phase %s at %q, ended %v; want waiting at retire blue, not ended", r.Phase, r.Current, r.Ended)
			}
			if r.CanRollBack != tt.can || !r.RollbackUntil.Equal(tt.until) {
				t.Errorf("CanRollBack %v until %v, want %v until %v", r.CanRollBack, r.RollbackUntil, tt.can, tt.until)
			}
			if r.PNR.Stage != "keep blue" || r.PNR.Crossed != tt.crossed {
				t.Errorf("PNR %+v, want keep blue crossed=%v", r.PNR, tt.crossed)
			}
			if r.ReversibleFor != tt.revFor {
				t.Errorf("ReversibleFor %v, want %v", r.ReversibleFor, tt.revFor)
			}
			txt, _, svg := render(t, r)
			flat := strings.Join(strings.Fields(txt), " ") // unwrapped
			for _, p := range tt.textParts {
				if !strings.Contains(flat, p) {
					t.Errorf("text lacks %q:\n%s", p, txt)
				}
			}
			if tt.can && !strings.Contains(svg, "the window is open until") {
				t.Errorf("SVG does not show the open window")
			}
		})
	}
}

// pastPNRJournal: the irreversible stage was approved and applied, then a
// gate of the next stage failed: nothing can be reverted, the cutover
// failed.
func pastPNRJournal() []cutover.Record {
	j := &journal{}
	j.at(0, cutover.Record{Type: cutover.RecStart, Plan: "db", Actor: "alice", TwoPerson: true,
		Stages: []string{"copy", "migrate schema", "shift"},
		Outline: []cutover.StageOutline{
			{Reversibility: "reversible"},
			{Reversibility: "irreversible", Approval: true},
			{Reversibility: "reversible", Bake: 5 * time.Minute, Gates: []string{"errors"}},
		}})
	j.stage(time.Second, cutover.RecIntent, 0, "copy")
	j.stage(time.Minute, cutover.RecApplied, 0, "copy")
	j.stage(time.Minute, cutover.RecBaked, 0, "copy")
	j.at(time.Minute, cutover.Record{Type: cutover.RecWaiting, Stage: "migrate schema", Index: 1, Error: "needs an approval"})
	// Alice may not approve her own cutover; bob may. Bob's command is
	// stamped before the record before it (a slow clock): clamped.
	j.at(2*time.Minute, cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "alice", Reason: "lgtm", Stage: "migrate schema"})
	j.at(2*time.Minute+time.Second, cutover.Record{Type: cutover.RecAck, Ref: 6, Command: cutover.CmdApprove, Actor: "alice", Error: "two-person rule: alice started the cutover"})
	j.at(time.Minute, cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "bob", Reason: "change 42", Stage: "migrate schema"})
	j.at(3*time.Minute+time.Second, cutover.Record{Type: cutover.RecAck, Ref: 8, Command: cutover.CmdApprove, Actor: "bob", Reason: "accepted"})
	j.stage(3*time.Minute+2*time.Second, cutover.RecIntent, 1, "migrate schema")
	j.stage(4*time.Minute, cutover.RecApplied, 1, "migrate schema")
	j.stage(4*time.Minute, cutover.RecBaked, 1, "migrate schema")
	j.stage(4*time.Minute+time.Second, cutover.RecIntent, 2, "shift")
	j.at(4*time.Minute+2*time.Second, traffic(2, "shift", `{"old":0,"new":100}`))
	j.stage(4*time.Minute+3*time.Second, cutover.RecApplied, 2, "shift")
	j.at(5*time.Minute, verdict(2, "shift", "errors", cutover.Fail, "5xx 9% > 1%", map[string]float64{"rate": 0.09}))
	j.at(5*time.Minute+time.Second, cutover.Record{Type: cutover.RecFailed, Error: `stage "shift": gate "errors" failed past the point of no return`})
	return j.recs
}

func TestFailurePastPNR(t *testing.T) {
	t.Parallel()
	recs := pastPNRJournal()
	r, err := report.Build("db-1", recs, report.Options{Now: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Phase != cutover.PhaseFailed || r.CanRollBack || !r.PNR.Crossed {
		t.Errorf("phase %s, CanRollBack %v, PNR %+v; want failed, no rollback, PNR crossed", r.Phase, r.CanRollBack, r.PNR)
	}
	if !r.Ended.Equal(t0.Add(5*time.Minute+time.Second)) || !r.At.Equal(r.Ended) {
		t.Errorf("ended %v at %v, want the failed record's time (Now ignored)", r.Ended, r.At)
	}
	wantPNR := report.PNR{Index: 1, Stage: "migrate schema", Crossed: true, CrossedAt: t0.Add(3*time.Minute + 2*time.Second),
		Approved: true, ApprovedBy: "bob", ApprovalReason: "change 42", ApprovedAt: t0.Add(2*time.Minute + time.Second)}
	if diff := cmp.Diff(wantPNR, r.PNR); diff != "" {
		t.Errorf("PNR (-want +got):\n%s", diff)
	}
	if r.ReversibleFor != 3*time.Minute+2*time.Second {
		t.Errorf("ReversibleFor %v, want 3m2s", r.ReversibleFor)
	}
	if len(r.Approvals) != 2 || r.Approvals[0].Accepted() || !r.Approvals[1].Accepted() {
		t.Errorf("approvals %+v: want alice's refused, bob's accepted", r.Approvals)
	}
	if got := r.Commands[1].Time; !got.Equal(t0.Add(2*time.Minute + time.Second)) {
		t.Errorf("bob's approval at %v, want clamped to the record before it", got)
	}
	if diff := cmp.Diff([]string{"new", "old"}, r.Targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	txt, md, svg := render(t, r)
	for _, want := range []string{"failed (neither completed nor rolled back)", "refused at +2m1s: two-person rule", "fail", "rate=0.09",
		"no longer possible since +3m2s"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
	if !strings.Contains(md, "**fail**") || !strings.Contains(md, "| new | old |") {
		t.Errorf("Markdown lacks the failed verdict or the targets:\n%s", md)
	}
	for _, want := range []string{"#D55E00", "PNR crossed: migrate schema", "approval by alice refused", "approved by bob"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

// TestNoOutline: a journal from before outlines: the PNR is unknown, unless
// the caller passes the plan.
func TestNoOutline(t *testing.T) {
	t.Parallel()
	recs := windowJournal()
	recs[0].Outline = nil
	r, err := report.Build("c", recs, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Outlined || r.CanRollBack || r.PNR.Index != -1 || r.ReversibleFor != 0 {
		t.Errorf("without an outline: Outlined %v, CanRollBack %v, PNR %+v, ReversibleFor %v; want all unknown", r.Outlined, r.CanRollBack, r.PNR, r.ReversibleFor)
	}
	txt, _, svg := render(t, r)
	if !strings.Contains(txt, "unknown: the journal has no outline of the plan") || !strings.Contains(svg, "unknown: the journal has no outline") {
		t.Errorf("the renderings do not say the rollback is unknown:\n%s", txt)
	}

	plan := cutover.Plan{Name: "checkout", Stages: []cutover.Stage{
		{Name: "shift"}, {Name: "keep blue", Reversibility: cutover.ReversibleWithin(time.Hour)}, {Name: "retire blue", Reversibility: cutover.Irreversible()}}}
	r, err = report.Build("c", recs, report.Options{Plan: &plan, Now: t0.Add(20 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Outlined || !r.CanRollBack || r.PNR.Stage != "keep blue" || !r.RollbackUntil.Equal(t0.Add(70*time.Minute+2*time.Second)) {
		t.Errorf("with Options.Plan: Outlined %v, CanRollBack %v until %v, PNR %q", r.Outlined, r.CanRollBack, r.RollbackUntil, r.PNR.Stage)
	}
}

// TestEscaping: text from the journal cannot inject markup, terminal
// escapes or table cells.
func TestEscaping(t *testing.T) {
	t.Parallel()
	evil := "<script>alert(1)</script> | ](javascript:x) *a* `b` &amp; \x1b[31m\u202e"
	j := &journal{}
	j.at(0, cutover.Record{Type: cutover.RecStart, Plan: evil, Actor: evil, Stages: []string{evil},
		Outline: []cutover.StageOutline{{Reversibility: "reversible", Gates: []string{evil}}}})
	j.stage(time.Second, cutover.RecIntent, 0, evil)
	j.at(2*time.Second, cutover.Record{Type: cutover.RecData, Stage: evil, Key: cutover.DataTraffic, Value: `{"<b>":100}`})
	j.stage(3*time.Second, cutover.RecApplied, 0, evil)
	j.at(4*time.Second, verdict(0, evil, evil, cutover.Fail, evil, map[string]float64{evil: 1}))
	j.at(5*time.Second, cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: evil, Reason: evil})
	j.at(6*time.Second, cutover.Record{Type: cutover.RecData, Stage: evil, Key: cutover.DataTraffic, Value: `{"x":300}`})
	j.at(7*time.Second, cutover.Record{Type: cutover.RecRolledBack, Error: evil})
	r, err := report.Build(evil, j.recs, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "seq 7") {
		t.Errorf("notes %q, want one about the bad traffic of seq 7", r.Notes)
	}
	txt, md, svg := render(t, r)
	if strings.ContainsAny(txt, "\x1b\u202e") || strings.ContainsAny(md, "\x1b\u202e") || strings.ContainsAny(svg, "\x1b\u202e") {
		t.Error("a control character from the journal reached the output")
	}
	if strings.Contains(svg, "<script") || strings.Contains(svg, "<b>") {
		t.Error("markup from the journal reached the SVG")
	}
	unescaped := regexp.MustCompile(`\\.`).ReplaceAllString(md, "")
	for _, bad := range []string{"<script", "](javascript", "*a*", "`b`", "&amp;", " | ]"} {
		if strings.Contains(unescaped, bad) {
			t.Errorf("Markdown holds %q unescaped", bad)
		}
	}
	// Every table row keeps its number of cells.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| time | stage | gate |") {
			continue
		}
		if strings.HasPrefix(line, "| +4s") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 7 {
			t.Errorf("verdict row has extra cells: %s", line)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	t.Parallel()
	r, err := report.Build("c", windowJournal(), report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out", "nested")
	if err := report.WriteFiles(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.md", "report.svg", "report.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "](report.svg)") {
		t.Errorf("report.md does not show the chart:\n%s", md)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("dir holds %d entries, want the 3 files and no temporary ones", len(entries))
	}
	if err := report.WriteFiles("", r); err == nil {
		t.Error("WriteFiles with no dir: no error")
	}
}

// The legend explains only what the chart draws: a completed cutover's
// chart has no "gate failed" or "rollback started" entry, a rolled back
// one has both.
func TestLegendOnlyWhatIsDrawn(t *testing.T) {
	legend := func(name string) string {
		t.Helper()
		r, err := report.Build(name, readJournal(t, name+".jsonl"), report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := r.WriteSVG(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	tests := []struct {
		journal string
		entry   string
		want    bool
	}{
		{"completed", ">gate failed<", false},
		{"completed", ">rollback started<", false},
		{"completed", ">gate passed<", true},
		{"completed", ">point of no return crossed<", true},
		{"completed", ">approval<", true},
		{"rolledback", ">gate failed<", true},
		{"rolledback", ">rollback started<", true},
		{"rolledback", ">point of no return crossed<", false},
		{"rolledback", ">approval<", false},
	}
	for _, tt := range tests {
		if got := strings.Contains(legend(tt.journal), tt.entry); got != tt.want {
			t.Errorf("%s: legend has %s: %v, want %v", tt.journal, tt.entry, got, tt.want)
		}
	}
}
