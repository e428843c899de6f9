package awsprovider

// The DynamoDB table shared by DynamoDBJournal and DynamoDBLease: its schema,
// the helpers that create and check it, and the client interfaces.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
)

// The key of a journal table. Both attributes are the table's primary key:
// JournalPartitionKey (type S) is the cutover ID, JournalSortKey (type N) the
// record's sequence number. Records use seq 1, 2, 3, ...; the lease of a
// cutover, when kept in the same table, is the item with seq 0.
const (
	JournalPartitionKey = "cutover"
	JournalSortKey      = "seq"
)

// Attribute names of the items other than the key.
const (
	dynamoAttrRecord  = "record"     // S: the cutover.Record as JSON
	dynamoAttrNonce   = "nonce"      // S: random per Append call, to recognise our own write
	dynamoAttrOwner   = "owner"      // S: lease holder
	dynamoAttrExpires = "expires_ns" // N: lease expiry, Unix nanoseconds, by the lease's clock
	dynamoAttrExpAt   = "expires_at" // S: the same as RFC 3339, for people reading the table
	dynamoLeaseSeq    = "0"          // sort key of the lease item
	dynamoDefaultWait = 5 * time.Minute
)

// newDynamoBase checks what a DynamoDB journal or lease is built from —
// a client, the table's name, the call timeout — and returns its base;
// what names the store in errors ("dynamodb journal").
func newDynamoBase(what string, client any, table string, log *zap.Logger, clock cutover.Clock, pacer Pacer, callTimeout time.Duration) (awsBase, error) {
	if client == nil {
		return awsBase{}, fmt.Errorf("%s: client is nil", what)
	}
	if err := CheckTableName(table); err != nil {
		return awsBase{}, fmt.Errorf("%s: %w", what, err)
	}
	b := newAWSBase(log, clock, pacer)
	if err := b.setCallTimeout(what+": CallTimeout", callTimeout); err != nil {
		return awsBase{}, err
	}
	return b, nil
}

// DynamoDBJournalAPI is the part of *dynamodb.Client a DynamoDBJournal uses.
type DynamoDBJournalAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// DynamoDBLeaseAPI is the part of *dynamodb.Client a DynamoDBLease uses.
type DynamoDBLeaseAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// DynamoDBTableAPI is the part of *dynamodb.Client that CreateJournalTable
// and CheckJournalTable use.
type DynamoDBTableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var (
	_ DynamoDBJournalAPI = (*dynamodb.Client)(nil)
	_ DynamoDBLeaseAPI   = (*dynamodb.Client)(nil)
	_ DynamoDBTableAPI   = (*dynamodb.Client)(nil)
)

// TableSchemaError reports a DynamoDB table whose key schema is not the
// journal's: partition key "cutover" of type S and sort key "seq" of type N.
type TableSchemaError struct {
	Table string
	// Got describes the table's key schema, e.g. "id (S, HASH)".
	Got string
}

// Error names the table and the key schema it has and should have.
func (e *TableSchemaError) Error() string {
	return fmt.Sprintf("dynamodb table %q: key schema is %s; want partition key %q (S) and sort key %q (N)",
		e.Table, e.Got, JournalPartitionKey, JournalSortKey)
}

// DynamoDBTableOptions configures CreateJournalTable and CheckJournalTable.
// The zero value is valid.
type DynamoDBTableOptions struct {
	// MaxWait bounds the wait for the table to become ACTIVE (default 5m).
	MaxWait time.Duration
	// Logger receives what was done (default: no-op).
	Logger *zap.Logger
}

// CreateJournalTable creates the DynamoDB table that DynamoDBJournal and
// DynamoDBLease use, with on-demand billing, and waits (at most
// opts.MaxWait, and while ctx lasts) until it is ACTIVE. If the table
// already exists it is not changed: CreateJournalTable waits for it and
// checks its key schema like CheckJournalTable.
//
// The key schema is partition key "cutover" (S) and sort key "seq" (N); see
// DynamoDBJournal for the items. Creating the table needs the IAM actions
// dynamodb:CreateTable and dynamodb:DescribeTable.
func CreateJournalTable(ctx context.Context, client DynamoDBTableAPI, table string, opts DynamoDBTableOptions) error {
	if err := CheckTableName(table); err != nil {
		return err
	}
	if client == nil {
		return errors.New("create dynamodb table: client is nil")
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(JournalPartitionKey), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(JournalSortKey), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(JournalPartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(JournalSortKey), KeyType: types.KeyTypeRange},
		},
	})
	switch {
	case err == nil:
		log.Info("dynamodb journal table created", zap.String("table", table))
	case apiErrorCode(err) == "ResourceInUseException":
		log.Info("dynamodb journal table exists", zap.String("table", table))
	default:
		return fmt.Errorf("create dynamodb table %q: %w", table, err)
	}
	return CheckJournalTable(ctx, client, table, opts)
}

// CheckJournalTable waits (at most opts.MaxWait) until table is ACTIVE and
// checks that its key schema is the journal's. A table with another key
// schema is a *TableSchemaError naming the table; a missing table is an
// error wrapping the SDK's *types.ResourceNotFoundException.
func CheckJournalTable(ctx context.Context, client DynamoDBTableAPI, table string, opts DynamoDBTableOptions) error {
	if err := CheckTableName(table); err != nil {
		return err
	}
	if client == nil {
		return errors.New("check dynamodb table: client is nil")
	}
	maxWait := opts.MaxWait
	if maxWait <= 0 {
		maxWait = dynamoDefaultWait
	}
	in := &dynamodb.DescribeTableInput{TableName: aws.String(table)}
	// A table that does not exist is an error at once, not something to
	// wait for: the waiter would retry ResourceNotFoundException.
	if _, err := client.DescribeTable(ctx, in); err != nil {
		return fmt.Errorf("describe dynamodb table %q: %w", table, err)
	}
	out, err := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 5 * time.Second
	}).WaitForOutput(ctx, in, maxWait)
	if err != nil {
		return fmt.Errorf("wait for dynamodb table %q to be ACTIVE (at most %s): %w", table, maxWait, err)
	}
	return checkKeySchema(table, out.Table)
}

// checkKeySchema compares a table's key schema with the journal's.
func checkKeySchema(table string, d *types.TableDescription) error {
	if d == nil {
		return &TableSchemaError{Table: table, Got: "unknown (no table description)"}
	}
	attrTypes := map[string]types.ScalarAttributeType{}
	for _, a := range d.AttributeDefinitions {
		attrTypes[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	want := []types.KeySchemaElement{
		{AttributeName: aws.String(JournalPartitionKey), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String(JournalSortKey), KeyType: types.KeyTypeRange},
	}
	wantTypes := []types.ScalarAttributeType{types.ScalarAttributeTypeS, types.ScalarAttributeTypeN}
	var got []string
	ok := len(d.KeySchema) == len(want)
	for i, k := range d.KeySchema {
		name := aws.ToString(k.AttributeName)
		got = append(got, fmt.Sprintf("%s (%s, %s)", name, attrTypes[name], k.KeyType))
		if i < len(want) && (name != *want[i].AttributeName || k.KeyType != want[i].KeyType || attrTypes[name] != wantTypes[i]) {
			ok = false
		}
	}
	if !ok {
		if len(got) == 0 {
			got = []string{"empty"}
		}
		return &TableSchemaError{Table: table, Got: strings.Join(got, ", ")}
	}
	return nil
}

// CheckTableName applies DynamoDB's rules for table names (3 to 255
// characters of a-z, A-Z, 0-9, '_', '-' and '.'), so a bad name is
// reported before any call is made.
func CheckTableName(table string) error {
	if len(table) < 3 || len(table) > 255 {
		return fmt.Errorf("dynamodb table name %q: must be 3 to 255 characters long", table)
	}
	for _, r := range table {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return fmt.Errorf("dynamodb table name %q: character %q not allowed; use a-z, A-Z, 0-9, '_', '-', '.'", table, r)
		}
	}
	return nil
}

// checkCutoverID applies the cutover ID rules every journal shares
// (cutover.ValidateID); they keep IDs far below DynamoDB's 2048-byte
// limit for a partition key.
func checkCutoverID(what, id string) error {
	if err := cutover.ValidateID(id); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// dynamoKey is the primary key of the item of cutover id at seq.
func dynamoKey(id, seq string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		JournalPartitionKey: &types.AttributeValueMemberS{Value: id},
		JournalSortKey:      &types.AttributeValueMemberN{Value: seq},
	}
}

// isConditionFailed reports whether a conditional write was refused.
func isConditionFailed(err error) bool {
	return apiErrorCode(err) == "ConditionalCheckFailedException"
}

// dynamoString returns the string attribute name of item ("" if absent).
func dynamoString(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// dynamoInt returns the number attribute name of item as an int64.
func dynamoInt(item map[string]types.AttributeValue, name string) (int64, bool) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	return n, err == nil
}

// dynamoNonce returns a random token.
func dynamoNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
