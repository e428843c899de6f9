package awsprovider_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/cutover/journaltest"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

// cutoverRecord is a small record with the given seq.
func cutoverRecord(seq uint64) cutover.Record {
	return cutover.Record{Seq: seq, Type: cutover.RecData, Time: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Key: "k", Value: fmt.Sprint(seq)}
}

// dynamoTestJournal returns a journal over a table of its own.
func dynamoTestJournal(tb testing.TB, client awsprovider.DynamoDBJournalAPI, table string) *awsprovider.DynamoDBJournal {
	tb.Helper()
	j, err := awsprovider.NewDynamoDBJournal(client, table, awsprovider.DynamoDBJournalOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

func TestDynamoDBJournalConformance(t *testing.T) {
	client := dynamoTestClient(t)
	journaltest.TestJournal(t, func(t *testing.T) cutover.Journal {
		return dynamoTestJournal(t, client, dynamoTestTable(t, client))
	})
}

// TestDynamoDBJournalTwoWritersRace has two writers, as two processes would
// (each its own DynamoDBJournal, so neither knows what the other wrote), race
// to append to one cutover: each reads the journal's end and appends the
// next seq. Exactly one append must win per seq, and the stored record must
// be the winner's.
func TestDynamoDBJournalTwoWritersRace(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	const (
		id    = "race"
		total = 40
	)
	var (
		mu      sync.Mutex
		winners = map[uint64][]string{}
		wg      sync.WaitGroup
		lost    atomic.Int64
	)
	for _, name := range []string{"writer-a", "writer-b"} {
		j := dynamoTestJournal(t, client, table)
		wg.Go(func() {
			for range 4 * total { // bounded: each try either wins or sees the end move
				recs, err := j.Read(t.Context(), id, 0)
				if err != nil {
					t.Errorf("%s: Read: %v", name, err)
					return
				}
				next := uint64(len(recs)) + 1
				if next > total {
					return
				}
				rec := cutoverRecord(next)
				rec.Actor = name
				switch err := j.Append(t.Context(), id, rec); {
				case err == nil:
					mu.Lock()
					winners[next] = append(winners[next], name)
					mu.Unlock()
				case errors.Is(err, cutover.ErrConflict):
					lost.Add(1)
				default:
					t.Errorf("%s: Append seq %d = %v, want nil or ErrConflict", name, next, err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := dynamoTestJournal(t, client, table).Read(t.Context(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != total {
		t.Fatalf("journal holds %d records, want %d", len(got), total)
	}
	for i, r := range got {
		w := winners[r.Seq]
		if r.Seq != uint64(i+1) || len(w) != 1 || r.Actor != w[0] {
			t.Errorf("seq %d (position %d): stored by %q, told they won: %v; want exactly the one who wrote it", r.Seq, i, r.Actor, w)
		}
	}
	t.Logf("%d appends lost the race with ErrConflict", lost.Load())
}

// TestDynamoDBJournalStaleWriter: a writer that is behind or ahead of the
// journal gets ErrConflict and changes nothing.
func TestDynamoDBJournalStaleWriter(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	ctx := t.Context()
	fresh := dynamoTestJournal(t, client, table)
	for s := uint64(1); s <= 3; s++ {
		if err := fresh.Append(ctx, "stale", cutoverRecord(s)); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := fresh.Read(ctx, "stale", 0)
	for _, tc := range []struct {
		name string
		seq  uint64
		want string
	}{
		{"behind", 2, "record 2 already exists"},
		{"ahead", 5, "record 4 does not exist"},
		{"far ahead", 1 << 50, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stale := dynamoTestJournal(t, client, table) // another process
			rec := cutoverRecord(tc.seq)
			rec.Actor = "stale"
			err := stale.Append(ctx, "stale", rec)
			if !errors.Is(err, cutover.ErrConflict) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), table) {
				t.Errorf("Append seq %d = %v, want ErrConflict saying %q and naming the table", tc.seq, err, tc.want)
			}
		})
	}
	after, _ := fresh.Read(ctx, "stale", 0)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("rejected appends changed the journal (-before +after):\n%s", diff)
	}
}

// dynamoRetryingClient performs every PutItem twice and returns the second
// outcome, as the SDK's retryer does when a first attempt succeeded but its
// response was lost.
type dynamoRetryingClient struct {
	*dynamodb.Client
	puts atomic.Int64
}

func (c *dynamoRetryingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.puts.Add(1)
	if _, err := c.Client.PutItem(ctx, in, opts...); err != nil {
		return nil, err
	}
	return c.Client.PutItem(ctx, in, opts...)
}

func TestDynamoDBJournalRetriedPutIsNotAConflict(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	core, logs := observer.New(zap.InfoLevel)
	retrying := &dynamoRetryingClient{Client: client}
	j, err := awsprovider.NewDynamoDBJournal(retrying, table, awsprovider.DynamoDBJournalOptions{Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	for s := uint64(1); s <= 3; s++ {
		if err := j.Append(t.Context(), "retried", cutoverRecord(s)); err != nil {
			t.Fatalf("Append seq %d whose put was retried after succeeding = %v, want nil", s, err)
		}
	}
	got, err := j.Read(t.Context(), "retried", 0)
	if err != nil || len(got) != 3 {
		t.Fatalf("Read = %d records, %v; want 3", len(got), err)
	}
	if n := logs.FilterMessageSnippet("retried after it had succeeded").Len(); n != 3 {
		t.Errorf("logged %d recognised retries, want 3", n)
	}
	// Another writer's record at the same seq is still a conflict.
	other := cutoverRecord(3)
	other.Actor = "other"
	if err := j.Append(t.Context(), "retried", other); !errors.Is(err, cutover.ErrConflict) {
		t.Errorf("Append over another's record = %v, want ErrConflict", err)
	}
}

// dynamoCountingClient counts the calls of each kind.
type dynamoCountingClient struct {
	*dynamodb.Client
	gets, puts, queries atomic.Int64
}

func (c *dynamoCountingClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.Client.GetItem(ctx, in, opts...)
}

func (c *dynamoCountingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.puts.Add(1)
	return c.Client.PutItem(ctx, in, opts...)
}

func (c *dynamoCountingClient) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.Client.Query(ctx, in, opts...)
}

// TestDynamoDBJournalCallsPerAppend: one PutItem per append once the journal
// knows the previous record exists; one GetItem more the first time.
func TestDynamoDBJournalCallsPerAppend(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	ctx := t.Context()
	writer := &dynamoCountingClient{Client: client}
	j := dynamoTestJournal(t, writer, table)
	for s := uint64(1); s <= 10; s++ {
		if err := j.Append(ctx, "calls", cutoverRecord(s)); err != nil {
			t.Fatal(err)
		}
	}
	if g, p := writer.gets.Load(), writer.puts.Load(); g != 0 || p != 10 {
		t.Errorf("10 appends by one writer: %d GetItem, %d PutItem; want 0 and 10", g, p)
	}
	// A second process appends after them: one existence check, then none.
	other := &dynamoCountingClient{Client: client}
	j2 := dynamoTestJournal(t, other, table)
	for s := uint64(11); s <= 15; s++ {
		if err := j2.Append(ctx, "calls", cutoverRecord(s)); err != nil {
			t.Fatal(err)
		}
	}
	if g, p := other.gets.Load(), other.puts.Load(); g != 1 || p != 5 {
		t.Errorf("5 appends by a second writer: %d GetItem, %d PutItem; want 1 and 5", g, p)
	}
}

// TestDynamoDBJournalPaginatedRead reads a journal larger than one Query page
// (1 MB).
func TestDynamoDBJournalPaginatedRead(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	ctx := t.Context()
	counting := &dynamoCountingClient{Client: client}
	j := dynamoTestJournal(t, counting, table)
	const n = 30
	big := strings.Repeat("r", 100<<10) // 100 KiB per record: 3 MB in all
	var want []cutover.Record
	for s := uint64(1); s <= n; s++ {
		rec := cutoverRecord(s)
		rec.Reason = big
		if err := j.Append(ctx, "big", rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec)
	}
	for _, after := range []uint64{0, 7} {
		counting.queries.Store(0)
		got, err := j.Read(ctx, "big", after)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[after:], got); diff != "" {
			t.Errorf("Read(after %d) (-want +got):\n%.2000s", after, diff)
		}
		if q := counting.queries.Load(); q < 2 {
			t.Errorf("Read(after %d) of %d MB took %d Query call(s), want several pages", after, n*100/1024, q)
		}
	}
}

// TestDynamoDBJournalCorruptItems: an item that does not decode, or a gap,
// is an error that names the cutover and seq, never silently skipped.
func TestDynamoDBJournalCorruptItems(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	j := dynamoTestJournal(t, client, table)
	item := func(id, seq string, attrs ...string) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{
			"cutover": &types.AttributeValueMemberS{Value: id},
			"seq":     &types.AttributeValueMemberN{Value: seq},
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			m[attrs[i]] = &types.AttributeValueMemberS{Value: attrs[i+1]}
		}
		return m
	}
	tests := []struct {
		name  string
		bad   map[string]types.AttributeValue // written at seq 2 (or 3 for the gap)
		after uint64
		want  string
	}{
		{"truncated json", item("truncated", "2", "record", `{"seq":2,"type":"da`), 0, "seq 2"},
		{"no record attribute", item("norecord", "2"), 1, `seq 2: corrupt journal: no string attribute "record"`},
		{"seq disagrees", item("disagree", "2", "record", `{"seq":7,"type":"data"}`), 0, "the record says seq 7"},
		{"gap", item("gap", "3", "record", `{"seq":3,"type":"data"}`), 0, "record 2 is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			id := tc.bad["cutover"].(*types.AttributeValueMemberS).Value
			if err := j.Append(ctx, id, cutoverRecord(1)); err != nil {
				t.Fatal(err)
			}
			if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: tc.bad}); err != nil {
				t.Fatal(err)
			}
			_, err := j.Read(ctx, id, tc.after)
			if !errors.Is(err, cutover.ErrCorruptJournal) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), id) {
				t.Errorf("Read = %v, want ErrCorruptJournal naming %q and saying %q", err, id, tc.want)
			}
		})
	}
}

// TestDynamoDBJournalSDKErrors: an SDK error is wrapped with what was being
// done, and errors.As still reaches it.
func TestDynamoDBJournalSDKErrors(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTableName(t) // never created
	j := dynamoTestJournal(t, client, table)
	ctx := t.Context()
	for name, err := range map[string]error{
		"append": j.Append(ctx, "c", cutoverRecord(1)),
		"read":   func() error { _, err := j.Read(ctx, "c", 0); return err }(),
	} {
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) || !strings.Contains(err.Error(), table) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s on a missing table = %v, want a ResourceNotFoundException saying %q and naming %s", name, err, name, table)
		}
	}
	// A conflict reaches both ErrConflict and the SDK's error.
	j2 := dynamoTestJournal(t, client, dynamoTestTable(t, client))
	if err := j2.Append(ctx, "c", cutoverRecord(1)); err != nil {
		t.Fatal(err)
	}
	err := j2.Append(ctx, "c", cutoverRecord(1))
	var ccf *types.ConditionalCheckFailedException
	if !errors.Is(err, cutover.ErrConflict) || !errors.As(err, &ccf) {
		t.Errorf("duplicate Append = %v, want ErrConflict wrapping ConditionalCheckFailedException", err)
	}
}

// BenchmarkDynamoDBJournalAppend measures appends per second against the
// local server with 1 and with 16 cutovers appended to concurrently, one
// goroutine per cutover, each append one conditional PutItem; and the
// latency of one append (p50, p99).
func BenchmarkDynamoDBJournalAppend(b *testing.B) {
	client := dynamoTestClient(b)
	table := dynamoTestTable(b, client)
	for _, cutovers := range []int{1, 16} {
		b.Run(fmt.Sprintf("cutovers=%d", cutovers), func(b *testing.B) {
			j := dynamoTestJournal(b, client, table)
			ctx := b.Context()
			run := dynamoTableName(b)[len("safecutover-test-"):] // fresh cutovers for each run
			var (
				wg   sync.WaitGroup
				next atomic.Int64
				fail atomic.Value
			)
			lat := make([][]time.Duration, cutovers)
			b.ResetTimer()
			for c := range cutovers {
				id := fmt.Sprintf("bench-%s-%d", run, c)
				wg.Go(func() {
					for seq := uint64(1); next.Add(1) <= int64(b.N); seq++ {
						start := time.Now()
						if err := j.Append(ctx, id, cutoverRecord(seq)); err != nil {
							fail.Store(err)
							return
						}
						lat[c] = append(lat[c], time.Since(start))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if err, _ := fail.Load().(error); err != nil {
				b.Fatal(err)
			}
			all := slices.Concat(lat...)
			slices.Sort(all)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
