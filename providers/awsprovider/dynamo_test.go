package awsprovider_test

// Helpers shared by the DynamoDB tests, and the tests of the table helpers.
// The tests talk to dynalite (a DynamoDB-compatible server on 127.0.0.1)
// named by SAFECUTOVER_DYNAMODB_ENDPOINT; `make test` starts it.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// dynamoTestClient returns a real SDK client for the local DynamoDB-compatible
// server, or skips the test when none is configured (awstest.DynamoDBEndpoint).
func dynamoTestClient(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	return awstest.DynamoDBClient(awstest.DynamoDBEndpoint(tb))
}

// dynamoTableName returns a table name no other test uses.
func dynamoTableName(tb testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "safecutover-test-" + hex.EncodeToString(b[:])
}

// dynamoTestTable creates a journal table of its own for the test and deletes
// it when the test ends.
func dynamoTestTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	table := dynamoTableName(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := awsprovider.CreateJournalTable(ctx, client, table, awsprovider.DynamoDBTableOptions{MaxWait: 20 * time.Second}); err != nil {
		tb.Fatalf("CreateJournalTable: %v", err)
	}
	dynamoDeleteTableAtEnd(tb, client, table)
	return table
}

func dynamoDeleteTableAtEnd(tb testing.TB, client *dynamodb.Client, table string) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			tb.Logf("delete table %s: %v", table, err)
		}
	})
}

func TestDynamoDBCreateJournalTable(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	ctx := t.Context()
	table := dynamoTestTable(t, client)

	// Creating it again is fine: the table exists with the right schema.
	if err := awsprovider.CreateJournalTable(ctx, client, table, awsprovider.DynamoDBTableOptions{}); err != nil {
		t.Errorf("CreateJournalTable on an existing journal table = %v, want nil", err)
	}
	if err := awsprovider.CheckJournalTable(ctx, client, table, awsprovider.DynamoDBTableOptions{}); err != nil {
		t.Errorf("CheckJournalTable = %v, want nil", err)
	}
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Table.TableStatus != types.TableStatusActive {
		t.Errorf("table status after CreateJournalTable = %s, want ACTIVE", out.Table.TableStatus)
	}
}

func TestDynamoDBTableWithWrongKeySchema(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	attr := func(name string, typ types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ}
	}
	key := func(name string, typ types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: typ}
	}
	tests := []struct {
		name  string
		attrs []types.AttributeDefinition
		keys  []types.KeySchemaElement
		got   string
	}{
		{"other partition key", []types.AttributeDefinition{attr("id", "S")},
			[]types.KeySchemaElement{key("id", types.KeyTypeHash)}, "id (S, HASH)"},
		{"no sort key", []types.AttributeDefinition{attr("cutover", "S")},
			[]types.KeySchemaElement{key("cutover", types.KeyTypeHash)}, "cutover (S, HASH)"},
		{"seq is a string", []types.AttributeDefinition{attr("cutover", "S"), attr("seq", "S")},
			[]types.KeySchemaElement{key("cutover", types.KeyTypeHash), key("seq", types.KeyTypeRange)}, "seq (S, RANGE)"},
		{"keys swapped", []types.AttributeDefinition{attr("cutover", "S"), attr("seq", "N")},
			[]types.KeySchemaElement{key("seq", types.KeyTypeHash), key("cutover", types.KeyTypeRange)}, "seq (N, HASH)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			table := dynamoTableName(t)
			_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
				AttributeDefinitions: tc.attrs, KeySchema: tc.keys,
			})
			if err != nil {
				t.Fatal(err)
			}
			dynamoDeleteTableAtEnd(t, client, table)
			for name, call := range map[string]func() error{
				"CreateJournalTable": func() error {
					return awsprovider.CreateJournalTable(ctx, client, table, awsprovider.DynamoDBTableOptions{MaxWait: 20 * time.Second})
				},
				"CheckJournalTable": func() error {
					return awsprovider.CheckJournalTable(ctx, client, table, awsprovider.DynamoDBTableOptions{MaxWait: 20 * time.Second})
				},
			} {
				err := call()
				var se *awsprovider.TableSchemaError
				if !errors.As(err, &se) {
					t.Fatalf("%s = %v, want a *TableSchemaError", name, err)
				}
				if se.Table != table || !strings.Contains(err.Error(), table) || !strings.Contains(se.Got, tc.got) {
					t.Errorf("%s = %q (Got %q), want it to name table %s and show %q", name, err, se.Got, table, tc.got)
				}
			}
		})
	}
}

func TestDynamoDBCheckMissingTable(t *testing.T) {
	t.Parallel()
	client := dynamoTestClient(t)
	table := dynamoTableName(t)
	err := awsprovider.CheckJournalTable(t.Context(), client, table, awsprovider.DynamoDBTableOptions{MaxWait: time.Second})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), table) {
		t.Errorf("CheckJournalTable(missing) = %v, want a ResourceNotFoundException naming %s", err, table)
	}
}

// dynamoNoCalls is a client every method of which fails the test: bad input
// must be refused before any call.
type dynamoNoCalls struct{ t *testing.T }

func (c dynamoNoCalls) fail(op string) error {
	c.t.Errorf("unexpected DynamoDB call %s", op)
	return errors.New("unexpected call")
}

func (c dynamoNoCalls) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, c.fail("GetItem")
}

func (c dynamoNoCalls) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, c.fail("PutItem")
}

func (c dynamoNoCalls) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, c.fail("Query")
}

func (c dynamoNoCalls) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, c.fail("UpdateItem")
}

func (c dynamoNoCalls) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, c.fail("DeleteItem")
}

func (c dynamoNoCalls) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return nil, c.fail("CreateTable")
}

func (c dynamoNoCalls) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return nil, c.fail("DescribeTable")
}

// TestDynamoDBBadInput needs no server: bad input is refused before any call,
// with an error that names what is wrong.
func TestDynamoDBBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	nc := dynamoNoCalls{t}
	j, err := awsprovider.NewDynamoDBJournal(nc, "journal", awsprovider.DynamoDBJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := awsprovider.NewDynamoDBLease(nc, "journal", awsprovider.DynamoDBLeaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want string // in the error
	}{
		{"journal nil client", func() error {
			_, err := awsprovider.NewDynamoDBJournal(nil, "journal", awsprovider.DynamoDBJournalOptions{})
			return err
		}, "client is nil"},
		{"lease nil client", func() error {
			_, err := awsprovider.NewDynamoDBLease(nil, "journal", awsprovider.DynamoDBLeaseOptions{})
			return err
		}, "client is nil"},
		{"empty table name", func() error {
			_, err := awsprovider.NewDynamoDBJournal(nc, "", awsprovider.DynamoDBJournalOptions{})
			return err
		}, "3 to 255 characters"},
		{"short table name", func() error {
			_, err := awsprovider.NewDynamoDBLease(nc, "ab", awsprovider.DynamoDBLeaseOptions{})
			return err
		}, `"ab": must be 3 to 255`},
		{"long table name", func() error {
			_, err := awsprovider.NewDynamoDBJournal(nc, strings.Repeat("t", 256), awsprovider.DynamoDBJournalOptions{})
			return err
		}, "3 to 255 characters"},
		{"table name with a space", func() error {
			return awsprovider.CreateJournalTable(ctx, nc, "my table", awsprovider.DynamoDBTableOptions{})
		}, `character ' ' not allowed`},
		{"check table name with a slash", func() error {
			return awsprovider.CheckJournalTable(ctx, nc, "a/b/c", awsprovider.DynamoDBTableOptions{})
		}, `character '/' not allowed`},
		{"append empty id", func() error { return j.Append(ctx, "", cutoverRecord(1)) }, "cutover id: empty"},
		{"append bad id", func() error { return j.Append(ctx, "a b", cutoverRecord(1)) }, `cutover id "a b"`},
		{"append long id", func() error { return j.Append(ctx, strings.Repeat("x", 5000), cutoverRecord(1)) }, "characters long"},
		{"append seq 0", func() error { return j.Append(ctx, "c1", cutoverRecord(0)) }, "numbered from 1"},
		{"read bad id", func() error { _, err := j.Read(ctx, "../x", 0); return err }, "cutover id"},
		{"acquire empty owner", func() error { return l.Acquire(ctx, "c1", "", time.Minute) }, "owner is empty"},
		{"acquire zero ttl", func() error { return l.Acquire(ctx, "c1", "me", 0) }, "ttl is 0s"},
		{"renew negative ttl", func() error { return l.Renew(ctx, "c1", "me", -time.Second) }, "ttl is -1s"},
		{"release bad id", func() error { return l.Release(ctx, "", "me") }, "cutover id: empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// dynamoPacer counts waits and fails them when err is set.
type dynamoPacer struct {
	waits atomic.Int64
	err   error
}

func (p *dynamoPacer) Wait(context.Context) error {
	p.waits.Add(1)
	return p.err
}

// TestDynamoDBPacer: the pacer is waited on before every API call, and a
// pacer that refuses (ctx ended) stops the call from being made.
func TestDynamoDBPacer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	refuse := &dynamoPacer{err: context.Canceled}
	j, err := awsprovider.NewDynamoDBJournal(dynamoNoCalls{t}, "journal", awsprovider.DynamoDBJournalOptions{Pacer: refuse})
	if err != nil {
		t.Fatal(err)
	}
	l, err := awsprovider.NewDynamoDBLease(dynamoNoCalls{t}, "journal", awsprovider.DynamoDBLeaseOptions{Pacer: refuse})
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"append":  j.Append(ctx, "c", cutoverRecord(1)),
		"read":    func() error { _, err := j.Read(ctx, "c", 0); return err }(),
		"acquire": l.Acquire(ctx, "c", "me", time.Minute),
		"renew":   l.Renew(ctx, "c", "me", time.Minute),
		"release": l.Release(ctx, "c", "me"),
	} {
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "pace") {
			t.Errorf("%s with a refusing pacer = %v, want a pace error wrapping context.Canceled", name, err)
		}
	}

	client := dynamoTestClient(t)
	table := dynamoTestTable(t, client)
	counting := &dynamoCountingClient{Client: client}
	pacer := &dynamoPacer{}
	j, err = awsprovider.NewDynamoDBJournal(counting, table, awsprovider.DynamoDBJournalOptions{Pacer: pacer})
	if err != nil {
		t.Fatal(err)
	}
	for s := uint64(1); s <= 3; s++ {
		if err := j.Append(ctx, "paced", cutoverRecord(s)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := j.Read(ctx, "paced", 0); err != nil {
		t.Fatal(err)
	}
	calls := counting.gets.Load() + counting.puts.Load() + counting.queries.Load()
	if w := pacer.waits.Load(); w != calls || calls != 4 {
		t.Errorf("pacer waited %d times for %d calls, want 4 and 4", w, calls)
	}
}
