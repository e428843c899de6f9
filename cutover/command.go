package cutover

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxSendTries bounds how often Send retries a lost race.
const maxSendTries = 20

// Send appends a command for cutover id to j on behalf of actor, with the
// reason given; stage names the stage an approval is for (empty: every
// approval point of the cutover, the PNR included). It retries a lost race on the sequence number a bounded number of
// times. A runner driving the cutover obeys it within one poll interval.
//
// The cutover must have been started (its journal has records) and not
// have ended (an error wrapping ErrEnded); an approve needs an actor. The
// command is stamped with the wall clock.
func Send(ctx context.Context, j Journal, id string, cmd Command, actor, reason, stage string) error {
	_, err := SendSeq(ctx, j, id, cmd, actor, reason, stage)
	return err
}

// SendSeq is Send, returning the Seq of the command's record, which the
// runner's answer (a RecAck) names in its Ref.
func SendSeq(ctx context.Context, j Journal, id string, cmd Command, actor, reason, stage string) (uint64, error) {
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
	if cmd == CmdApprove && actor == "" {
		return 0, fmt.Errorf("send approve to cutover %s: actor: empty; an approval must say who gave it", id)
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
	v, ok := h.d.st.Stages[h.i].Data[key]
	return v, ok
}
