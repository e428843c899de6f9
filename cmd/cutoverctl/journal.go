package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider"
)

// dynamoPrefix starts a journal that names a DynamoDB table.
const dynamoPrefix = "dynamodb:"

// journal is the journal the flags name.
type journal interface {
	cutover.Journal
	cutover.Lister
}

// openJournal opens the journal that -journal (or $SAFECUTOVER_JOURNAL)
// names: a file journal's existing directory, or dynamodb:TABLE.
func (c *cli) openJournal(ctx context.Context) (journal, error) {
	spec, from := c.journal, "-journal"
	if spec == "" {
		spec, from = c.io.getenv(journalEnv), "$"+journalEnv
	}
	if spec == "" {
		return nil, usageErr("no journal: give -journal DIR (a file journal) or -journal dynamodb:TABLE, or set $%s", journalEnv)
	}
	table, dynamo := strings.CutPrefix(spec, dynamoPrefix)
	if !dynamo {
		if c.endpoint != "" {
			return nil, usageErr("-endpoint is for a DynamoDB journal (dynamodb:TABLE); %s is %q, a directory", from, spec)
		}
		fi, err := os.Stat(spec)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fail(exitError, "%s %s: no such directory; want the directory of a file journal, or dynamodb:TABLE", from, spec)
		case err != nil:
			return nil, fail(exitError, "%s %s: %w", from, spec, err)
		case !fi.IsDir():
			return nil, fail(exitError, "%s %s: not a directory; want the directory of a file journal, or dynamodb:TABLE", from, spec)
		}
		j, err := cutover.NewFileJournal(spec, cutover.FileJournalOptions{})
		if err != nil {
			return nil, fail(exitError, "%s: %w", from, err)
		}
		return j, nil
	}
	if table == "" {
		return nil, usageErr("%s %q names no table; want dynamodb:TABLE", from, spec)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fail(exitError, "%s %s: AWS configuration: %w", from, spec, err)
	}
	if cfg.Region == "" {
		if c.endpoint == "" {
			return nil, fail(exitError, "%s %s: no AWS region: set AWS_REGION or a region in the AWS profile", from, spec)
		}
		cfg.Region = "us-east-1" // a local server ignores it; the SDK wants one
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if c.endpoint != "" {
			o.BaseEndpoint = aws.String(c.endpoint)
		}
	})
	j, err := awsprovider.NewDynamoDBJournal(client, table, awsprovider.DynamoDBJournalOptions{})
	if err != nil {
		return nil, usageErr("%s: %w", from, err)
	}
	return j, nil
}

// openCutover opens the journal and reads the records of cutover id; an
// unknown ID is an error with exit status 6.
func (c *cli) openCutover(ctx context.Context, id string) (journal, []cutover.Record, error) {
	if err := cutover.ValidateCutoverID(id); err != nil {
		return nil, nil, usageErr("%s: cutover ID: %w", c.name, err)
	}
	j, err := c.openJournal(ctx)
	if err != nil {
		return nil, nil, err
	}
	recs, err := j.Read(ctx, id, 0)
	if err != nil {
		return nil, nil, fail(exitError, "read cutover %s: %w", id, err)
	}
	if len(recs) == 0 {
		return nil, nil, fail(exitNotFound, "no cutover %q in the journal; cutoverctl list shows the cutovers it holds", id)
	}
	return j, recs, nil
}
