package cutover

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
)

// maxSendTries bounds how often Send retries a lost race.
const maxSendTries = 20

// Send appends a command for cutover id to j on behalf of actor, with the
// reason given; stage names the stage an approval is for (empty: every
// approval point of the cutover, the PNR included). It retries a lost race
// on the sequence number a bounded number of times. A runner driving the
// cutover obeys it within one poll interval and answers it (RecAck).
//
// Send validates the command against the journal before it writes
// anything: the cutover must have been started (its journal has records)
// and not have ended (an error wrapping ErrEnded); a stage, if named, must
// be one of the plan's; approve and abort need an actor, abort a reason;
// an approval must pass CheckApproval (the two-person rule, a window not
// yet closed). A refusal is an error naming the field, and nothing is
// written. The command is stamped with the wall clock.
func Send(ctx context.Context, j Journal, id string, cmd Command, actor, reason, stage string) error {
	_, err := SendSeq(ctx, j, id, cmd, actor, reason, stage)
	return err
}

// SendSeq is Send, returning the Seq of the command's record, which the
// runner's answer (a RecAck) names in its Ref.
func SendSeq(ctx context.Context, j Journal, id string, cmd Command, actor, reason, stage string) (uint64, error) {
	return send(ctx, j, id, cmd, actor, reason, stage, nil)
}

// SendSigned is SendSeq with the command signed by s as actor (see
// SignCommand), for a runner with RunnerOptions.Approvers: the signature binds
// the command to this cutover, its plan, the stage named, the actor, the
// reason and the time, with a nonce that makes it single-use.
func SendSigned(ctx context.Context, j Journal, id string, cmd Command, actor, reason, stage string, s Signer) (uint64, error) {
	if s == nil {
		return 0, fmt.Errorf("send %s to cutover %s: signer: nil", cmd, id)
	}
	if actor == "" {
		return 0, fmt.Errorf("send %s to cutover %s: actor: empty; a signed command names who signs it", cmd, id)
	}
	return send(ctx, j, id, cmd, actor, reason, stage, s)
}

func send(ctx context.Context, j Journal, id string, cmd Command, actor, reason, stage string, s Signer) (uint64, error) {
	if j == nil {
		return 0, errors.New("send: journal is nil")
	}
	if id == "" {
		return 0, errors.New("send: cutover id: empty")
	}
	switch cmd {
	case CmdPause, CmdResume, CmdPromote, CmdAbort, CmdApprove:
	default:
		return 0, fmt.Errorf("send to cutover %s: cmd: %q unknown; want pause, resume, promote, abort or approve", id, cmd)
	}
	if actor == "" && (cmd == CmdApprove || cmd == CmdAbort) {
		return 0, fmt.Errorf("send %s to cutover %s: actor: empty; want who sends it", cmd, id)
	}
	if reason == "" && cmd == CmdAbort {
		return 0, fmt.Errorf("send abort to cutover %s: reason: empty; want why the cutover is rolled back", id)
	}
	recs, err := j.Read(ctx, id, 0)
	if err != nil {
		return 0, fmt.Errorf("send %s to cutover %s: %w", cmd, id, err)
	}
	if len(recs) == 0 {
		return 0, fmt.Errorf("send %s to cutover %s: no such cutover (its journal is empty)", cmd, id)
	}
	st, err := Fold(id, recs)
	if err != nil {
		return 0, fmt.Errorf("send %s to cutover %s: %w", cmd, id, err)
	}
	if st.Phase == PhaseCompleted || st.Phase == PhaseRolledBack {
		return 0, fmt.Errorf("send %s to cutover %s: it %s at %s: %w", cmd, id, strings.ReplaceAll(string(st.Phase), "_", " "), st.Updated.UTC().Format(time.RFC3339), ErrEnded)
	}
	last := recs[len(recs)-1].Seq
	// A journal's times never go backwards: a runner on an accelerated or
	// skewed clock may have stamped its records ahead of this wall clock.
	now := time.Now()
	if t := recs[len(recs)-1].Time; t.After(now) {
		now = t
	}
	rec := Record{Type: RecCommand, Time: now, Command: cmd, Actor: actor, Reason: reason, Stage: stage}
	p, err := JournalPlan(recs)
	if err != nil && !errors.Is(err, ErrNoOutline) {
		return 0, fmt.Errorf("send %s to cutover %s: %w", cmd, id, err)
	}
	if stage != "" && p.index(stage) < 0 {
		return 0, fmt.Errorf("send %s to cutover %s: stage: %q: plan %q has no such stage; want one of %q", cmd, id, stage, p.Name, p.names())
	}
	if s != nil {
		if err := SignCommand(ctx, s, id, PlanHash(recs[0]), &rec); err != nil {
			return 0, fmt.Errorf("send %s to cutover %s: %w", cmd, id, err)
		}
	}
	if cmd == CmdApprove {
		if err := CheckApproval(&p, &st, &rec); err != nil {
			return 0, fmt.Errorf("send approve to cutover %s: refused: %w", id, err)
		}
	}
	for try := 1; ; try++ {
		rec.Seq = last + 1
		err := j.Append(ctx, id, rec)
		if err == nil {
			return rec.Seq, nil
		}
		if !errors.Is(err, ErrConflict) || try >= maxSendTries {
			return 0, fmt.Errorf("send %s to cutover %s: %w", cmd, id, err)
		}
		more, err := j.Read(ctx, id, last)
		if err != nil {
			return 0, fmt.Errorf("send %s to cutover %s: %w", cmd, id, err)
		}
		if len(more) > 0 {
			last = more[len(more)-1].Seq
		}
	}
}

// Remember journals key=value for the stage being applied or reverted; ctx
// must be the one the runner passed to Apply or Revert. A resumed runner
// sees it through Recall.
//
// Remember is safe to call from goroutines Apply starts, until Apply
// returns; afterwards it returns an error.
func Remember(ctx context.Context, key, value string) error {
	h, _ := ctx.Value(stageKey{}).(*stageHandle)
	if h == nil {
		return errors.New("remember: ctx is not the context of a stage's Apply or Revert")
	}
	if key == "" {
		return errors.New("remember: key: empty")
	}
	d := h.d
	d.mu.Lock()
	defer d.mu.Unlock()
	name := d.p.Stages[h.i].Name
	if h.closed {
		return fmt.Errorf("remember %q: stage %q has returned", key, name)
	}
	return d.appendLocked(ctx, Record{Type: RecData, Stage: name, Index: h.i, Key: key, Value: value})
}

// Recall returns what the current stage remembered under key, if anything.
// ctx must be the one the runner passed to Apply or Revert.
func Recall(ctx context.Context, key string) (string, bool) {
	h, _ := ctx.Value(stageKey{}).(*stageHandle)
	if h == nil {
		return "", false
	}
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	return h.d.datum(h.i, key)
}

// poll folds in new commands and acts on abort and on reversibility
// windows. A journal that cannot be read is logged and tried again at the
// next poll: the next append will tell if it is really gone.
func (d *drive) poll(ctx context.Context) error {
	if err := d.pull(ctx); err != nil {
		if errors.Is(err, ErrLeaseLost) || errors.Is(err, ErrCorruptJournal) || ctx.Err() != nil {
			return d.stopped(ctx, err)
		}
		d.log.Warn("poll journal", zap.String("cutover", d.id), zap.Error(err))
	}
	if err := d.answer(ctx); err != nil {
		return err
	}
	// An irreversible stage whose apply failed is finished first: it
	// cannot be reverted, so an abort must not strand it half-applied.
	if d.st.Aborted && d.unfinishedIrreversible() < 0 {
		return &rollbackCause{cause: ErrAborted}
	}
	if ctx.Err() != nil {
		return d.stopped(ctx, ctx.Err())
	}
	return d.windows()
}

// answer journals a RecAck for each command taken in and not yet answered,
// so that whoever sent it knows a runner has it and what it does about it.
func (d *drive) answer(ctx context.Context) error {
	for {
		d.mu.Lock()
		if len(d.unacked) == 0 {
			d.mu.Unlock()
			return nil
		}
		ack := d.ackFor(&d.unacked[0])
		err := d.appendLocked(ctx, ack)
		d.mu.Unlock()
		if err != nil {
			return d.stopped(ctx, err)
		}
	}
}

// takenCommand is a command folded in and not answered yet, with what the
// runner was doing when it took it in.
type takenCommand struct {
	rec    Record
	baking int // the stage baking then, or -1
}

// baking returns the index of the stage baking (applied, not yet baked),
// or -1.
func (d *drive) baking() int {
	baking := -1
	for i := range d.st.Stages {
		if d.st.Stages[i].Status == StageApplied {
			baking = i
		}
	}
	if baking >= len(d.p.Stages) {
		return -1 // a journal of another plan; matchPlan refuses it
	}
	return baking
}

// ackFor returns the answer to command tc.
func (d *drive) ackFor(tc *takenCommand) Record {
	c, baking := &tc.rec, tc.baking
	a := Record{Type: RecAck, Ref: c.Seq, Command: c.Command, Stage: c.Stage, Actor: c.Actor}
	if d.o.Approvers != nil {
		if re := d.refused[c.Seq]; re != nil {
			a.Error = re.Error()
			return a
		}
		a.Identity = d.signers[c.Seq].Key
	}
	switch c.Command {
	case CmdPause:
		a.Reason = "pausing: the cutover holds before its next stage until resume or promote"
		if baking >= 0 {
			a.Reason = fmt.Sprintf("pausing: the cutover holds after stage %q has baked, until resume or promote", d.p.Stages[baking].Name)
		}
	case CmdResume:
		a.Reason = "resuming"
		if d.st.Phase == PhaseFailed {
			a.Reason = "resuming: going forward again after the failure"
		}
	case CmdPromote:
		a.Reason = "promoting: lifts any pause; no stage is baking"
		if baking >= 0 {
			a.Reason = fmt.Sprintf("promoting: the bake of stage %q ends now unless a gate fails", d.p.Stages[baking].Name)
		}
	case CmdAbort:
		a.Reason = "aborting: rolling back the applied stages"
		if i := d.unfinishedIrreversible(); i >= 0 {
			a.Reason = fmt.Sprintf("aborting once the irreversible stage %q is finished", d.p.Stages[i].Name)
		}
	case CmdApprove:
		what := "every approval point"
		if c.Stage != "" {
			what = fmt.Sprintf("stage %q", c.Stage)
		}
		if err := CheckApproval(d.p, &d.st, c); err != nil {
			a.Error = "refused: " + err.Error()
		} else {
			a.Reason = fmt.Sprintf("approval of %s by %s accepted", what, c.Actor)
		}
	}
	return a
}

// hold waits while a pause command is in force, or, with stagePause, until
// a resume or promote command newer than stage i's bake arrives. A promote
// that ended the bake skips the stage's pause too.
func (d *drive) hold(ctx context.Context, i int, stagePause bool) error {
	if d.marks[i].flags&markPromoted != 0 {
		stagePause = false
	}
	held := false
	for d.st.Paused || stagePause && d.marks[i].bakedSeq > d.liftSeq {
		if !held {
			held = true
			d.emit(EvPaused, i, nil, "paused; send resume or promote to go on")
		}
		if err := d.watchPoll(ctx, d.o.PollInterval); err != nil {
			return err
		}
	}
	if held {
		d.emit(EvResumed, i, nil, "resumed")
	}
	return nil
}
