package awsprovider_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/cutover/journaltest"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

func TestDynamoDBLeaseConformance(t *testing.T) {
	client := dynamoTestClient(t)
	journaltest.TestLease(t, func(t *testing.T, clock cutover.Clock) cutover.Lease {
		l, err := awsprovider.NewDynamoDBLease(client, dynamoTestTable(t, client), awsprovider.DynamoDBLeaseOptions{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// TestDynamoDBLeaseTakeoverAfterExpiry: two controllers (each its own
// DynamoDBLease, clocks agreeing) share one cutover; the second takes over
// only once the first's lease has expired, and the first then knows it lost.
func TestDynamoDBLeaseTakeoverAfterExpiry(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	ctx := t.Context()
	clock := cutover.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	core, logs := observer.New(zap.InfoLevel)
	newLease := func() *awsprovider.DynamoDBLease {
		l, err := awsprovider.NewDynamoDBLease(client, table, awsprovider.DynamoDBLeaseOptions{Clock: clock, Logger: zap.New(core)})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	first, second := newLease(), newLease()
	const ttl = 30 * time.Second
	expires := clock.Now().Add(ttl)
	if err := first.Acquire(ctx, "c1", "controller-1", ttl); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		wantErr bool
	}{
		{0, true},
		{ttl / 2, true},
		{ttl/2 - time.Nanosecond, true}, // one nanosecond before expiry
		{time.Nanosecond, false},        // at the expiry instant the lease is free
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		err := second.Acquire(ctx, "c1", "controller-2", ttl)
		if !s.wantErr {
			if err != nil {
				t.Fatalf("step %d: Acquire after expiry = %v, want nil", i, err)
			}
			break
		}
		var held *cutover.LeaseHeldError
		if !errors.As(err, &held) || held.Holder != "controller-1" || held.ID != "c1" || !held.Expires.Equal(expires) {
			t.Fatalf("step %d: Acquire by controller-2 = %v, want a LeaseHeldError naming controller-1 until %s", i, err, expires)
		}
		if !errors.Is(err, cutover.ErrLeaseHeld) || !strings.Contains(err.Error(), table) {
			t.Errorf("step %d: error %q does not wrap ErrLeaseHeld or name the table", i, err)
		}
	}
	err := first.Renew(ctx, "c1", "controller-1", ttl)
	if !errors.Is(err, cutover.ErrLeaseLost) || !strings.Contains(err.Error(), "controller-2") {
		t.Errorf("Renew by the old holder = %v, want ErrLeaseLost naming controller-2", err)
	}
	if err := first.Acquire(ctx, "c1", "controller-1", ttl); !errors.Is(err, cutover.ErrLeaseHeld) {
		t.Errorf("Acquire by the old holder = %v, want ErrLeaseHeld", err)
	}
	took := logs.FilterMessageSnippet("taken over").All()
	if len(took) != 1 || took[0].ContextMap()["previous"] != "controller-1" {
		t.Errorf("take-over log entries = %+v, want one naming the previous holder controller-1", took)
	}
}

// TestDynamoDBLeaseSharesTheJournalTable: the lease item (seq 0) does not
// show up in the journal, and the journal does not disturb the lease.
func TestDynamoDBLeaseSharesTheJournalTable(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	ctx := t.Context()
	l, err := awsprovider.NewDynamoDBLease(client, table, awsprovider.DynamoDBLeaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j := dynamoTestJournal(t, client, table)
	if err := l.Acquire(ctx, "shared", "me", time.Minute); err != nil {
		t.Fatal(err)
	}
	for s := uint64(1); s <= 3; s++ {
		if err := j.Append(ctx, "shared", cutoverRecord(s)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.Read(ctx, "shared", 0)
	if err != nil || len(got) != 3 || got[0].Seq != 1 {
		t.Errorf("Read = %v records (%v), want seqs 1..3 without the lease", len(got), err)
	}
	if err := l.Acquire(ctx, "shared", "you", time.Minute); !errors.Is(err, cutover.ErrLeaseHeld) {
		t.Errorf("Acquire by another owner = %v, want ErrLeaseHeld", err)
	}
	if err := l.Release(ctx, "shared", "me"); err != nil {
		t.Fatal(err)
	}
	if got2, _ := j.Read(ctx, "shared", 0); len(got2) != 3 {
		t.Errorf("after Release the journal holds %d records, want 3", len(got2))
	}
}

// TestDynamoDBLeaseManyControllers: controllers, each its own DynamoDBLease,
// racing for many cutovers at once end with exactly one holder each.
func TestDynamoDBLeaseManyControllers(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	const controllers, cutovers = 4, 8
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won = map[string][]string{}
	)
	for c := range controllers {
		owner := fmt.Sprintf("ctl-%d", c)
		l, err := awsprovider.NewDynamoDBLease(client, table, awsprovider.DynamoDBLeaseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k := range cutovers {
			id := fmt.Sprintf("cut-%d", k)
			wg.Go(func() {
				err := l.Acquire(t.Context(), id, owner, time.Minute)
				switch {
				case err == nil:
					mu.Lock()
					won[id] = append(won[id], owner)
					mu.Unlock()
				case !errors.Is(err, cutover.ErrLeaseHeld):
					t.Errorf("Acquire(%s, %s) = %v, want nil or ErrLeaseHeld", id, owner, err)
				}
			})
		}
	}
	wg.Wait()
	for k := range cutovers {
		if id := fmt.Sprintf("cut-%d", k); len(won[id]) != 1 {
			t.Errorf("%s: holders %v, want exactly one", id, won[id])
		}
	}
}

// TestDynamoDBLeaseMalformedItem: an item at seq 0 that is not a lease (the
// table used by something else) is a clear error, not a take-over.
func TestDynamoDBLeaseMalformedItem(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	ctx := t.Context()
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"cutover": &types.AttributeValueMemberS{Value: "odd"},
		"seq":     &types.AttributeValueMemberN{Value: "0"},
		"note":    &types.AttributeValueMemberS{Value: "not a lease"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := awsprovider.NewDynamoDBLease(client, table, awsprovider.DynamoDBLeaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Acquire(ctx, "odd", "me", time.Minute); err == nil || !strings.Contains(err.Error(), "the lease item") || !strings.Contains(err.Error(), table) {
		t.Errorf("Acquire over a malformed lease item = %v, want an error about the lease item naming the table", err)
	}
	if err := l.Renew(ctx, "odd", "me", time.Minute); !errors.Is(err, cutover.ErrLeaseLost) || !strings.Contains(err.Error(), "the lease item") {
		t.Errorf("Renew over a malformed lease item = %v, want ErrLeaseLost about the lease item", err)
	}
}
