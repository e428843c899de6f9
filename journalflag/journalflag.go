package journalflag

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

// DynamoDBPrefix starts a value that names a DynamoDB table.
const DynamoDBPrefix = "dynamodb:"

// DefaultFlag is the flag named in errors when Options.Flag is empty.
const DefaultFlag = "-journal"

// localRegion is the region given to the SDK for a local endpoint, which
// ignores it; the SDK wants one.
const localRegion = "us-east-1"

// Usage is the usage text of the flag that Register defines.
const Usage = "the journal and its lease: a `DIR`ectory (file journal), or dynamodb:TABLE (DynamoDB journal and lease in one table)"

// Spec is a parsed value: exactly one of Dir and Table is set.
type Spec struct {
	Dir   string // a file journal's directory
	Table string // a DynamoDB table's name
}

// String returns the value Spec was parsed from.
func (s Spec) String() string {
	if s.Table != "" {
		return DynamoDBPrefix + s.Table
	}
	return s.Dir
}

// Options configure Parse and Open. The zero value is valid: a file
// journal is created if its directory does not exist; a DynamoDB table
// must exist, and the AWS configuration is the SDK's default.
type Options struct {
	// Flag names the flag (or variable) in errors, such as "-journal" or
	// "$SAFECUTOVER_JOURNAL". Empty means DefaultFlag.
	Flag string
	// Existing refuses a directory that does not exist rather than
	// creating it: for a command that reads or steers cutovers, where a
	// mistyped directory must not become an empty journal.
	Existing bool
	// CreateTable creates the DynamoDB table if it does not exist.
	// Without it, Open checks that the table exists with the journal's key
	// schema. Only for dynamodb:TABLE.
	CreateTable bool
	// Endpoint is the URL of a DynamoDB-compatible server (a local one in
	// tests); empty means the SDK's endpoint. Without a region configured,
	// a local endpoint gets us-east-1, which it ignores. Only for
	// dynamodb:TABLE.
	Endpoint string
	// AWSConfig is the AWS configuration of the DynamoDB client. Nil means
	// the SDK's default configuration (config.LoadDefaultConfig).
	AWSConfig *aws.Config
	// Logger receives the table helpers', the journal's and the lease's
	// logs. Nil means zap.NewNop().
	Logger *zap.Logger
}

func (o Options) flag() string {
	if o.Flag == "" {
		return DefaultFlag
	}
	return o.Flag
}

// Journal is what Open returns: a journal that can also list its cutovers.
type Journal interface {
	cutover.Journal
	cutover.Lister
}

// Store is an opened journal, and the way to its lease.
type Store struct {
	// Spec is the parsed value.
	Spec Spec
	// Journal is the file or DynamoDB journal.
	Journal Journal

	client *dynamodb.Client
	log    *zap.Logger
	flag   string
}

// Parse checks value and the options that go with it, without I/O: an
// empty value, dynamodb: without a table, a table name DynamoDB would
// refuse, or Endpoint or CreateTable with a directory are errors that name
// the flag and the allowed forms.
func Parse(value string, opts Options) (Spec, error) {
	name := opts.flag()
	table, dynamo := strings.CutPrefix(value, DynamoDBPrefix)
	switch {
	case value == "":
		return Spec{}, fmt.Errorf("%s: empty: want DIR (a file journal) or dynamodb:TABLE", name)
	case !dynamo && opts.Endpoint != "":
		return Spec{}, fmt.Errorf("%s: %q: the DynamoDB endpoint is for dynamodb:TABLE, and this names a directory", name, value)
	case !dynamo && opts.CreateTable:
		return Spec{}, fmt.Errorf("%s: %q: creating a table is for dynamodb:TABLE, and this names a directory", name, value)
	case !dynamo:
		return Spec{Dir: value}, nil
	case table == "":
		return Spec{}, fmt.Errorf("%s: %q: names no table; want dynamodb:TABLE", name, value)
	}
	if err := awsprovider.CheckTableName(table); err != nil {
		return Spec{}, fmt.Errorf("%s: %q: %w", name, value, err)
	}
	return Spec{Table: table}, nil
}

// Open parses value (see Parse) and opens the journal it names. A file
// journal's directory is created unless Options.Existing says it must
// exist. For a DynamoDB table, Open needs an AWS region (from
// Options.AWSConfig or the SDK's default configuration, or us-east-1 for a
// local Endpoint) and checks the table, or creates it with
// Options.CreateTable; so a missing table or one with another key schema
// is an error here, before anything is journaled.
func Open(ctx context.Context, value string, opts Options) (*Store, error) {
	spec, err := Parse(value, opts)
	if err != nil {
		return nil, err
	}
	name := opts.flag()
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Store{Spec: spec, log: log, flag: name}
	if spec.Dir != "" {
		if opts.Existing {
			if err := checkDir(name, spec.Dir); err != nil {
				return nil, err
			}
		}
		j, err := cutover.NewFileJournal(spec.Dir, cutover.FileJournalOptions{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		s.Journal = j
		return s, nil
	}
	if s.client, err = dynamoClient(ctx, spec, opts); err != nil {
		return nil, err
	}
	topts := awsprovider.DynamoDBTableOptions{Logger: log}
	if opts.CreateTable {
		if err := awsprovider.CreateJournalTable(ctx, s.client, spec.Table, topts); err != nil {
			return nil, fmt.Errorf("%s %s: create the table: %w", name, spec, err)
		}
	} else if err := awsprovider.CheckJournalTable(ctx, s.client, spec.Table, topts); err != nil {
		return nil, fmt.Errorf("%s %s: %w (create it with awsprovider.CreateJournalTable, or a program's -create-table)", name, spec, err)
	}
	j, err := awsprovider.NewDynamoDBJournal(s.client, spec.Table, awsprovider.DynamoDBJournalOptions{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.Journal = j
	return s, nil
}

// Lease opens the lease that goes with the journal — the file lease in the
// same directory, or the DynamoDB lease in the same table — judging expiry
// by clock (nil means cutover.RealClock).
func (s *Store) Lease(clock cutover.Clock) (cutover.Lease, error) {
	var (
		l   cutover.Lease
		err error
	)
	if s.Spec.Dir != "" {
		l, err = cutover.NewFileLease(s.Spec.Dir, cutover.FileLeaseOptions{Clock: clock})
	} else {
		l, err = awsprovider.NewDynamoDBLease(s.client, s.Spec.Table, awsprovider.DynamoDBLeaseOptions{Clock: clock, Logger: s.log})
	}
	if err != nil {
		return nil, fmt.Errorf("%s: lease: %w", s.flag, err)
	}
	return l, nil
}

// checkDir requires dir to be an existing directory.
func checkDir(name, dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %s: no such directory: want the directory of an existing file journal, or dynamodb:TABLE", name, dir)
	case err != nil:
		return fmt.Errorf("%s: %s: %w", name, dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%s: %s: not a directory: want the directory of a file journal, or dynamodb:TABLE", name, dir)
	}
	return nil
}

// dynamoClient builds the DynamoDB client from the options, requiring a
// region unless the endpoint is a local server's.
func dynamoClient(ctx context.Context, spec Spec, opts Options) (*dynamodb.Client, error) {
	name := opts.flag()
	var cfg aws.Config
	if opts.AWSConfig != nil {
		cfg = opts.AWSConfig.Copy()
	} else {
		var err error
		if cfg, err = config.LoadDefaultConfig(ctx); err != nil {
			return nil, fmt.Errorf("%s %s: AWS configuration: %w", name, spec, err)
		}
	}
	if cfg.Region == "" {
		if opts.Endpoint == "" {
			return nil, fmt.Errorf("%s %s: no AWS region: set AWS_REGION or a region in the AWS profile", name, spec)
		}
		cfg.Region = localRegion
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	}), nil
}

// Register defines on fs the flag -journal, storing its value in value
// (def is its default; "" means none), and the retired flag
// -dynamodb-table, which only answers with an error that names
// -journal dynamodb:TABLE.
func Register(fs *flag.FlagSet, value *string, def string) {
	fs.StringVar(value, strings.TrimPrefix(DefaultFlag, "-"), def, Usage)
	RegisterRetired(fs)
}

// RegisterRetired defines only the retired flag -dynamodb-table (for a
// program that defines -journal itself, with its own usage text).
func RegisterRetired(fs *flag.FlagSet) {
	fs.Func("dynamodb-table", "retired: use -journal dynamodb:`TABLE`", func(v string) error {
		return fmt.Errorf("retired: use -journal dynamodb:%s", v)
	})
}
