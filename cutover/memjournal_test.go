package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/cutover/journaltest"
)

func TestMemJournalConformance(t *testing.T) {
	journaltest.TestJournal(t, func(t *testing.T) cutover.Journal { return cutover.NewMemJournal() })
}

func TestMemLeaseConformance(t *testing.T) {
	journaltest.TestLease(t, func(t *testing.T, clock cutover.Clock) cutover.Lease {
		return cutover.NewMemLease(cutover.MemLeaseOptions{Clock: clock})
	})
}

func TestMemJournalRejects(t *testing.T) {
	j := cutover.NewMemJournal()
	tests := []struct {
		name     string
		id       string
		rec      cutover.Record
		wantText string
		wantIs   error
	}{
		{"empty id", "", cutover.Record{Seq: 1, Type: cutover.RecStart}, "cutover id: empty", nil},
		{"slash in id", "a/b", cutover.Record{Seq: 1, Type: cutover.RecStart}, `character "/" at byte 1`, nil},
		{"unknown type", "c", cutover.Record{Seq: 1, Type: "bogus"}, `record field type: unknown record type "bogus"`, nil},
		{"empty type", "c", cutover.Record{Seq: 1}, `unknown record type ""`, nil},
		{"gap", "c", cutover.Record{Seq: 2, Type: cutover.RecStart}, "append seq 2, want seq 1", cutover.ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := j.Append(t.Context(), tc.id, tc.rec)
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("Append = %v, want error containing %q", err, tc.wantText)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("Append = %v, want it to wrap %v", err, tc.wantIs)
			}
		})
	}
	if recs, _ := j.Read(t.Context(), "c", 0); len(recs) != 0 {
		t.Errorf("rejected appends left %d records", len(recs))
	}
}

func TestValidateID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string // "" for valid
	}{
		{"checkout-2025.03_1", ""},
		{"A", ""},
		{strings.Repeat("x", 128), ""},
		{"", "empty"},
		{strings.Repeat("x", 129), "129 characters long"},
		{".hidden", "starts with '.'"},
		{"..", "starts with '.'"},
		{"a..b", `contains ".."`},
		{"a/b", `"/"`},
		{`a\b`, `"\\"`},
		{"a b", `" "`},
		{"é", `"\xc3"`},
		{"a\x00", `"\x00"`},
	}
	for _, tc := range tests {
		err := cutover.ValidateID(tc.id)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("ValidateID(%q) = %v, want nil", tc.id, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ValidateID(%q) = %v, want error containing %q", tc.id, err, tc.wantErr)
		case err != nil && !strings.HasPrefix(err.Error(), "cutover id"):
			t.Errorf("ValidateID(%q) = %v, want it to name the field \"cutover id\"", tc.id, err)
		}
	}
}

func TestMemJournalList(t *testing.T) {
	j := cutover.NewMemJournal()
	ctx := t.Context()
	for _, id := range []string{"b", "a"} {
		if err := j.Append(ctx, id, cutover.Record{Seq: 1, Type: cutover.RecStart}); err != nil {
			t.Fatal(err)
		}
	}
	_ = j.Append(ctx, "conflicted", cutover.Record{Seq: 5, Type: cutover.RecStart})
	ids, err := j.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, ","); got != "a,b" {
		t.Errorf("List = %s, want a,b", got)
	}
}

func ExampleMemJournal() {
	ctx := context.Background()
	j := cutover.NewMemJournal()
	_ = j.Append(ctx, "checkout", cutover.Record{Seq: 1, Type: cutover.RecStart, Plan: "canary"})
	err := j.Append(ctx, "checkout", cutover.Record{Seq: 1, Type: cutover.RecCommand, Command: cutover.CmdPause})
	fmt.Println(errors.Is(err, cutover.ErrConflict), err)
	recs, _ := j.Read(ctx, "checkout", 0)
	fmt.Println(len(recs), recs[0].Plan)
	// Output:
	// true journal checkout: append seq 1, want seq 2: journal conflict
	// 1 canary
}

// BenchmarkMemJournalAppend appends records, 64 per cutover (about the
// length of a real cutover's journal), moving on to a new cutover each time:
// intents and verdicts (both kept compact, the verdict with its figures).
func BenchmarkMemJournalAppend(b *testing.B) {
	for _, bc := range []struct {
		name string
		rec  cutover.Record
	}{
		{"intent", cutover.Record{Type: cutover.RecIntent, Stage: "canary 5%", Index: 2, Action: "apply"}},
		{"verdict", cutover.Record{Type: cutover.RecVerdict, Stage: "canary 5%", Gate: "5xx",
			Verdict: &cutover.Verdict{Decision: cutover.Pass, Figures: map[string]float64{"rate": 0.001}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			j := cutover.NewMemJournal()
			ctx := context.Background()
			rec := bc.rec
			b.ReportAllocs()
			n, id := 0, ""
			for b.Loop() {
				if n%64 == 0 {
					id = fmt.Sprintf("bench-%d", n/64)
				}
				n++
				rec.Seq = uint64((n-1)%64 + 1)
				if err := j.Append(ctx, id, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemJournalFootprint fills a journal with 10,000 cutovers of the
// 22 records the runner writes for a 5-stage plan (start; intent, applied,
// verdict and baked per stage; completed) and reports the heap it holds per
// cutover.
func BenchmarkMemJournalFootprint(b *testing.B) {
	const cutovers = 10_000
	stages := []string{"canary 5%", "canary 25%", "canary 50%", "canary 75%", "canary 100%"}
	verdict := &cutover.Verdict{Decision: cutover.Pass, Reason: "0.1% ≤ 1%"}
	var recs []cutover.Record
	recs = append(recs, cutover.Record{Type: cutover.RecStart, Plan: "canary", Stages: stages, Actor: "ci"})
	for i, st := range stages {
		recs = append(recs,
			cutover.Record{Type: cutover.RecIntent, Stage: st, Index: i, Action: "apply"},
			cutover.Record{Type: cutover.RecApplied, Stage: st, Index: i},
			cutover.Record{Type: cutover.RecVerdict, Stage: st, Index: i, Gate: "5xx", Verdict: verdict},
			cutover.Record{Type: cutover.RecBaked, Stage: st, Index: i})
	}
	recs = append(recs, cutover.Record{Type: cutover.RecCompleted})
	now := time.Now()
	ctx := context.Background()
	ids := make([]string, cutovers)
	for i := range ids {
		ids[i] = fmt.Sprintf("cutover-%05d", i)
	}
	var perCutover float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		j := cutover.NewMemJournal()
		for _, id := range ids {
			for i, r := range recs {
				r.Seq, r.Time = uint64(i+1), now
				if err := j.Append(ctx, id, r); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perCutover = float64(after.HeapAlloc-before.HeapAlloc) / cutovers
		runtime.KeepAlive(j)
	}
	b.ReportMetric(perCutover, "B/cutover")
}

// Records that do not fit the compact form come back whole.
func TestMemJournalRoundTripEdges(t *testing.T) {
	j := cutover.NewMemJournal()
	loc := time.FixedZone("x", -7*3600)
	want := []cutover.Record{
		{Seq: 1, Type: cutover.RecIntent, Action: "drain", Stage: "s"},
		{Seq: 2, Type: cutover.RecIntent, Index: 1 << 40, Action: "apply"},
		{Seq: 3, Type: cutover.RecIntent, Index: -1, Action: "revert", Time: time.Date(2025, 1, 1, 0, 0, 0, 1, loc)},
		{Seq: 4, Type: cutover.RecVerdict, Gate: "g", Verdict: &cutover.Verdict{Decision: cutover.Fail, Figures: map[string]float64{"x": math.Inf(-1)}}},
		{Seq: 5, Type: cutover.RecData, Key: "k", Value: "\xff"},
		{Seq: 6, Type: cutover.RecApplied, Attempt: 2},
		{Seq: 7, Type: cutover.RecVerdict, Stage: "s", Index: 3, Gate: "g", Time: time.Unix(1, 2).UTC(),
			Verdict: &cutover.Verdict{Decision: cutover.Pass, Reason: "r", Final: true, Figures: map[string]float64{}}},
		{Seq: 8, Type: cutover.RecVerdict, Stage: "s", Gate: "g", Time: time.Unix(3, 4),
			Verdict: &cutover.Verdict{Decision: cutover.Pending, Figures: map[string]float64{"": 1, "a\x00b": math.MaxFloat64, "z": -0.5}}},
		{Seq: 9, Type: cutover.RecVerdict, Verdict: &cutover.Verdict{Decision: cutover.Decision(200)}},
		{Seq: 10, Type: cutover.RecIntent, Stage: "s", Action: "revert", Error: "why"},
		{Seq: 11, Type: cutover.RecData, Stage: "s", Index: 2, Key: "traffic", Value: `{"green":5}`},
		{Seq: 12, Type: cutover.RecStart, Plan: "p", Stages: []string{"a", "b"}, Actor: "ci", TwoPerson: true, Time: time.Unix(5, 0),
			Outline: []cutover.StageOutline{{Reversibility: "window", Window: time.Hour, Gates: []string{"g"}}, {Reversibility: "irreversible", Approval: true}}},
		{Seq: 13, Type: cutover.RecCommand, Command: cutover.CmdApprove, Stage: "b", Actor: "ops", Reason: "ok",
			Signed: &cutover.Signature{Scheme: "ssh", Key: "SHA256:x", Payload: "p", Blob: []byte{0, 1, 0xff}}},
		{Seq: 14, Type: cutover.RecCommand, Command: cutover.CmdAbort, Actor: "\xff", Stages: []string{}},
		{Seq: 15, Type: cutover.RecAck, Ref: 13, Command: cutover.CmdApprove, Identity: "SHA256:x", Time: time.Unix(6, 0).UTC()},
	}
	for _, r := range want {
		if err := j.Append(t.Context(), "edges", r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.Read(t.Context(), "edges", 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for i := range got {
		if want, got := want[i].Time.Location(), got[i].Time.Location(); want != got {
			t.Errorf("record %d: time in %v, want %v", i+1, got, want)
		}
	}
	// What Read returns is a copy: changing it changes nothing stored.
	got[6].Verdict.Figures["x"] = 1
	got[7].Verdict.Figures["z"] = 0
	got[11].Stages[0] = "changed"
	got[11].Outline[0].Gates[0] = "changed"
	got[12].Signed.Blob[0] = 9
	again, err := j.Read(t.Context(), "edges", 6)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[6:], again); diff != "" {
		t.Errorf("after changing what Read returned (-want +got):\n%s", diff)
	}
}

// Start records of two plans, appended in turn to many cutovers (the
// journal reuses the encoding of the last one it stored), each come back
// as they were appended, also when the caller changes its record after.
func TestMemJournalAlternatingStarts(t *testing.T) {
	j := cutover.NewMemJournal()
	start := func(plan string, gate string) cutover.Record {
		return cutover.Record{Seq: 1, Type: cutover.RecStart, Plan: plan, Stages: []string{"a", "b"}, Actor: "ci",
			Outline: []cutover.StageOutline{{Reversibility: "reversible", Gates: []string{gate}}, {Reversibility: "irreversible"}}}
	}
	plans := []cutover.Record{start("p", "g"), start("p", "g"), start("q", "g"), start("p", "h"), start("p", "g")}
	for i, r := range plans {
		r.Time = time.Unix(int64(i), 0).UTC()
		appended := r
		appended.Stages = slices.Clone(r.Stages)
		if err := j.Append(t.Context(), fmt.Sprintf("c%d", i), appended); err != nil {
			t.Fatal(err)
		}
		appended.Stages[0] = "changed by the caller"
		plans[i] = r
	}
	for i, want := range plans {
		got, err := j.Read(t.Context(), fmt.Sprintf("c%d", i), 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]cutover.Record{want}, got); diff != "" {
			t.Errorf("cutover %d (-want +got):\n%s", i, diff)
		}
	}
}
