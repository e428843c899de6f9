package journaltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/safecutover/safecutover/cutover"
)

// TestJournal runs the conformance suite for cutover.Journal. newJournal is
// called once per subtest and must return an empty journal; it may register
// cleanups on its t. Cutover IDs used are short and match [a-z0-9-]+.
func TestJournal(t *testing.T, newJournal func(t *testing.T) cutover.Journal) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, j cutover.Journal)
	}{
		{"UnknownIDIsEmpty", testUnknownID},
		{"AppendThenRead", testAppendRead},
		{"ReadAfter", testReadAfter},
		{"CompareAndAppend", testCompareAndAppend},
		{"CutoversAreSeparate", testSeparate},
		{"RoundTrip", testRoundTrip},
		{"CallerCannotMutateStored", testNoAliasing},
		{"CancelledContext", testCancelled},
		{"RacingAppenders", testRacing},
		{"ManyCutoversInParallel", testManyCutovers},
		{"ListIfLister", testList},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newJournal(t))
		})
	}
}

// recordCmp compares records field by field; times by instant, empty and
// nil slices and maps alike.
var recordCmp = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmpopts.EquateEmpty(),
}

// base is the time records in the suite are stamped from.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func rec(seq uint64, typ cutover.RecordType) cutover.Record {
	return cutover.Record{Seq: seq, Type: typ, Time: base.Add(time.Duration(seq) * time.Second), Stage: fmt.Sprintf("stage-%d", seq)}
}

func mustAppend(t *testing.T, j cutover.Journal, id string, recs ...cutover.Record) {
	t.Helper()
	for _, r := range recs {
		if err := j.Append(t.Context(), id, r); err != nil {
			t.Fatalf("Append(%q, seq %d): %v", id, r.Seq, err)
		}
	}
}

func mustRead(t *testing.T, j cutover.Journal, id string, after uint64) []cutover.Record {
	t.Helper()
	got, err := j.Read(t.Context(), id, after)
	if err != nil {
		t.Fatalf("Read(%q, after %d): %v", id, after, err)
	}
	return got
}

func seqs(recs []cutover.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func series(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func testUnknownID(t *testing.T, j cutover.Journal) {
	for _, after := range []uint64{0, 1, 1 << 40} {
		if got := mustRead(t, j, "never-written", after); len(got) != 0 {
			t.Errorf("Read(unknown id, after %d) = %d records, want none", after, len(got))
		}
	}
}

func testAppendRead(t *testing.T, j cutover.Journal) {
	want := []cutover.Record{
		rec(1, cutover.RecStart), rec(2, cutover.RecIntent), rec(3, cutover.RecApplied),
		rec(4, cutover.RecVerdict), rec(5, cutover.RecBaked), rec(6, cutover.RecCompleted),
	}
	mustAppend(t, j, "append-read", want...)
	if diff := cmp.Diff(want, mustRead(t, j, "append-read", 0), recordCmp); diff != "" {
		t.Errorf("Read after appends (-want +got):\n%s", diff)
	}
	// A second read gives the same.
	if diff := cmp.Diff(want, mustRead(t, j, "append-read", 0), recordCmp); diff != "" {
		t.Errorf("second Read (-want +got):\n%s", diff)
	}
}

func testReadAfter(t *testing.T, j cutover.Journal) {
	const n = 7
	for s := uint64(1); s <= n; s++ {
		mustAppend(t, j, "read-after", rec(s, cutover.RecData))
	}
	for _, tc := range []struct {
		after uint64
		want  []uint64
	}{
		{0, series(1, n)},
		{1, series(2, n)},
		{4, series(5, n)},
		{n - 1, []uint64{n}},
		{n, nil},
		{n + 1, nil},
		{1 << 62, nil},
	} {
		got := mustRead(t, j, "read-after", tc.after)
		if diff := cmp.Diff(tc.want, seqs(got), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Read(after %d) seqs (-want +got):\n%s", tc.after, diff)
		}
	}
	// Interleaved polling sees every record exactly once.
	const id = "read-poll"
	var seen []uint64
	last := uint64(0)
	for s := uint64(1); s <= 5; s++ {
		mustAppend(t, j, id, rec(s, cutover.RecData))
		for _, r := range mustRead(t, j, id, last) {
			seen = append(seen, r.Seq)
			last = r.Seq
		}
	}
	if diff := cmp.Diff(series(1, 5), seen); diff != "" {
		t.Errorf("polling Read(after last) saw (-want +got):\n%s", diff)
	}
}

func testCompareAndAppend(t *testing.T, j cutover.Journal) {
	const id = "cas"
	ctx := t.Context()
	if err := j.Append(ctx, id, rec(2, cutover.RecStart)); !errors.Is(err, cutover.ErrConflict) {
		t.Errorf("first Append with seq 2 = %v, want ErrConflict", err)
	}
	if err := j.Append(ctx, id, rec(0, cutover.RecStart)); !errors.Is(err, cutover.ErrConflict) {
		t.Errorf("first Append with seq 0 = %v, want ErrConflict", err)
	}
	mustAppend(t, j, id, rec(1, cutover.RecStart), rec(2, cutover.RecIntent))
	for _, tc := range []struct {
		name string
		seq  uint64
	}{
		{"duplicate of last", 2},
		{"duplicate of first", 1},
		{"zero", 0},
		{"gap", 4},
		{"far ahead", 1 << 40},
	} {
		stale := rec(tc.seq, cutover.RecCommand)
		stale.Actor = "stale-writer"
		err := j.Append(ctx, id, stale)
		if !errors.Is(err, cutover.ErrConflict) {
			t.Errorf("Append %s (seq %d) = %v, want ErrConflict", tc.name, tc.seq, err)
		}
	}
	got := mustRead(t, j, id, 0)
	want := []cutover.Record{rec(1, cutover.RecStart), rec(2, cutover.RecIntent)}
	if diff := cmp.Diff(want, got, recordCmp); diff != "" {
		t.Errorf("journal after rejected appends changed (-want +got):\n%s", diff)
	}
	mustAppend(t, j, id, rec(3, cutover.RecApplied))
	if got := seqs(mustRead(t, j, id, 0)); !cmp.Equal(got, series(1, 3)) {
		t.Errorf("after next append seqs = %v, want 1..3", got)
	}
}

func testSeparate(t *testing.T, j cutover.Journal) {
	mustAppend(t, j, "sep-a", rec(1, cutover.RecStart), rec(2, cutover.RecIntent))
	b := rec(1, cutover.RecStart)
	b.Plan = "plan-b"
	mustAppend(t, j, "sep-b", b)
	if got := seqs(mustRead(t, j, "sep-a", 0)); !cmp.Equal(got, series(1, 2)) {
		t.Errorf("sep-a seqs = %v, want [1 2]", got)
	}
	gotB := mustRead(t, j, "sep-b", 0)
	if len(gotB) != 1 || gotB[0].Plan != "plan-b" {
		t.Errorf("sep-b = %+v, want one record of plan-b", gotB)
	}
	// sep-b's next Seq is 2 regardless of sep-a.
	if err := j.Append(t.Context(), "sep-b", rec(3, cutover.RecIntent)); !errors.Is(err, cutover.ErrConflict) {
		t.Errorf("sep-b Append seq 3 = %v, want ErrConflict", err)
	}
}

// fullRecords returns records with every field set, and some with only a
// few, to check that nothing is lost or invented on the way.
func fullRecords() []cutover.Record {
	loc := time.FixedZone("UTC+5:30", 5*3600+1800)
	return []cutover.Record{
		{
			Seq: 1, Type: cutover.RecStart, Time: base,
			Plan: "migrate-orders", Stages: []string{"green-up", "canary 1%", "canary 50%", "retire-blue"},
			Actor: "alice@example.com", Reason: "release 2025.03.14 — ünïcode, \"quotes\", <tags> & \n newlines\t",
			Outline: []cutover.StageOutline{
				{Reversibility: "reversible", Gates: []string{"green-ready"}},
				{Reversibility: "reversible", Bake: 5 * time.Minute, Pause: true, Gates: []string{"5xx-rate", "p99"}},
				{Reversibility: "window", Window: time.Hour, Approval: true},
				{Reversibility: "irreversible", Approval: true},
			},
			TwoPerson: true,
		},
		{
			Seq: 2, Type: cutover.RecIntent, Time: base.Add(1500 * time.Millisecond).In(loc),
			Stage: "canary 1%", Index: 1, Action: "apply", Attempt: 3,
		},
		{
			Seq: 3, Type: cutover.RecVerdict, Time: base.Add(time.Hour + 7*time.Nanosecond),
			Stage: "canary 1%", Index: 1, Gate: "5xx-rate",
			Verdict: &cutover.Verdict{
				Decision: cutover.Fail,
				Reason:   "green 5xx rate 2.1% > max 1.0% over 5m (1204 requests)",
				Figures: map[string]float64{
					"rate": 0.021, "max": 0.01, "requests": 1204, "negative": -3.5,
					"tiny": 1e-100, "huge": 1e100, "zero": 0, "precise": 0.30000000000000004,
				},
				Final: true,
			},
		},
		{
			Seq: 4, Type: cutover.RecVerdict, Time: base.Add(2 * time.Hour),
			Stage: "canary 1%", Gate: "no-figures", Verdict: &cutover.Verdict{Decision: cutover.Pending},
		},
		{Seq: 5, Type: cutover.RecData, Time: base, Stage: "green-up", Key: "deployment-id", Value: "d-ABC123/xyz=="},
		{Seq: 6, Type: cutover.RecCommand, Time: base, Command: cutover.CmdApprove, Actor: "bob", Reason: "looks good", Stage: "retire-blue"},
		{Seq: 7, Type: cutover.RecAck, Time: base, Command: cutover.CmdApprove, Ref: 6, Stage: "retire-blue", Actor: "bob", Error: "refused: two-person rule"},
		{Seq: 8, Type: cutover.RecApplyFailed, Time: base, Stage: "canary 50%", Index: 2, Error: "set weights: throttled", Attempt: 1},
		{Seq: 9, Type: cutover.RecRevertFailed, Time: base, Stage: "canary 50%", Index: 2, Error: "x", Attempt: 2},
		{Seq: 10, Type: cutover.RecFailed, Time: time.Time{}, Error: "rollback incomplete"},
		{Seq: 11, Type: cutover.RecRolledBack, Time: base.Add(-time.Hour * 24 * 365 * 30)},
	}
}

func testRoundTrip(t *testing.T, j cutover.Journal) {
	want := fullRecords()
	mustAppend(t, j, "round-trip", want...)
	got := mustRead(t, j, "round-trip", 0)
	if diff := cmp.Diff(want, got, recordCmp); diff != "" {
		t.Errorf("records did not round-trip (-want +got):\n%s", diff)
	}
	if got := mustRead(t, j, "round-trip", 2); len(got) < 1 || !cmp.Equal(want[2], got[0], recordCmp) {
		t.Errorf("Read(after 2) did not start with the verdict record: %+v", got)
	}
}

func testNoAliasing(t *testing.T, j cutover.Journal) {
	const id = "aliasing"
	want := fullRecords()[:3]
	in := fullRecords()[:3]
	mustAppend(t, j, id, in...)
	// Mutate what was appended.
	in[0].Stages[0] = "mutated"
	in[0].Outline[1].Gates[0] = "mutated"
	in[2].Verdict.Figures["rate"] = 99
	in[2].Verdict.Reason = "mutated"
	got := mustRead(t, j, id, 0)
	if diff := cmp.Diff(want, got, recordCmp); diff != "" {
		t.Errorf("mutating appended records changed the journal (-want +got):\n%s", diff)
	}
	// Mutate what was read.
	got[0].Stages[0] = "mutated"
	got[2].Verdict.Figures["rate"] = 99
	got[2].Verdict.Decision = cutover.Pass
	got[1].Stage = "mutated"
	if diff := cmp.Diff(want, mustRead(t, j, id, 0), recordCmp); diff != "" {
		t.Errorf("mutating read records changed the journal (-want +got):\n%s", diff)
	}
}

func testCancelled(t *testing.T, j cutover.Journal) {
	const id = "cancelled"
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := j.Append(ctx, id, rec(1, cutover.RecStart)); err == nil {
		t.Errorf("Append with a cancelled context = nil, want an error")
	}
	if _, err := j.Read(ctx, id, 0); err == nil {
		t.Errorf("Read with a cancelled context = nil error, want an error")
	}
	if got := mustRead(t, j, id, 0); len(got) != 0 {
		t.Errorf("after a cancelled Append the journal holds %d records, want 0", len(got))
	}
}

// testRacing has several appenders race for every Seq of one cutover: each
// tries Seq k after its try at k-1, so Seq k-1 exists when k is tried and
// exactly one appender can win each Seq.
func testRacing(t *testing.T, j cutover.Journal) {
	const (
		id       = "racing"
		writers  = 6
		sequence = 15
	)
	var (
		mu      sync.Mutex
		winners = map[uint64][]string{}
		wg      sync.WaitGroup
	)
	errs := make(chan error, writers*sequence)
	for w := range writers {
		name := fmt.Sprintf("writer-%d", w)
		wg.Go(func() {
			for s := uint64(1); s <= sequence; s++ {
				r := rec(s, cutover.RecCommand)
				r.Actor = name
				err := j.Append(t.Context(), id, r)
				switch {
				case err == nil:
					mu.Lock()
					winners[s] = append(winners[s], name)
					mu.Unlock()
				case !errors.Is(err, cutover.ErrConflict):
					errs <- fmt.Errorf("%s: Append seq %d: %w (want nil or ErrConflict)", name, s, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := mustRead(t, j, id, 0)
	if diff := cmp.Diff(series(1, sequence), seqs(got)); diff != "" {
		t.Fatalf("seqs after race (-want +got):\n%s", diff)
	}
	for _, r := range got {
		w := winners[r.Seq]
		if len(w) != 1 {
			t.Errorf("seq %d: %d appenders were told they won (%v), want exactly 1", r.Seq, len(w), w)
			continue
		}
		if r.Actor != w[0] {
			t.Errorf("seq %d: stored record is by %q, but %q was told it won", r.Seq, r.Actor, w[0])
		}
	}
}

func testManyCutovers(t *testing.T, j cutover.Journal) {
	const (
		cutovers = 16
		each     = 8
	)
	var wg sync.WaitGroup
	errs := make(chan error, cutovers)
	for c := range cutovers {
		id := fmt.Sprintf("many-%d", c)
		wg.Go(func() {
			for s := uint64(1); s <= each; s++ {
				r := rec(s, cutover.RecData)
				r.Key, r.Value = "cutover", id
				if err := j.Append(t.Context(), id, r); err != nil {
					errs <- fmt.Errorf("%s: Append seq %d: %w", id, s, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for c := range cutovers {
		id := fmt.Sprintf("many-%d", c)
		got := mustRead(t, j, id, 0)
		if diff := cmp.Diff(series(1, each), seqs(got)); diff != "" {
			t.Errorf("%s seqs (-want +got):\n%s", id, diff)
		}
		for _, r := range got {
			if r.Value != id {
				t.Errorf("%s seq %d holds a record of %q", id, r.Seq, r.Value)
			}
		}
	}
}

// testList checks, for a journal that implements cutover.Lister, that List
// returns exactly the cutovers with records, sorted.
func testList(t *testing.T, j cutover.Journal) {
	l, ok := j.(cutover.Lister)
	if !ok {
		t.Skip("the journal does not implement cutover.Lister")
	}
	ctx := context.Background()
	if ids, err := l.List(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("List of an empty journal = %q, %v; want none", ids, err)
	}
	// "a" sorts before "a-b" although "a.ext" sorts after "a-b.ext".
	want := []string{"a", "a-b", "b0", "z"}
	for _, id := range []string{"z", "a-b", "b0", "a"} {
		mustAppend(t, j, id, rec(1, cutover.RecStart), rec(2, cutover.RecIntent))
	}
	_, _ = j.Read(ctx, "never-written", 0)
	got, err := l.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.List(cctx); err == nil {
		t.Error("List with a cancelled context succeeded")
	}
}
