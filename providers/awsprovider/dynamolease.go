package awsprovider

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
)

// DynamoDBLease is a cutover.Lease kept in a DynamoDB table, so that one
// controller process among several, on any machine, drives a cutover.
//
// The lease of cutover id is one item, key (cutover = id, seq = 0), in a
// table with the journal's key schema: the journal's own table (seq 0 is
// never a record) or a table of its own made by CreateJournalTable. Its
// attributes:
//
//	owner       S  the holder
//	expires_ns  N  when the lease ends, Unix nanoseconds, by the lease's clock
//	expires_at  S  the same in RFC 3339, for people reading the table
//
// Acquire is a PutItem under the condition
// attribute_not_exists(cutover) OR owner = :me OR expires_ns <= :now; Renew
// an UpdateItem under owner = :me; Release a DeleteItem under owner = :me.
// A lease is held until its expiry instant (as cutover.MemLease). Like
// cutover.MemLease, Renew by the recorded holder succeeds even after expiry
// as long as nobody else acquired the lease in between: nobody else can have
// driven the cutover meanwhile.
// Expiry is judged by the clock of the process that asks, so the machines'
// clocks must agree to well within the TTL (NTP-synchronised clocks agree to
// milliseconds; TTLs are tens of seconds). IAM: dynamodb:GetItem, PutItem,
// UpdateItem and DeleteItem on the table.
type DynamoDBLease struct {
	awsBase
	client DynamoDBLeaseAPI
	table  string
}

// DynamoDBLeaseOptions configures a DynamoDBLease. The zero value is valid.
type DynamoDBLeaseOptions struct {
	// Clock judges expiry (default cutover.RealClock).
	Clock cutover.Clock
	// Logger receives acquisitions, take-overs and losses (default: no-op).
	Logger *zap.Logger
	// Pacer, if set, is waited on before each API call (default: none).
	Pacer Pacer
	// CallTimeout bounds each attempt of each API call; a timed-out
	// attempt is retried by the client's retryer. ≥ 0; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
}

var _ cutover.Lease = (*DynamoDBLease)(nil)

// dynamoAcquireTries bounds Acquire's retries when the lease changes hands
// between its conditional write and its read of the holder.
const dynamoAcquireTries = 3

// NewDynamoDBLease returns a lease kept in the DynamoDB table named table,
// reached through client (a *dynamodb.Client fits). It makes no call.
func NewDynamoDBLease(client DynamoDBLeaseAPI, table string, opts DynamoDBLeaseOptions) (*DynamoDBLease, error) {
	b, err := newDynamoBase("dynamodb lease", client, table, opts.Logger, opts.Clock, opts.Pacer, opts.CallTimeout)
	if err != nil {
		return nil, err
	}
	return &DynamoDBLease{awsBase: b, client: client, table: table}, nil
}

// leaseHolder is what the lease item says.
type leaseHolder struct {
	owner   string
	expires time.Time
	exists  bool // there is an item
	ok      bool // the item exists and decodes
}

func decodeLease(item map[string]types.AttributeValue) leaseHolder {
	owner := dynamoString(item, dynamoAttrOwner)
	ns, ok := dynamoInt(item, dynamoAttrExpires)
	if owner == "" || !ok {
		return leaseHolder{exists: len(item) > 0}
	}
	return leaseHolder{owner: owner, expires: time.Unix(0, ns), exists: true, ok: true}
}

// malformed is the error for a lease item without a valid owner and expiry.
func (l *DynamoDBLease) malformed(what, id string) error {
	return fmt.Errorf("%s: the lease item (%s %q, %s 0) has no %s (S) and %s (N); is the table used by something else?",
		what, JournalPartitionKey, id, JournalSortKey, dynamoAttrOwner, dynamoAttrExpires)
}

// Acquire makes owner the holder of the lease on id for ttl if it is free,
// expired or already owner's; otherwise it returns an error wrapping
// cutover.ErrLeaseHeld that names the holder and until when it holds it.
func (l *DynamoDBLease) Acquire(ctx context.Context, id, owner string, ttl time.Duration) error {
	what := fmt.Sprintf("dynamodb lease %s: acquire %q for %q", l.table, id, owner)
	if err := l.check(what, id, owner, ttl); err != nil {
		return err
	}
	for try := 1; ; try++ {
		if err := l.pace(ctx, "PutItem"); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		now := l.clock.Now()
		item := dynamoKey(id, dynamoLeaseSeq)
		for k, v := range l.leaseValues(owner, now.Add(ttl)) {
			item[k] = v
		}
		out, err := l.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(l.table),
			Item:                item,
			ConditionExpression: aws.String("attribute_not_exists(#c) OR #o = :o OR #e <= :now"),
			ExpressionAttributeNames: map[string]string{
				"#c": JournalPartitionKey,
				"#o": dynamoAttrOwner,
				"#e": dynamoAttrExpires,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":o":   &types.AttributeValueMemberS{Value: owner},
				":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixNano(), 10)},
			},
			ReturnValues: types.ReturnValueAllOld,
		}, l.ddbOpt)
		if err == nil {
			if prev := decodeLease(out.Attributes); prev.ok && prev.owner != owner {
				l.log.Info("dynamodb lease taken over after expiry", zap.String("cutover", id), zap.String("owner", owner),
					zap.String("previous", prev.owner), zap.Time("previous_expiry", prev.expires))
			} else {
				l.log.Debug("dynamodb lease acquired", zap.String("cutover", id), zap.String("owner", owner))
			}
			return nil
		}
		if !isConditionFailed(err) {
			return fmt.Errorf("%s: put lease: %w", what, err)
		}
		h, rerr := l.holder(ctx, id)
		if rerr != nil {
			return fmt.Errorf("%s: %w (reading the holder failed: %w)", what, cutover.ErrLeaseHeld, rerr)
		}
		if h.exists && !h.ok {
			return l.malformed(what, id)
		}
		if h.ok && h.owner != owner && l.clock.Now().Before(h.expires) {
			return fmt.Errorf("dynamodb lease %s: acquire for %q: %w", l.table, owner, &cutover.LeaseHeldError{ID: id, Holder: h.owner, Expires: h.expires})
		}
		// Released, expired or ours since the write: try again, boundedly.
		if try == dynamoAcquireTries {
			return fmt.Errorf("%s: %w: it changed hands %d times while acquiring", what, cutover.ErrLeaseHeld, try)
		}
	}
}

// Renew extends owner's lease on id to ttl from now. If owner no longer
// holds it (taken over after it expired, or released) it returns an error
// wrapping cutover.ErrLeaseLost.
func (l *DynamoDBLease) Renew(ctx context.Context, id, owner string, ttl time.Duration) error {
	what := fmt.Sprintf("dynamodb lease %s: renew %q for %q", l.table, id, owner)
	if err := l.check(what, id, owner, ttl); err != nil {
		return err
	}
	if err := l.pace(ctx, "UpdateItem"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	exp := l.clock.Now().Add(ttl)
	_, err := l.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(l.table),
		Key:                 dynamoKey(id, dynamoLeaseSeq),
		UpdateExpression:    aws.String("SET #e = :exp, #a = :at"),
		ConditionExpression: aws.String("#o = :o"),
		ExpressionAttributeNames: map[string]string{
			"#o": dynamoAttrOwner,
			"#e": dynamoAttrExpires,
			"#a": dynamoAttrExpAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":o":   &types.AttributeValueMemberS{Value: owner},
			":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(exp.UnixNano(), 10)},
			":at":  &types.AttributeValueMemberS{Value: exp.UTC().Format(time.RFC3339Nano)},
		},
	}, l.ddbOpt)
	if err == nil {
		return nil
	}
	if !isConditionFailed(err) {
		return fmt.Errorf("%s: update lease: %w", what, err)
	}
	l.log.Warn("dynamodb lease lost", zap.String("cutover", id), zap.String("owner", owner))
	h, rerr := l.holder(ctx, id)
	switch {
	case rerr != nil:
		return fmt.Errorf("%s: %w (reading the holder failed: %w)", what, cutover.ErrLeaseLost, rerr)
	case h.exists && !h.ok:
		return fmt.Errorf("%w: %w", l.malformed(what, id), cutover.ErrLeaseLost)
	case !h.ok:
		return fmt.Errorf("%s: %w: the lease is free (released or never acquired)", what, cutover.ErrLeaseLost)
	case h.owner != owner:
		return fmt.Errorf("%s: %w: now held by %q until %s", what, cutover.ErrLeaseLost, h.owner, h.expires.UTC().Format(time.RFC3339Nano))
	default: // released and acquired again by owner meanwhile
		return fmt.Errorf("%s: %w: the lease changed hands while renewing", what, cutover.ErrLeaseLost)
	}
}

// Release frees owner's lease on id. If owner does not hold it, nothing
// changes and Release returns nil.
func (l *DynamoDBLease) Release(ctx context.Context, id, owner string) error {
	what := fmt.Sprintf("dynamodb lease %s: release %q for %q", l.table, id, owner)
	if err := l.check(what, id, owner, time.Second); err != nil {
		return err
	}
	if err := l.pace(ctx, "DeleteItem"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err := l.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(l.table),
		Key:                       dynamoKey(id, dynamoLeaseSeq),
		ConditionExpression:       aws.String("#o = :o"),
		ExpressionAttributeNames:  map[string]string{"#o": dynamoAttrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: owner}},
	}, l.ddbOpt)
	switch {
	case err == nil:
		l.log.Debug("dynamodb lease released", zap.String("cutover", id), zap.String("owner", owner))
		return nil
	case isConditionFailed(err):
		return nil
	default:
		return fmt.Errorf("%s: delete lease: %w", what, err)
	}
}

// check validates the arguments common to the lease's methods.
func (l *DynamoDBLease) check(what, id, owner string, ttl time.Duration) error {
	if err := checkCutoverID(what, id); err != nil {
		return err
	}
	if owner == "" {
		return fmt.Errorf("%s: owner is empty", what)
	}
	if ttl <= 0 {
		return fmt.Errorf("%s: ttl is %s; it must be positive", what, ttl)
	}
	return nil
}

// leaseValues are the lease item's attributes for owner until expires.
func (l *DynamoDBLease) leaseValues(owner string, expires time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		dynamoAttrOwner:   &types.AttributeValueMemberS{Value: owner},
		dynamoAttrExpires: &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.UnixNano(), 10)},
		dynamoAttrExpAt:   &types.AttributeValueMemberS{Value: expires.UTC().Format(time.RFC3339Nano)},
	}
}

// holder reads the lease item of id (strongly consistent).
func (l *DynamoDBLease) holder(ctx context.Context, id string) (leaseHolder, error) {
	if err := l.pace(ctx, "GetItem"); err != nil {
		return leaseHolder{}, err
	}
	out, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(l.table),
		Key:            dynamoKey(id, dynamoLeaseSeq),
		ConsistentRead: aws.Bool(true),
	}, l.ddbOpt)
	if err != nil {
		return leaseHolder{}, err
	}
	return decodeLease(out.Item), nil
}
