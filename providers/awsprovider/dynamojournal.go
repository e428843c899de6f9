package awsprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
)

// DynamoDBJournal is a cutover.Journal kept in a DynamoDB table, so that
// controller processes on several machines can share cutovers.
//
// # Table schema
//
// One table (create it with CreateJournalTable) holds the journals of many
// cutovers, one item per record:
//
//	cutover    S  partition key: the cutover ID
//	seq        N  sort key: the record's sequence number, 1, 2, 3, ...
//	record     S  the cutover.Record as JSON (its "seq" equals the key)
//	nonce      S  a random token per Append call (see below)
//
// The item with seq 0 is not a record: DynamoDBLease keeps the cutover's
// lease there when it shares the table (Read never returns it).
//
// # Compare-and-append
//
// DynamoDB has no "append if last is n" and dynalite, the local server the
// tests use, has no transactions, so Append proves "seq is exactly last+1"
// in two steps that together are sound:
//
//  1. record seq-1 exists (a strongly consistent GetItem; skipped when this
//     journal has already seen record seq-1 of the cutover), and
//  2. record seq does not: a PutItem with the condition
//     attribute_not_exists(seq).
//
// Records are never updated or deleted, so once seq-1 exists it exists for
// good, and step 2 is atomic: of any writers appending the same seq exactly
// one wins and the others get ErrConflict; a writer ahead of the journal
// (seq-1 missing) gets ErrConflict and writes nothing, so there is never a
// gap; a stale writer (seq taken) gets ErrConflict, never an overwrite. If
// the SDK retries a PutItem whose first attempt did succeed, the retry's
// condition fails; Append then reads the item back and, if it carries this
// call's nonce, reports success rather than a false conflict.
//
// An append costs one PutItem (plus one GetItem the first time a process
// appends to a cutover it has not read). Read is a strongly consistent,
// paginated Query. IAM: dynamodb:GetItem, dynamodb:PutItem, dynamodb:Query on
// the table. Deleting a cutover's items while it runs breaks the guarantee.
type DynamoDBJournal struct {
	awsBase
	client DynamoDBJournalAPI
	table  string

	mu sync.Mutex
	// seen holds, per cutover, a seq known to exist. It only saves the
	// existence check of step 1; it is bounded by dropping it when full.
	seen map[string]uint64
}

// DynamoDBJournalOptions configures a DynamoDBJournal. The zero value is
// valid.
type DynamoDBJournalOptions struct {
	// Logger receives conflicts and retried writes (default: no-op).
	Logger *zap.Logger
	// Pacer, if set, is waited on before each API call (default: none).
	Pacer Pacer
	// CallTimeout bounds each attempt of each API call; a timed-out
	// attempt is retried by the client's retryer. ≥ 0; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
}

var _ cutover.Journal = (*DynamoDBJournal)(nil)

// dynamoSeenMax bounds DynamoDBJournal.seen.
const dynamoSeenMax = 4096

// NewDynamoDBJournal returns a journal kept in the DynamoDB table named
// table, reached through client (a *dynamodb.Client fits). It makes no call;
// use CreateJournalTable or CheckJournalTable to prepare and check the table.
func NewDynamoDBJournal(client DynamoDBJournalAPI, table string, opts DynamoDBJournalOptions) (*DynamoDBJournal, error) {
	b, err := newDynamoBase("dynamodb journal", client, table, opts.Logger, nil, opts.Pacer, opts.CallTimeout)
	if err != nil {
		return nil, err
	}
	return &DynamoDBJournal{
		awsBase: b,
		client:  client,
		table:   table,
		seen:    map[string]uint64{},
	}, nil
}

// Append adds rec to the journal of cutover id if rec.Seq is exactly one
// more than the last record's Seq; otherwise it returns an error wrapping
// cutover.ErrConflict and writes nothing. See DynamoDBJournal for how.
func (j *DynamoDBJournal) Append(ctx context.Context, id string, rec cutover.Record) error {
	what := fmt.Sprintf("dynamodb journal %s: append to %q", j.table, id)
	if err := checkCutoverID(what, id); err != nil {
		return err
	}
	if rec.Seq == 0 {
		return fmt.Errorf("%s: seq 0: %w: records are numbered from 1", what, cutover.ErrConflict)
	}
	what = fmt.Sprintf("%s seq %d", what, rec.Seq)
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("%s: encode record: %w", what, err)
	}
	if rec.Seq > 1 && !j.hasSeen(id, rec.Seq-1) {
		prev := strconv.FormatUint(rec.Seq-1, 10)
		if err := j.pace(ctx, "GetItem"); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		out, err := j.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:                aws.String(j.table),
			Key:                      dynamoKey(id, prev),
			ConsistentRead:           aws.Bool(true),
			ProjectionExpression:     aws.String("#s"),
			ExpressionAttributeNames: map[string]string{"#s": JournalSortKey},
		}, j.ddbOpt)
		if err != nil {
			return fmt.Errorf("%s: check that record %d exists: %w", what, rec.Seq-1, err)
		}
		if len(out.Item) == 0 {
			j.log.Debug("dynamodb journal append ahead of the journal", zap.String("cutover", id), zap.Uint64("seq", rec.Seq))
			return fmt.Errorf("%s: %w: record %d does not exist, so %d is not the next seq", what, cutover.ErrConflict, rec.Seq-1, rec.Seq)
		}
	}
	seq := strconv.FormatUint(rec.Seq, 10)
	nonce := dynamoNonce()
	item := dynamoKey(id, seq)
	item[dynamoAttrRecord] = &types.AttributeValueMemberS{Value: string(data)}
	item[dynamoAttrNonce] = &types.AttributeValueMemberS{Value: nonce}
	if err := j.pace(ctx, "PutItem"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err = j.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(j.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#s)"),
		ExpressionAttributeNames: map[string]string{"#s": JournalSortKey},
	}, j.ddbOpt)
	if err != nil {
		if !isConditionFailed(err) {
			return fmt.Errorf("%s: put record: %w", what, err)
		}
		mine, rerr := j.isMine(ctx, id, seq, nonce)
		if rerr != nil {
			return fmt.Errorf("%s: record %d exists (%w) and reading it back failed: %w", what, rec.Seq, err, rerr)
		}
		if !mine {
			j.log.Debug("dynamodb journal append conflict", zap.String("cutover", id), zap.Uint64("seq", rec.Seq))
			return fmt.Errorf("%s: %w: record %d already exists: %w", what, cutover.ErrConflict, rec.Seq, err)
		}
		j.log.Info("dynamodb journal append retried after it had succeeded", zap.String("cutover", id), zap.Uint64("seq", rec.Seq))
	}
	j.see(id, rec.Seq)
	return nil
}

// isMine reports whether the item at seq carries nonce.
func (j *DynamoDBJournal) isMine(ctx context.Context, id, seq, nonce string) (bool, error) {
	if err := j.pace(ctx, "GetItem"); err != nil {
		return false, err
	}
	out, err := j.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(j.table),
		Key:                      dynamoKey(id, seq),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#n"),
		ExpressionAttributeNames: map[string]string{"#n": dynamoAttrNonce},
	}, j.ddbOpt)
	if err != nil {
		return false, err
	}
	return dynamoString(out.Item, dynamoAttrNonce) == nonce, nil
}

// Read returns the records of cutover id with Seq greater than after, in
// order, from a strongly consistent, paginated Query. An item that does not
// decode, or a gap in the sequence, is an error wrapping
// cutover.ErrCorruptJournal that names the cutover and seq.
func (j *DynamoDBJournal) Read(ctx context.Context, id string, after uint64) ([]cutover.Record, error) {
	what := fmt.Sprintf("dynamodb journal %s: read %q", j.table, id)
	if err := checkCutoverID(what, id); err != nil {
		return nil, err
	}
	p := dynamodb.NewQueryPaginator(j.client, &dynamodb.QueryInput{
		TableName:              aws.String(j.table),
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("#c = :c AND #s > :after"),
		ExpressionAttributeNames: map[string]string{
			"#c": JournalPartitionKey,
			"#s": JournalSortKey,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c":     &types.AttributeValueMemberS{Value: id},
			":after": &types.AttributeValueMemberN{Value: strconv.FormatUint(after, 10)},
		},
	})
	var recs []cutover.Record
	next := after + 1
	for p.HasMorePages() {
		if err := j.pace(ctx, "Query"); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out, err := p.NextPage(ctx, j.ddbOpt)
		if err != nil {
			return nil, fmt.Errorf("%s after seq %d: query: %w", what, after, err)
		}
		for _, item := range out.Items {
			rec, err := decodeDynamoRecord(item, next)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			recs = append(recs, rec)
			next++
		}
	}
	if len(recs) > 0 {
		j.see(id, recs[len(recs)-1].Seq)
	}
	return recs, nil
}

// decodeDynamoRecord decodes the item that should hold record want.
func decodeDynamoRecord(item map[string]types.AttributeValue, want uint64) (cutover.Record, error) {
	var rec cutover.Record
	n, ok := item[JournalSortKey].(*types.AttributeValueMemberN)
	if !ok {
		return rec, fmt.Errorf("item after record %d: %w: no number attribute %q", want-1, cutover.ErrCorruptJournal, JournalSortKey)
	}
	seq, err := strconv.ParseUint(n.Value, 10, 64)
	if err != nil {
		return rec, fmt.Errorf("item with seq %q: %w: seq is not a whole number", n.Value, cutover.ErrCorruptJournal)
	}
	if seq != want {
		return rec, fmt.Errorf("seq %d: %w: record %d is missing", seq, cutover.ErrCorruptJournal, want)
	}
	data, ok := item[dynamoAttrRecord].(*types.AttributeValueMemberS)
	if !ok {
		return rec, fmt.Errorf("seq %d: %w: no string attribute %q", seq, cutover.ErrCorruptJournal, dynamoAttrRecord)
	}
	if err := json.Unmarshal([]byte(data.Value), &rec); err != nil {
		return rec, fmt.Errorf("seq %d: %w: decode %q: %w", seq, cutover.ErrCorruptJournal, dynamoAttrRecord, err)
	}
	if rec.Seq != seq {
		return rec, fmt.Errorf("seq %d: %w: the record says seq %d", seq, cutover.ErrCorruptJournal, rec.Seq)
	}
	return rec, nil
}

// hasSeen reports whether record seq of cutover id is known to exist.
func (j *DynamoDBJournal) hasSeen(id string, seq uint64) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seen[id] >= seq
}

// see records that record seq of cutover id exists.
func (j *DynamoDBJournal) see(id string, seq uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.seen[id] >= seq {
		return
	}
	if _, ok := j.seen[id]; !ok && len(j.seen) >= dynamoSeenMax {
		clear(j.seen)
	}
	j.seen[id] = seq
}

// DynamoDBScanAPI is the part of *dynamodb.Client that DynamoDBJournal.List
// needs beyond DynamoDBJournalAPI.
type DynamoDBScanAPI interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ cutover.Lister = (*DynamoDBJournal)(nil)

// List returns the IDs of the cutovers in the table that have records,
// sorted. It is a paginated, strongly consistent Scan for the items with
// seq 1 (projecting only the cutover ID), so it reads, and is billed for,
// the whole table: it is for operators' tools, not for a hot path. The
// client must also implement DynamoDBScanAPI (a *dynamodb.Client does);
// IAM: dynamodb:Scan on the table.
func (j *DynamoDBJournal) List(ctx context.Context) ([]string, error) {
	what := fmt.Sprintf("dynamodb journal %s: list", j.table)
	scanner, ok := j.client.(DynamoDBScanAPI)
	if !ok {
		return nil, fmt.Errorf("%s: the client has no Scan method; want a *dynamodb.Client or a DynamoDBScanAPI", what)
	}
	p := dynamodb.NewScanPaginator(scanner, &dynamodb.ScanInput{
		TableName:                aws.String(j.table),
		ConsistentRead:           aws.Bool(true),
		FilterExpression:         aws.String("#s = :one"),
		ProjectionExpression:     aws.String("#c"),
		ExpressionAttributeNames: map[string]string{"#c": JournalPartitionKey, "#s": JournalSortKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
	})
	var ids []string
	for p.HasMorePages() {
		if err := j.pace(ctx, "Scan"); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out, err := p.NextPage(ctx, j.ddbOpt)
		if err != nil {
			return nil, fmt.Errorf("%s: scan: %w", what, err)
		}
		for _, item := range out.Items {
			if id := dynamoString(item, JournalPartitionKey); id != "" {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}
