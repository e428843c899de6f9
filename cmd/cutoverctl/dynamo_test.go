package main

// The scenarios against a DynamoDB journal: dynalite (a DynamoDB-compatible
// server on 127.0.0.1) named by SAFECUTOVER_DYNAMODB_ENDPOINT. By hand:
//
//	npm ci --prefix tools/dynalite && tools/dynalite/start.sh 18100
//	SAFECUTOVER_DYNAMODB_ENDPOINT=http://127.0.0.1:18100 go test ./cmd/cutoverctl -run DynamoDB

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// dynamoBackend creates a journal table of the test's own on the local
// server (deleted when the test ends), or skips the test when there is
// none.
func dynamoBackend(t *testing.T) backend {
	t.Helper()
	ep := awstest.DynamoDBEndpoint(t)
	client := awstest.DynamoDBClient(ep)
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "cutoverctl-test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := awsprovider.CreateJournalTable(ctx, client, table, awsprovider.DynamoDBTableOptions{MaxWait: 20 * time.Second}); err != nil {
		t.Fatalf("CreateJournalTable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Logf("delete table %s: %v", table, err)
		}
	})
	j, err := awsprovider.NewDynamoDBJournal(client, table, awsprovider.DynamoDBJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The binaries find credentials and region the SDK's usual way; keep
	// them from this machine's AWS configuration.
	none := filepath.Join(t.TempDir(), "none")
	return backend{
		args: []string{"-journal", "dynamodb:" + table, "-endpoint", ep},
		env: []string{
			"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_SESSION_TOKEN=",
			"AWS_REGION=us-east-1", "AWS_PROFILE=", "AWS_CONFIG_FILE=" + none,
			"AWS_SHARED_CREDENTIALS_FILE=" + none, "AWS_EC2_METADATA_DISABLED=true",
		},
		j: j,
	}
}

func TestDynamoDBJournal(t *testing.T) {
	t.Parallel()
	runScenarios(t, dynamoBackend, []scenario{
		{"approve at the PNR", testApproveAtPNR},
		{"abort mid-bake", testAbortMidBake},
		{"unknown ID", testUnknownID},
		{"pause and resume", testPauseResume},
		{"promote", testPromote},
	})
}
