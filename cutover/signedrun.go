package cutover

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// take checks rec against RunnerOptions.Approvers, when set, and folds it in:
// a refused command takes its Seq and changes nothing else, and waits for
// its answer (the refusal) like any command.
func (d *drive) take(ctx context.Context, rec *Record) error {
	if d.o.Approvers == nil {
		return d.fold(rec)
	}
	if err := d.vet(ctx, rec); err != nil {
		return err
	}
	if rec.Type == RecCommand && d.refused[rec.Seq] != nil {
		if err := d.st.skip(rec); err != nil {
			return err
		}
		d.unacked = append(d.unacked, takenCommand{rec: *rec, baking: d.baking()})
		return nil
	}
	if err := d.fold(rec); err != nil {
		return err
	}
	if rec.Type == RecAck {
		delete(d.refused, rec.Ref)
		delete(d.signers, rec.Ref)
	}
	return nil
}

// vet checks the signature of a start or command record, in journal
// order. A start that does not verify stops the runner: a cutover whose
// initiator is not known by key is not driven with approvers configured.
func (d *drive) vet(ctx context.Context, rec *Record) error {
	if d.refused == nil {
		d.refused = make(map[uint64]*RefusedError)
		d.signers = make(map[uint64]Identity)
	}
	switch {
	case rec.Type == RecStart && rec.Seq == 1:
		d.chk = d.o.Approvers.newChecker(d.id, rec)
		who, err := d.chk.check(ctx, rec)
		if err != nil {
			return fmt.Errorf("cutover %s: start by %q: %w", d.id, rec.Actor, err)
		}
		d.signers[rec.Seq] = who
	case rec.Type == RecCommand && d.chk != nil:
		who, err := d.chk.check(ctx, rec)
		var re *RefusedError
		switch {
		case errors.As(err, &re):
			d.refused[rec.Seq] = re
			d.log.Warn("command refused", zap.String("cutover", d.id), zap.Uint64("seq", rec.Seq),
				zap.String("command", string(rec.Command)), zap.String("actor", rec.Actor), zap.String("refusal", re.Error()))
		case err != nil:
			return fmt.Errorf("cutover %s: command seq %d: %w", d.id, rec.Seq, err)
		default:
			d.signers[rec.Seq] = who
		}
	}
	if d.chk != nil {
		d.chk.see(rec)
	}
	return nil
}

// signStart signs the start record with RunnerOptions.Signer and checks it as
// a later run will, before anything is journaled.
func (d *drive) signStart(ctx context.Context, start *Record) error {
	if d.o.Approvers == nil {
		return nil
	}
	start.Seq, start.Time = 1, d.clock.Now()
	if err := SignCommand(ctx, d.o.Signer, d.id, PlanHash(*start), start); err != nil {
		return fmt.Errorf("cutover %s: %w", d.id, err)
	}
	if _, err := d.o.Approvers.newChecker(d.id, start).check(ctx, start); err != nil {
		return fmt.Errorf("cutover %s: start by %q: %w", d.id, start.Actor, err)
	}
	return nil
}
