package journalflag_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/journalflag"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
		opts  journalflag.Options
		want  journalflag.Spec
		err   string
	}{
		{name: "directory", value: ".safecutover", want: journalflag.Spec{Dir: ".safecutover"}},
		{name: "table", value: "dynamodb:cutovers", want: journalflag.Spec{Table: "cutovers"}},
		{name: "table with endpoint and create", value: "dynamodb:a.b-c_d", opts: journalflag.Options{Endpoint: "http://127.0.0.1:1", CreateTable: true}, want: journalflag.Spec{Table: "a.b-c_d"}},
		{name: "empty", value: "", err: "-journal: empty: want DIR (a file journal) or dynamodb:TABLE"},
		{name: "no table", value: "dynamodb:", err: `-journal: "dynamodb:": names no table; want dynamodb:TABLE`},
		{name: "short table", value: "dynamodb:ab", err: `-journal: "dynamodb:ab": dynamodb table name "ab"`},
		{name: "bad character", value: "dynamodb:a/b/c", err: `-journal: "dynamodb:a/b/c": dynamodb table name "a/b/c": character '/'`},
		{name: "endpoint with directory", value: "d", opts: journalflag.Options{Endpoint: "http://127.0.0.1:1"}, err: `-journal: "d": the DynamoDB endpoint is for dynamodb:TABLE`},
		{name: "create with directory", value: "d", opts: journalflag.Options{CreateTable: true}, err: `-journal: "d": creating a table is for dynamodb:TABLE`},
		{name: "named variable", value: "dynamodb:", opts: journalflag.Options{Flag: "$SAFECUTOVER_JOURNAL"}, err: `$SAFECUTOVER_JOURNAL: "dynamodb:"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := journalflag.Parse(tt.value, tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse(%q) = %v, %v; want an error containing %q", tt.value, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", tt.value, got, err, tt.want)
			}
			if got.String() != tt.value {
				t.Errorf("String() = %q, want %q", got.String(), tt.value)
			}
		})
	}
}

// TestRegister: -journal takes its value; the retired -dynamodb-table
// answers with an error naming the flag that replaced it.
func TestRegister(t *testing.T) {
	t.Parallel()
	newFlags := func() (*flag.FlagSet, *string) {
		fs := flag.NewFlagSet("tool", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var v string
		journalflag.Register(fs, &v, ".safecutover")
		return fs, &v
	}
	fs, v := newFlags()
	if err := fs.Parse(nil); err != nil || *v != ".safecutover" {
		t.Fatalf("no flags: %v, journal %q; want the default .safecutover", err, *v)
	}
	fs, v = newFlags()
	if err := fs.Parse([]string{"-journal", "dynamodb:cutovers"}); err != nil || *v != "dynamodb:cutovers" {
		t.Fatalf("-journal dynamodb:cutovers: %v, journal %q", err, *v)
	}
	fs, _ = newFlags()
	err := fs.Parse([]string{"-dynamodb-table", "cutovers"})
	if err == nil || !strings.Contains(err.Error(), "use -journal dynamodb:cutovers") {
		t.Fatalf("-dynamodb-table cutovers: %v; want an error naming -journal dynamodb:cutovers", err)
	}
}

// useStore appends a record through the store's journal, reads it back,
// lists the cutover and takes the lease: what a runner does with it.
func useStore(t *testing.T, s *journalflag.Store, id string) {
	t.Helper()
	ctx := t.Context()
	rec := cutover.Record{Seq: 1, Type: cutover.RecStart, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Plan: "p"}
	if err := s.Journal.Append(ctx, id, rec); err != nil {
		t.Fatalf("Append: %v", err)
	}
	recs, err := s.Journal.Read(ctx, id, 0)
	if err != nil || len(recs) != 1 || recs[0].Type != cutover.RecStart {
		t.Fatalf("Read = %v, %v; want the one record appended", recs, err)
	}
	ids, err := s.Journal.List(ctx)
	if err != nil || !slices.Contains(ids, id) {
		t.Fatalf("List = %v, %v; want %s among them", ids, err, id)
	}
	clock := cutover.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l, err := s.Lease(clock)
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	if err := l.Acquire(ctx, id, "a", time.Minute); err != nil {
		t.Fatalf("Acquire by a: %v", err)
	}
	other, err := s.Lease(clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Acquire(ctx, id, "b", time.Minute); !errors.Is(err, cutover.ErrLeaseHeld) {
		t.Fatalf("Acquire by b through a second lease = %v; want ErrLeaseHeld: both leases are one", err)
	}
}

func TestOpenFileJournal(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "journal")
	s, err := journalflag.Open(t.Context(), dir, journalflag.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	if s.Spec.Dir != dir {
		t.Errorf("Spec = %+v, want Dir %s", s.Spec, dir)
	}
	useStore(t, s, "c1")
	if _, err := os.Stat(filepath.Join(dir, "c1.lease")); err != nil {
		t.Errorf("the lease is not in the journal's directory: %v", err)
	}
	// Existing: the directory now exists, so it opens again.
	if _, err := journalflag.Open(t.Context(), dir, journalflag.Options{Existing: true}); err != nil {
		t.Errorf("Open(existing %s): %v", dir, err)
	}
}

func TestOpenFileJournalRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name, value string
		opts        journalflag.Options
		err         string
	}{
		{"missing directory", missing, journalflag.Options{Existing: true, Flag: "-j"}, "-j: " + missing + ": no such directory: want the directory of an existing file journal, or dynamodb:TABLE"},
		{"a file", file, journalflag.Options{Existing: true}, "-journal: " + file + ": not a directory"},
		{"no table", "dynamodb:", journalflag.Options{}, "names no table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := journalflag.Open(t.Context(), tt.value, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Open(%q) = %v, %v; want an error containing %q", tt.value, s, err, tt.err)
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open with Existing created %s: %v", missing, err)
	}
}

// TestOpenDynamoDBNeedsRegion: with no region and no local endpoint, Open
// says so before any call.
func TestOpenDynamoDBNeedsRegion(t *testing.T) {
	t.Parallel()
	cfg := aws.Config{Credentials: localCredentials()}
	_, err := journalflag.Open(t.Context(), "dynamodb:cutovers", journalflag.Options{AWSConfig: &cfg})
	if err == nil || !strings.Contains(err.Error(), "-journal dynamodb:cutovers: no AWS region: set AWS_REGION") {
		t.Fatalf("Open without a region = %v; want an error asking for AWS_REGION", err)
	}
}

func localCredentials() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "journalflag tests"}, nil
	})
}

// TestOpenDynamoDB opens a DynamoDB journal and lease on the local server:
// without CreateTable a missing table is refused; with it the table is
// created; then the journal, its listing and the lease work, and a second
// Open finds the table.
func TestOpenDynamoDB(t *testing.T) {
	t.Parallel()
	ep := awstest.DynamoDBEndpoint(t)
	cfg := aws.Config{Credentials: localCredentials()} // no region: the local endpoint supplies one
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "journalflag-test-" + hex.EncodeToString(b[:])
	value := "dynamodb:" + table
	opts := journalflag.Options{Endpoint: ep, AWSConfig: &cfg}

	_, err := journalflag.Open(t.Context(), value, opts)
	var missing *types.ResourceNotFoundException
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "-journal "+value) {
		t.Fatalf("Open of a missing table = %v; want ResourceNotFoundException naming -journal %s", err, value)
	}

	create := opts
	create.CreateTable = true
	s, err := journalflag.Open(t.Context(), value, create)
	if err != nil {
		t.Fatalf("Open with CreateTable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client := dynamodb.New(dynamodb.Options{BaseEndpoint: aws.String(ep), Region: "us-east-1", Credentials: localCredentials()})
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Logf("delete table %s: %v", table, err)
		}
	})
	if s.Spec.Table != table {
		t.Errorf("Spec = %+v, want Table %s", s.Spec, table)
	}
	useStore(t, s, "c1")

	again, err := journalflag.Open(t.Context(), value, opts)
	if err != nil {
		t.Fatalf("Open of the existing table: %v", err)
	}
	recs, err := again.Journal.Read(t.Context(), "c1", 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Read through a second Open = %v, %v; want the record the first appended", recs, err)
	}
}
