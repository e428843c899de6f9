//go:build unix

package cutover_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/safecutover/safecutover/cutover"
)

// fuzzID is the cutover whose file the fuzz tests write.
const fuzzID = "fz"

// validJournal returns the bytes of a sound journal of n records of cutover
// fuzzID, of varied types and fields, as the FileJournal writes them.
func validJournal(tb testing.TB, n int) []byte {
	tb.Helper()
	j := newFileJournal(tb, tb.TempDir())
	types := []cutover.RecordType{cutover.RecStart, cutover.RecIntent, cutover.RecApplied, cutover.RecVerdict, cutover.RecBaked, cutover.RecCommand, cutover.RecData}
	for i := 1; i <= n; i++ {
		r := cutover.Record{Seq: uint64(i), Type: types[(i-1)%len(types)], Time: time.Date(2025, 1, 2, 3, 4, 5, i, time.UTC),
			Stage: fmt.Sprintf("stage %d", i), Index: i, Reason: "why \"quoted\"\n"}
		if r.Type == cutover.RecStart {
			r.Stages = []string{"a", "b"}
		}
		if r.Type == cutover.RecVerdict {
			r.Verdict = &cutover.Verdict{Decision: cutover.Fail, Reason: "bad", Figures: map[string]float64{"rate": 0.5}}
		}
		if err := j.Append(context.Background(), fuzzID, r); err != nil {
			tb.Fatal(err)
		}
	}
	b, err := os.ReadFile(j.Path(fuzzID))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// readFuzzJournal writes data as the journal file of fuzzID in dir and reads
// it with a fresh FileJournal.
func readFuzzJournal(t *testing.T, dir string, data []byte) (string, []cutover.Record, error) {
	j := newFileJournal(t, dir)
	path := j.Path(fuzzID)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := j.Read(context.Background(), fuzzID, 0)
	return path, recs, err
}

// checkJournalRead asserts the properties every read of data must have:
// either an error that is a *CorruptJournalError naming the file and a line
// consistent with its offset, or every line decoded into a record, in Seq
// order from 1. It returns the CorruptJournalError, if any.
func checkJournalRead(t *testing.T, path string, data []byte, recs []cutover.Record, err error) *cutover.CorruptJournalError {
	t.Helper()
	if err != nil {
		var ce *cutover.CorruptJournalError
		if !errors.As(err, &ce) || !errors.Is(err, cutover.ErrCorruptJournal) {
			t.Fatalf("Read error %v (%T) is not a *CorruptJournalError", err, err)
		}
		if recs != nil {
			t.Errorf("Read returned %d records along with an error", len(recs))
		}
		if ce.Offset < 0 || ce.Offset > int64(len(data)) {
			t.Fatalf("error offset %d outside the file of %d bytes", ce.Offset, len(data))
		}
		if want := bytes.Count(data[:ce.Offset], []byte("\n")) + 1; ce.Line != want {
			t.Errorf("error names line %d, but offset %d is on line %d", ce.Line, ce.Offset, want)
		}
		if ce.Offset > 0 && data[ce.Offset-1] != '\n' {
			t.Errorf("error offset %d is not at the start of a line", ce.Offset)
		}
		if where := fmt.Sprintf("%s:%d: ", path, ce.Line); !strings.Contains(err.Error(), where) {
			t.Errorf("error %q does not name %q", err, where)
		}
		return ce
	}
	lines := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("Read accepted a file whose last line has no newline")
	}
	if len(recs) != lines {
		t.Fatalf("Read returned %d records from %d lines: a line was dropped or invented", len(recs), lines)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
	}
	return nil
}

// FuzzFileJournalRead feeds arbitrary bytes to the file journal's reader.
func FuzzFileJournalRead(f *testing.F) {
	valid := validJournal(f, 8)
	f.Add(valid)
	f.Add([]byte{})
	f.Add(valid[:len(valid)-1])
	f.Add(valid[:len(valid)/2])
	f.Add(append(append([]byte{}, valid...), valid...))
	f.Add(bytes.ReplaceAll(valid, []byte(`"seq":3`), []byte(`"seq":4`)))
	f.Add(bytes.ReplaceAll(valid, []byte(`"type":"baked"`), []byte(`"type":"bakes"`)))
	f.Add(bytes.ReplaceAll(valid, []byte(`"cutover":"fz"`), []byte(`"cutover":"fy"`)))
	f.Add(bytes.ReplaceAll(valid, []byte("\n"), []byte("\r\n")))
	f.Add([]byte("\n"))
	f.Add([]byte("{}\n"))
	f.Add([]byte("null\n"))
	f.Add([]byte(`{"cutover":"fz","seq":1,"type":"start"}` + "\n" + `{"cutover":"fz","seq":18446744073709551616,"type":"data"}` + "\n"))
	f.Add([]byte(`{"cutover":"fz","seq":1,"type":"start","verdict":{"decision":1,"figures":{"x":1e999}}}` + "\n"))
	f.Add([]byte(`{"cutover":"fz","seq":1,"type":"start","time":"not a time"}` + "\n"))
	f.Add([]byte(`{"cutover":"fz","seq":1,"type":"start","Seq":2}` + "\n"))
	f.Add([]byte(`{"cutover":"fz","seq":1,"type":"start"}` + "\x00\x00\x00"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path, recs, err := readFuzzJournal(t, dir, data)
		checkJournalRead(t, path, data, recs, err)
	})
}

// FuzzFileJournalMutation damages a sound journal the ways crashes and
// careless hands do — truncation, a changed byte, swapped, duplicated or
// deleted lines — and checks that the damage is reported at the right line
// unless the result is itself a sound journal.
func FuzzFileJournalMutation(f *testing.F) {
	const n = 6
	valid := validJournal(f, n)
	for op := range uint8(6) {
		f.Add(op, uint16(1), uint16(3), byte('x'))
		f.Add(op, uint16(200), uint16(0), byte('\n'))
	}
	f.Add(uint8(0), uint16(len(valid)-1), uint16(0), byte(0))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, op uint8, i, k uint16, b byte) {
		lines := bytes.SplitAfter(valid, []byte("\n"))
		lines = lines[:len(lines)-1] // the empty tail after the last newline
		li, lk := int(i)%n, int(k)%n
		var data []byte
		wantLine := 0 // the line the error must name; 0: no specific claim
		switch op % 6 {
		case 0: // truncate
			cut := int(i) % (len(valid) + 1)
			data = valid[:cut]
			if cut > 0 && valid[cut-1] != '\n' {
				wantLine = bytes.Count(valid[:cut], []byte("\n")) + 1
			}
		case 1: // change one byte
			data = bytes.Clone(valid)
			data[int(i)%len(data)] = b
		case 2: // swap two lines
			if li == lk {
				lk = (li + 1) % n
			}
			lines[li], lines[lk] = lines[lk], lines[li]
			data = bytes.Join(lines, nil)
			wantLine = min(li, lk) + 1
		case 3: // duplicate a line
			lines = append(lines[:li+1], lines[li:]...)
			data = bytes.Join(lines, nil)
			wantLine = li + 2
		case 4: // delete a line other than the last
			li %= n - 1
			lines = append(lines[:li], lines[li+1:]...)
			data = bytes.Join(lines, nil)
			wantLine = li + 1
		case 5: // insert a byte at a line start
			ins := []byte{b}
			lines = append(lines[:li], append([][]byte{ins}, lines[li:]...)...)
			data = bytes.Join(lines, nil)
			if !bytes.ContainsAny(ins, " \t\r") { // JSON allows leading whitespace
				wantLine = li + 1
			}
		}
		path, recs, err := readFuzzJournal(t, dir, data)
		ce := checkJournalRead(t, path, data, recs, err)
		if wantLine == 0 {
			return
		}
		if ce == nil {
			t.Fatalf("op %d: damaged journal read without error (%d records)", op%6, len(recs))
		}
		if ce.Line != wantLine {
			t.Errorf("op %d: error at line %d, want line %d: %v", op%6, ce.Line, wantLine, err)
		}
	})
}

// FuzzFileJournalRoundTrip appends records with arbitrary field values:
// either Append refuses with an error naming the field, or Read returns the
// record exactly as given.
func FuzzFileJournalRoundTrip(f *testing.F) {
	f.Add("canary 5%", "green 5xx 2.1% > 1%", "d-123", "rate", 0.021, int64(1735787045123456789))
	f.Add("", "", "", "", 0.0, int64(0))
	f.Add("\xff", "ok", "v", "k", 1.0, int64(1))
	f.Add("s", "\u2028\u00e9<>&\"\\", "\x00", "\xfe", math.Inf(1), int64(-62135596800000000))
	f.Add("s", "r", "v", "k", math.NaN(), int64(math.MaxInt64))
	j := newFileJournal(f, f.TempDir())
	seq := uint64(0)
	f.Fuzz(func(t *testing.T, stage, reason, value, figure string, x float64, unixNano int64) {
		r := cutover.Record{
			Seq: seq + 1, Type: cutover.RecVerdict, Time: time.Unix(0, unixNano).In(time.FixedZone("z", 3600)),
			Stage: stage, Stages: []string{stage, reason}, Reason: reason, Value: value,
			Verdict: &cutover.Verdict{Decision: cutover.Pass, Reason: reason, Figures: map[string]float64{figure: x}},
		}
		err := j.Append(context.Background(), fuzzID, r)
		if err != nil {
			if errors.Is(err, cutover.ErrConflict) || !strings.Contains(err.Error(), "record.") {
				t.Fatalf("Append = %v, want nil or an error naming a record field", err)
			}
			return
		}
		seq++
		got, err := j.Read(context.Background(), fuzzID, seq-1)
		if err != nil || len(got) != 1 {
			t.Fatalf("Read back = %d records, %v", len(got), err)
		}
		opts := cmp.Options{cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }), cmpopts.EquateEmpty()}
		if diff := cmp.Diff(r, got[0], opts); diff != "" {
			t.Errorf("record did not round-trip (-appended +read):\n%s", diff)
		}
	})
}
