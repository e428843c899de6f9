//go:build unix

package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/cutover/journaltest"
)

func newFileJournal(t testing.TB, dir string) *cutover.FileJournal {
	t.Helper()
	j, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestFileJournalConformance(t *testing.T) {
	journaltest.TestJournal(t, func(t *testing.T) cutover.Journal { return newFileJournal(t, t.TempDir()) })
}

// Two handles on one directory behave as one journal: the suite's racing
// appenders alternate between them.
func TestFileJournalConformanceTwoHandles(t *testing.T) {
	journaltest.TestJournal(t, func(t *testing.T) cutover.Journal {
		dir := t.TempDir()
		return &alternating{js: []cutover.Journal{newFileJournal(t, dir), newFileJournal(t, dir)}}
	})
}

// alternating spreads calls over several journals in turn.
type alternating struct {
	mu sync.Mutex
	n  int
	js []cutover.Journal
}

func (a *alternating) next() cutover.Journal {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return a.js[a.n%len(a.js)]
}

func (a *alternating) Append(ctx context.Context, id string, rec cutover.Record) error {
	return a.next().Append(ctx, id, rec)
}

// List lists through the next handle: what one handle wrote, another
// lists.
func (a *alternating) List(ctx context.Context) ([]string, error) {
	return a.next().(cutover.Lister).List(ctx)
}

func (a *alternating) Read(ctx context.Context, id string, after uint64) ([]cutover.Record, error) {
	return a.next().Read(ctx, id, after)
}

func rec(seq uint64, typ cutover.RecordType) cutover.Record {
	return cutover.Record{Seq: seq, Type: typ, Time: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC), Stage: "s" + strconv.FormatUint(seq, 10)}
}

func appendN(t testing.TB, j cutover.Journal, id string, from, to uint64) {
	t.Helper()
	for s := from; s <= to; s++ {
		if err := j.Append(context.Background(), id, rec(s, cutover.RecData)); err != nil {
			t.Fatalf("Append seq %d: %v", s, err)
		}
	}
}

func readSeqs(t testing.TB, j cutover.Journal, id string, after uint64) []uint64 {
	t.Helper()
	recs, err := j.Read(context.Background(), id, after)
	if err != nil {
		t.Fatalf("Read(after %d): %v", after, err)
	}
	var s []uint64
	for _, r := range recs {
		s = append(s, r.Seq)
	}
	return s
}

func TestFileJournalFormat(t *testing.T) {
	dir := t.TempDir()
	j := newFileJournal(t, dir)
	r := cutover.Record{Seq: 1, Type: cutover.RecStart, Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Plan: "p", Stages: []string{"a"}}
	if err := j.Append(t.Context(), "fmt", r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "fmt.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cutover":"fmt","seq":1,"type":"start","time":"2025-01-02T03:04:05Z","plan":"p","stages":["a"]}` + "\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("file contents (-want +got):\n%s", diff)
	}
	if got := j.Path("fmt"); got != filepath.Join(dir, "fmt.jsonl") {
		t.Errorf("Path = %q", got)
	}
}

// Another handle's appends are seen by incremental reads, and a read from
// the middle returns the right records, whichever handle wrote them.
func TestFileJournalIncrementalRead(t *testing.T) {
	dir := t.TempDir()
	a, b := newFileJournal(t, dir), newFileJournal(t, dir)
	appendN(t, a, "inc", 1, 3)
	if got := readSeqs(t, b, "inc", 0); !cmp.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("b Read(0) = %v", got)
	}
	appendN(t, a, "inc", 4, 6)
	for _, tc := range []struct {
		after uint64
		want  []uint64
	}{
		{3, []uint64{4, 5, 6}}, {6, nil}, {1, []uint64{2, 3, 4, 5, 6}}, {5, []uint64{6}}, {0, []uint64{1, 2, 3, 4, 5, 6}}, {99, nil},
	} {
		if got := readSeqs(t, b, "inc", tc.after); !cmp.Equal(got, tc.want) {
			t.Errorf("b Read(after %d) = %v, want %v", tc.after, got, tc.want)
		}
	}
	// b appends after a's records without a conflict: it re-validates.
	appendN(t, b, "inc", 7, 7)
	if err := a.Append(t.Context(), "inc", rec(7, cutover.RecData)); !errors.Is(err, cutover.ErrConflict) {
		t.Errorf("a Append seq 7 after b wrote it = %v, want ErrConflict", err)
	}
	appendN(t, a, "inc", 8, 8)
	if got := readSeqs(t, b, "inc", 6); !cmp.Equal(got, []uint64{7, 8}) {
		t.Errorf("b Read(after 6) = %v, want [7 8]", got)
	}
}

// A change made behind the journal's back after it cached offsets is
// noticed: a file replaced by another one is read afresh.
func TestFileJournalNoticesReplacedFile(t *testing.T) {
	dir := t.TempDir()
	j := newFileJournal(t, dir)
	appendN(t, j, "repl", 1, 4)
	readSeqs(t, j, "repl", 0)
	// Replace the file with a shorter journal of different records.
	other := newFileJournal(t, t.TempDir())
	appendN(t, other, "repl", 1, 2)
	b, _ := os.ReadFile(other.Path("repl"))
	b = []byte(strings.ReplaceAll(string(b), `"stage":"s2"`, `"stage":"x2"`))
	tmp := filepath.Join(dir, "tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, j.Path("repl")); err != nil {
		t.Fatal(err)
	}
	recs, err := j.Read(t.Context(), "repl", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Stage != "x2" {
		t.Errorf("Read after replace = %+v, want seq 2 with stage x2", recs)
	}
	if err := j.Append(t.Context(), "repl", rec(3, cutover.RecData)); err != nil {
		t.Errorf("Append seq 3 to the replaced file = %v, want nil", err)
	}
}

func TestFileJournalCorruption(t *testing.T) {
	good := func(seq int) string {
		return fmt.Sprintf(`{"cutover":"c","seq":%d,"type":"data","time":"2025-01-02T03:04:05Z"}`, seq)
	}
	lines := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	tests := []struct {
		name     string
		data     string
		wantLine int
		wantMsg  string
		torn     bool
	}{
		{"torn last line", lines(good(1), good(2)) + `{"cutover":"c","se`, 3, "torn last line: 18 bytes", true},
		{"torn after newline-less full record", lines(good(1)) + good(2), 2, "torn last line", true},
		{"last line not JSON", lines(good(1), `{"cutover":"c","seq":2,"ty`), 2, "undecodable record", true},
		{"nul bytes at end", lines(good(1)) + "\x00\x00\x00", 2, "torn last line", true},
		{"garbage in the middle", lines(good(1), "#garbage", good(3)), 2, "undecodable record", false},
		{"empty line", lines(good(1), "", good(2)), 2, "empty line", false},
		{"duplicate", lines(good(1), good(2), good(2)), 3, "seq 2 after seq 2: duplicate or out of order", false},
		{"reordered", lines(good(1), good(3), good(2)), 2, "seq 3 after seq 1: gap of 1", false},
		{"gap", lines(good(1), good(2), good(5)), 3, "seq 5 after seq 2: gap of 2", false},
		{"first not 1", lines(good(2)), 1, "first record has seq 2, want 1", false},
		{"unknown type", lines(good(1), `{"cutover":"c","seq":2,"type":"launch"}`), 2, `unknown record type "launch"`, false},
		{"other cutover", lines(good(1), `{"cutover":"d","seq":2,"type":"data"}`), 2, `is of cutover "d", not "c"`, false},
		{"no cutover", lines(`{"seq":1,"type":"data"}`), 1, "no cutover field", false},
		{"unknown field", lines(`{"cutover":"c","seq":1,"type":"data","colour":"red"}`), 1, `unknown field "colour"`, false},
		{"trailing data", lines(good(1) + ` {"x":1}`), 1, "data after the JSON object", false},
		{"valid JSON but wrong last", lines(good(1), good(3)), 2, "gap", false},
		{"wrong field type", lines(`{"cutover":"c","seq":"1","type":"data"}`), 1, "undecodable record", false},
		{"array", lines(`[1,2]`), 1, "undecodable record", false},
		{"null", lines(`null`), 1, "no cutover field", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			j := newFileJournal(t, dir)
			path := j.Path("c")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := j.Read(t.Context(), "c", 0)
			var ce *cutover.CorruptJournalError
			if !errors.As(err, &ce) || !errors.Is(err, cutover.ErrCorruptJournal) {
				t.Fatalf("Read = %v, want a *CorruptJournalError wrapping ErrCorruptJournal", err)
			}
			where := fmt.Sprintf("%s:%d: ", path, tc.wantLine)
			if !strings.Contains(err.Error(), where) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Read error = %q, want it to contain %q and %q", err, where, tc.wantMsg)
			}
			if ce.Torn != tc.torn {
				t.Errorf("Torn = %v, want %v", ce.Torn, tc.torn)
			}
			// Appending after the corruption is refused with the same error.
			n := uint64(strings.Count(tc.data, "\n") + 1)
			aerr := j.Append(t.Context(), "c", rec(n, cutover.RecData))
			if !errors.Is(aerr, cutover.ErrCorruptJournal) || !strings.Contains(aerr.Error(), where) {
				t.Errorf("Append = %v, want it refused naming %q", aerr, where)
			}
			after, _ := os.ReadFile(path)
			if string(after) != tc.data {
				t.Errorf("refused Append changed the file")
			}
			// Repair fixes only a torn last line.
			rep, rerr := j.Repair(t.Context(), "c")
			if !tc.torn {
				if !errors.Is(rerr, cutover.ErrCorruptJournal) || !strings.Contains(rerr.Error(), "fix by hand") {
					t.Errorf("Repair = %v, want refusal wrapping ErrCorruptJournal", rerr)
				}
				return
			}
			if rerr != nil {
				t.Fatalf("Repair = %v", rerr)
			}
			if rep.Line != tc.wantLine || len(rep.Removed) == 0 || rep.Records != tc.wantLine-1 {
				t.Errorf("Repair report = %+v, want line %d removed and %d records left", rep, tc.wantLine, tc.wantLine-1)
			}
			torn, _ := os.ReadFile(path + ".torn")
			if !strings.HasPrefix(string(torn), string(rep.Removed)) {
				t.Errorf(".torn file = %q, want it to keep %q", torn, rep.Removed)
			}
			if got := readSeqs(t, j, "c", 0); len(got) != tc.wantLine-1 {
				t.Errorf("after repair Read = %v, want %d records", got, tc.wantLine-1)
			}
			appendN(t, j, "c", uint64(tc.wantLine), uint64(tc.wantLine))
		})
	}
}

func TestFileJournalRepairSound(t *testing.T) {
	j := newFileJournal(t, t.TempDir())
	rep, err := j.Repair(t.Context(), "missing")
	if err != nil || len(rep.Removed) != 0 {
		t.Errorf("Repair(missing) = %+v, %v; want nothing done", rep, err)
	}
	appendN(t, j, "sound", 1, 3)
	rep, err = j.Repair(t.Context(), "sound")
	if err != nil || len(rep.Removed) != 0 || rep.Records != 3 {
		t.Errorf("Repair(sound) = %+v, %v; want 3 records, nothing removed", rep, err)
	}
	if !strings.Contains(rep.String(), "nothing removed") {
		t.Errorf("String = %q", rep.String())
	}
}

// A second handle that has cached offsets notices a repair by another.
func TestFileJournalRepairSeenByOtherHandle(t *testing.T) {
	dir := t.TempDir()
	a, b := newFileJournal(t, dir), newFileJournal(t, dir)
	appendN(t, a, "r", 1, 3)
	readSeqs(t, b, "r", 0)
	f, err := os.OpenFile(a.Path("r"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"cutover":"r","seq":4,"ty`)
	_ = f.Close()
	if _, err := b.Read(t.Context(), "r", 3); !errors.Is(err, cutover.ErrCorruptJournal) {
		t.Fatalf("b Read after torn write = %v, want ErrCorruptJournal", err)
	}
	rep, err := a.Repair(t.Context(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.String(), ":4: removed a torn last line of 26 bytes") {
		t.Errorf("report = %s", rep)
	}
	appendN(t, b, "r", 4, 5)
	if got := readSeqs(t, a, "r", 0); !cmp.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("after repair and appends a reads %v", got)
	}
}

func TestFileJournalRejects(t *testing.T) {
	j := newFileJournal(t, t.TempDir())
	ctx := t.Context()
	tests := []struct {
		name string
		id   string
		rec  cutover.Record
		want string
	}{
		{"path separator", "../etc", rec(1, cutover.RecStart), "cutover id"},
		{"dot dot", "a..b", rec(1, cutover.RecStart), `contains ".."`},
		{"unknown type", "ok", cutover.Record{Seq: 1, Type: "x"}, `unknown record type "x"`},
		{"bad utf8", "ok", cutover.Record{Seq: 1, Type: cutover.RecData, Value: "\xff"}, "record.value: \"\\xff\" is not valid UTF-8"},
		{"bad utf8 stage list", "ok", cutover.Record{Seq: 1, Type: cutover.RecStart, Stages: []string{"a", "\xfe"}}, "record.stages[1]"},
		{"NaN figure", "ok", cutover.Record{Seq: 1, Type: cutover.RecVerdict, Verdict: &cutover.Verdict{Figures: map[string]float64{"rate": math.NaN()}}}, `record.verdict.figures["rate"]: NaN is not a finite number`},
		{"Inf figure", "ok", cutover.Record{Seq: 1, Type: cutover.RecVerdict, Verdict: &cutover.Verdict{Figures: map[string]float64{"r": math.Inf(1)}}}, "+Inf is not a finite number"},
		{"year", "ok", cutover.Record{Seq: 1, Type: cutover.RecData, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "record.time: year 10000"},
		{"huge", "ok", cutover.Record{Seq: 1, Type: cutover.RecData, Value: strings.Repeat("x", 1<<20)}, "bytes encoded; want < 1048576"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := j.Append(ctx, tc.id, tc.rec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Append = %v, want error containing %q", err, tc.want)
			}
			if _, err := j.Read(ctx, tc.id, 0); tc.id != "ok" && err == nil {
				t.Errorf("Read(%q) = nil error, want the id rejected", tc.id)
			}
		})
	}
	if ids, _ := j.List(ctx); len(ids) != 0 {
		t.Errorf("rejected appends created files for %v", ids)
	}
	if _, err := cutover.NewFileJournal("", cutover.FileJournalOptions{}); err == nil || !strings.Contains(err.Error(), "dir") {
		t.Errorf("NewFileJournal(\"\") = %v, want error naming dir", err)
	}
	if _, err := cutover.NewFileJournal(t.TempDir(), cutover.FileJournalOptions{LockTimeout: -1}); err == nil || !strings.Contains(err.Error(), "LockTimeout") {
		t.Errorf("negative LockTimeout = %v, want error naming it", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(file, nil, 0o644)
	if _, err := cutover.NewFileJournal(file, cutover.FileJournalOptions{}); err == nil {
		t.Errorf("NewFileJournal(a file) = nil error")
	}
}

func TestFileJournalList(t *testing.T) {
	dir := t.TempDir()
	j := newFileJournal(t, dir)
	for _, id := range []string{"zeta", "alpha", "m-1.2"} {
		appendN(t, j, id, 1, 1)
	}
	_ = j.Append(t.Context(), "empty", rec(2, cutover.RecData)) // conflict: leaves an empty file
	for _, name := range []string{"notes.txt", ".hidden.jsonl", "alpha.jsonl.torn", "blank.jsonl"} {
		_ = os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	_ = os.Mkdir(filepath.Join(dir, "sub.jsonl"), 0o755)
	ids, err := j.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alpha", "m-1.2", "zeta"}, ids); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	gone := newFileJournal(t, filepath.Join(t.TempDir(), "x"))
	_ = os.Remove(gone.Dir())
	if ids, err := gone.List(t.Context()); err != nil || len(ids) != 0 {
		t.Errorf("List of a missing dir = %v, %v; want none", ids, err)
	}
}

// A lock held elsewhere makes operations wait, bounded by ctx and by
// LockTimeout.
func TestFileJournalLockWaitIsBounded(t *testing.T) {
	dir := t.TempDir()
	j, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, j, "held", 1, 1)
	release := holdFlock(t, j.Path("held"))
	start := time.Now()
	err = j.Append(t.Context(), "held", rec(2, cutover.RecData))
	if err == nil || !strings.Contains(err.Error(), "held by another handle or process") {
		t.Errorf("Append while locked = %v, want a lock timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Append waited %s", d)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := j.Read(ctx, "held", 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read while locked with short ctx = %v, want DeadlineExceeded", err)
	}
	release()
	appendN(t, j, "held", 2, 2)
}

// The recorded types match the constants of journal.go, so a type added
// there cannot be rejected by the storage by mistake.
func TestStorageKnowsEveryRecordType(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "journal.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != len(vs.Names) {
			return true
		}
		for i, v := range vs.Values {
			if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "RecordType" || strings.HasPrefix(vs.Names[i].Name, "Rec") {
					s, _ := strconv.Unquote(lit.Value)
					types = append(types, s)
				}
			}
		}
		return true
	})
	if len(types) < 10 {
		t.Fatalf("found only %d record types in journal.go: %v", len(types), types)
	}
	j := cutover.NewMemJournal()
	for i, typ := range types {
		id := fmt.Sprintf("t%d", i)
		if err := j.Append(t.Context(), id, cutover.Record{Seq: 1, Type: cutover.RecordType(typ)}); err != nil {
			t.Errorf("record type %q from journal.go is rejected: %v", typ, err)
		}
	}
}

// TestFileJournalAcrossProcesses has child processes race to append to one
// cutover: compare-and-append holds across processes.
func TestFileJournalAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("SAFECUTOVER_FILEJOURNAL_CHILD"); dir != "" {
		journalChild(dir, os.Getenv("SAFECUTOVER_FILEJOURNAL_NAME"))
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	const children = 3
	cmds := make([]*exec.Cmd, children)
	outs := make([]strings.Builder, children)
	for i := range cmds {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFileJournalAcrossProcesses$")
		cmd.Env = append(os.Environ(), "SAFECUTOVER_FILEJOURNAL_CHILD="+dir, fmt.Sprintf("SAFECUTOVER_FILEJOURNAL_NAME=child-%d", i))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	wins := map[uint64]string{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i].String())
		}
		for line := range strings.Lines(outs[i].String()) {
			if s, ok := strings.CutPrefix(strings.TrimSpace(line), "won "); ok {
				seq, _ := strconv.ParseUint(s, 10, 64)
				if prev, dup := wins[seq]; dup {
					t.Errorf("seq %d won by both %s and child-%d", seq, prev, i)
				}
				wins[seq] = fmt.Sprintf("child-%d", i)
			}
		}
	}
	recs, err := newFileJournal(t, dir).Read(t.Context(), "shared", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != childSeqs || len(wins) != childSeqs {
		t.Fatalf("journal has %d records and children report %d wins, want %d each", len(recs), len(wins), childSeqs)
	}
	for _, r := range recs {
		if wins[r.Seq] != r.Actor {
			t.Errorf("seq %d stored by %q, but %q reported the win", r.Seq, r.Actor, wins[r.Seq])
		}
	}
}

const childSeqs = 30

// journalChild is the body of a child process of
// TestFileJournalAcrossProcesses: it tries every Seq in turn and prints the
// ones it won.
func journalChild(dir, name string) {
	j, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for s := uint64(1); s <= childSeqs; s++ {
		r := rec(s, cutover.RecCommand)
		r.Actor = name
		err := j.Append(context.Background(), "shared", r)
		switch {
		case err == nil:
			fmt.Println("won", s)
		case !errors.Is(err, cutover.ErrConflict):
			fmt.Println("error", err)
			os.Exit(2)
		}
	}
}

func BenchmarkFileJournalAppend(b *testing.B) {
	j := newFileJournal(b, b.TempDir())
	r := cutover.Record{Type: cutover.RecVerdict, Time: time.Now(), Stage: "canary 5%", Gate: "5xx",
		Verdict: &cutover.Verdict{Decision: cutover.Pass, Reason: "green 5xx 0.1% <= 1%", Figures: map[string]float64{"rate": 0.001}}}
	ctx := context.Background()
	seq := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		r.Seq = seq
		if err := j.Append(ctx, "bench", r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkFileJournalPoll measures Read(after last) when nothing is new:
// what a runner pays per poll.
func BenchmarkFileJournalPoll(b *testing.B) {
	j := newFileJournal(b, b.TempDir())
	appendN(b, j, "poll", 1, 200)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if recs, err := j.Read(ctx, "poll", 200); err != nil || len(recs) != 0 {
			b.Fatal(recs, err)
		}
	}
}

// holdFlock takes an exclusive flock on path through a file description of
// its own, as another process would, until release is called.
func holdFlock(t *testing.T, path string) (release func()) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = f.Close() }) }
	t.Cleanup(release)
	return release
}
