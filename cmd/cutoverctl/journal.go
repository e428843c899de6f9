package main

import (
	"context"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/journalflag"
)

// journal is the journal the flags name.
type journal = journalflag.Journal

// openJournal opens the journal that -journal (or $SAFECUTOVER_JOURNAL)
// names: a file journal's existing directory, or dynamodb:TABLE
// (journalflag). A value that cannot name a journal is a usage error; one
// that names a journal that cannot be opened, an error.
func (c *cli) openJournal(ctx context.Context) (journal, error) {
	spec, from := c.journal, "-journal"
	if spec == "" {
		spec, from = c.io.getenv(journalEnv), "$"+journalEnv
	}
	if spec == "" {
		return nil, usageErr("no journal: give -journal DIR (a file journal) or -journal dynamodb:TABLE, or set $%s", journalEnv)
	}
	opts := journalflag.Options{Flag: from, Existing: true, Endpoint: c.endpoint}
	if _, err := journalflag.Parse(spec, opts); err != nil {
		return nil, usageErr("%w", err)
	}
	s, err := journalflag.Open(ctx, spec, opts)
	if err != nil {
		return nil, fail(exitError, "%w", err)
	}
	return s.Journal, nil
}

// openCutover opens the journal and reads the records of cutover id; an
// unknown ID is an error with exit status 6.
func (c *cli) openCutover(ctx context.Context, id string) (journal, []cutover.Record, error) {
	if err := cutover.ValidateID(id); err != nil {
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
