package awsprovider_test

import (
	"context"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

// Share cutovers between controller processes on several machines: the
// journal and the lease live in one DynamoDB table. (This example needs AWS,
// or dynalite, so it is compiled but not run; the DynamoDB tests run the
// same calls against dynalite.)
func ExampleNewDynamoDBJournal() {
	ctx := context.Background()
	// Usually dynamodb.NewFromConfig(cfg), with cfg from the SDK's
	// config.LoadDefaultConfig (region and credentials the usual way).
	client := dynamodb.New(dynamodb.Options{Region: "eu-west-1"})

	// Once per account and region (or make the table with your IaC and
	// call CheckJournalTable instead).
	if err := awsprovider.CreateJournalTable(ctx, client, "safecutover", awsprovider.DynamoDBTableOptions{}); err != nil {
		log.Fatal(err)
	}
	journal, err := awsprovider.NewDynamoDBJournal(client, "safecutover", awsprovider.DynamoDBJournalOptions{})
	if err != nil {
		log.Fatal(err)
	}
	lease, err := awsprovider.NewDynamoDBLease(client, "safecutover", awsprovider.DynamoDBLeaseOptions{})
	if err != nil {
		log.Fatal(err)
	}

	// The runner journals every intent and outcome to the table and holds
	// the lease while it drives; a second controller running the same
	// cutover gets cutover.ErrLeaseHeld until this one stops renewing.
	runner := cutover.MustNewRunner(journal, cutover.RunnerOptions{Lease: lease, LeaseTTL: 30 * time.Second})
	_ = runner // runner.Run(ctx, "orders-2025-03", plan)

	// Or by hand:
	if err := lease.Acquire(ctx, "orders-2025-03", "controller-1", 30*time.Second); err != nil {
		log.Fatal(err) // wraps cutover.ErrLeaseHeld, naming the holder
	}
	defer lease.Release(ctx, "orders-2025-03", "controller-1")
	err = journal.Append(ctx, "orders-2025-03", cutover.Record{Seq: 1, Type: cutover.RecStart, Time: time.Now(), Plan: "orders"})
	if err != nil {
		log.Fatal(err) // wraps cutover.ErrConflict if seq 1 was taken
	}
}
