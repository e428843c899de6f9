package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/notify"
)

// Defaults of the command flags.
const (
	defaultWait = 2 * time.Minute
	defaultPoll = 250 * time.Millisecond
	// defaultWatch bounds show -watch.
	defaultWatch = 24 * time.Hour
)

// cmdFlags are the flags of the commands that steer a cutover (and of
// show, which takes some of them).
type cmdFlags struct {
	as     string
	reason string
	stage  string
	force  bool
	wait   time.Duration
	noWait bool
	poll   time.Duration
	// show
	watch bool
	color string
	width int
	// sign names the key that signs the command, if any.
	sign signFlags
	// notify are -notify-webhook, -notify-sns, -notify-eventbridge and
	// -notify-events: with -watch, each new record's event is sent there.
	notify notify.Flags
}

// registerFlags registers on fs the flags of subcommand name.
func registerFlags(fs *flag.FlagSet, name string, f *cmdFlags) {
	if f.wait == 0 {
		f.wait = defaultWait
		if name == "show" {
			f.wait = defaultWatch
		}
	}
	if f.poll == 0 {
		f.poll = defaultPoll
	}
	if name == "show" {
		fs.BoolVar(&f.watch, "watch", false, "follow the cutover, drawing it again on every change, until it ends")
		fs.Var(durationFlag{&f.wait}, "wait", "with -watch: stop following after this long (exit status 5)")
		fs.Var(durationFlag{&f.poll}, "poll", "with -watch: how often to read the journal")
		fs.StringVar(&f.color, "color", "auto", "colours: auto (on a terminal, unless $NO_COLOR is set), always or never")
		fs.IntVar(&f.width, "width", 0, "width of the timeline in columns (default $COLUMNS, or 100)")
		f.notify.Register(fs)
		return
	}
	fs.StringVar(&f.as, "as", "", "who gives the command, for the journal (default: the OS user)")
	reason := "why, for the journal"
	switch name {
	case "approve":
		reason = "why you approve (required)"
		fs.StringVar(&f.stage, "stage", "", "the `STAGE` approved (default: every approval point, the point of no return included)")
	case "abort":
		reason = "why you abort (required)"
		fs.BoolVar(&f.force, "force", false, "send the abort even past the point of no return, where it cannot roll back: the runner reverts what it still can and stops")
	}
	fs.StringVar(&f.reason, "reason", "", reason)
	f.sign.register(fs)
	fs.Var(durationFlag{&f.wait}, "wait", "how long to wait for the runner's answer and the outcome")
	fs.BoolVar(&f.noWait, "no-wait", false, "return once the command is written")
	fs.Var(durationFlag{&f.poll}, "poll", "how often to read the journal while waiting")
}

// parseID parses the command line of a subcommand that takes one cutover
// ID into f, and returns the ID and the flags given.
func (c *cli) parseID(f *cmdFlags, args []string) (string, map[string]bool, error) {
	fs := c.flagSet()
	registerFlags(fs, c.name, f)
	pos, err := c.parse(fs, args)
	if err != nil {
		return "", nil, err
	}
	id, err := c.oneID(pos)
	if err != nil {
		return "", nil, err
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	return id, given, nil
}

// result is what a command did, printed with -json.
type result struct {
	Cutover string          `json:"cutover"`
	Command cutover.Command `json:"command"`
	Actor   string          `json:"actor,omitempty"`
	Reason  string          `json:"reason,omitempty"`
	Stage   string          `json:"stage,omitempty"`
	// Seq is the command's record; zero if it was not written.
	Seq uint64 `json:"seq,omitempty"`
	// Answered is true once the runner answered; Answer is what it said it
	// does, Refusal why it refused.
	Answered bool   `json:"answered"`
	Answer   string `json:"answer,omitempty"`
	Refusal  string `json:"refusal,omitempty"`
	// Outcome says how it ended: "written" (-no-wait), "answered",
	// "applied", "baked", "rolled_back", "failed", "completed",
	// "refused", "no_answer" or "unfinished".
	Outcome string `json:"outcome"`
	Message string `json:"message"`
	// State is the cutover after the command.
	State *summary `json:"state,omitempty"`
	Exit  int      `json:"exit"`
	Error string   `json:"error,omitempty"`
}

// sendCommand runs approve, promote, pause, resume and abort.
func sendCommand(ctx context.Context, c *cli, args []string) error {
	f := &cmdFlags{}
	id, given, err := c.parseID(f, args)
	if err != nil {
		return err
	}
	if f.noWait && (given["wait"] || given["poll"]) {
		return usageErr("%s: -no-wait and -wait/-poll: give one or the other", c.name)
	}
	if f.as == "" {
		f.as = c.actorDefault()
	}
	f.as = strings.TrimSpace(f.as)
	f.reason = strings.TrimSpace(f.reason)
	cmd := cutover.Command(c.name)
	switch {
	case cmd == cutover.CmdApprove && f.as == "":
		return usageErr("approve: -as: empty and no OS user found; an approval must say who gave it")
	case cmd == cutover.CmdApprove && f.reason == "":
		return usageErr("approve: -reason: empty; an approval must say why, e.g. -reason \"error rate flat for 30m\"")
	case cmd == cutover.CmdAbort && f.reason == "":
		return usageErr("abort: -reason: empty; say why you abort, e.g. -reason \"latency up after 50%%\"")
	}

	j, recs, err := c.openCutover(ctx, id)
	if err != nil {
		return err
	}
	res := &result{Cutover: id, Command: cmd, Actor: f.as, Reason: f.reason, Stage: f.stage}
	s, st, err := summarize(id, recs)
	if err != nil {
		return fail(exitError, "cutover %s: %w", id, err)
	}
	signer, release, err := f.sign.signer(ctx, c)
	if err != nil {
		return c.finish(res, &s, err)
	}
	defer release()
	if err := c.check(f, res, recs, s, st, signer); err != nil {
		return c.finish(res, &s, err)
	}

	var seq uint64
	if signer != nil {
		seq, err = cutover.SendSigned(ctx, j, id, cmd, f.as, f.reason, f.stage, signer)
	} else {
		seq, err = cutover.SendSeq(ctx, j, id, cmd, f.as, f.reason, f.stage)
	}
	if errors.Is(err, cutover.ErrEnded) {
		return c.finish(res, &s, fail(exitRefused, "%w; nothing to %s", err, cmd))
	}
	if err != nil {
		return c.finish(res, &s, fail(exitError, "%w", err))
	}
	res.Seq = seq
	c.printf("%s sent to cutover %s as record %d (by %s)\n", cmd, id, seq, f.as)
	if f.noWait {
		res.Outcome, res.Message = "written", fmt.Sprintf("%s written as record %d; not waiting for the runner (-no-wait)", cmd, seq)
		c.printf("not waiting for the runner's answer (-no-wait)\n")
		return c.finish(res, &s, nil)
	}
	w := &waiter{j: j, id: id, recs: recs, poll: f.poll}
	wctx, cancel := context.WithTimeout(ctx, f.wait)
	defer cancel()
	err = c.await(wctx, ctx, w, res, seq, f)
	s2, _, ferr := summarize(id, w.recs)
	if ferr == nil {
		s = s2
	}
	return c.finish(res, &s, err)
}

// check refuses, before anything is written, what cannot work: an
// approval by the initiator under the two-person rule, a stage the plan
// does not have, an abort past the point of no return without -force.
func (c *cli) check(f *cmdFlags, res *result, recs []cutover.Record, s summary, st cutover.State, signer cutover.Signer) error {
	if st.Phase == cutover.PhaseCompleted || st.Phase == cutover.PhaseRolledBack {
		return fail(exitRefused, "refused: cutover %s has ended: it %s at %s; nothing to %s", s.ID, strings.ReplaceAll(string(st.Phase), "_", " "), st.Updated.UTC().Format(time.RFC3339), res.Command)
	}
	switch res.Command {
	case cutover.CmdApprove:
		// The approval rule is the library's (cutover.CheckApproval); asked
		// here too so that a refusal has its own exit code.
		p, err := cutover.JournalPlan(recs)
		if err != nil && !errors.Is(err, cutover.ErrNoOutline) {
			return fail(exitError, "%w", err)
		}
		rec := cutover.Record{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: f.as, Stage: f.stage, Time: journalNow(recs)}
		if k, ok := signer.(interface{ Key() string }); ok {
			// The key that will sign, for the two-person rule by key.
			rec.Signed = &cutover.Signature{Key: k.Key()}
		}
		if err := cutover.CheckApproval(&p, &st, &rec); err != nil {
			return fail(exitRefused, "refused: approve cutover %s: %w (nothing was written)", s.ID, err)
		}
	case cutover.CmdAbort:
		if s.Rollback.Known && !s.Rollback.Possible && !f.force {
			return fail(exitRefused, "refused: cutover %s is past its point of no return %q: an abort can no longer roll it back; the runner would revert only the stages after it and stop, failed (nothing was written; -force sends it anyway)", s.ID, s.Rollback.PNR)
		}
	}
	return nil
}

// finish completes res with the outcome of err and prints it with -json.
func (c *cli) finish(res *result, s *summary, err error) error {
	res.State = s
	res.Exit = codeOf(err)
	if err != nil {
		res.Error = err.Error()
		if res.Outcome == "" {
			res.Outcome = "refused"
			if res.Exit == exitError {
				res.Outcome = "error"
			}
		}
		if res.Message == "" {
			res.Message = err.Error()
		}
	}
	if c.json {
		c.emitJSON(res)
		c.emitted = true // the error is in the JSON; run prints it on stderr only
	}
	return err
}

// waiter follows a cutover's journal.
type waiter struct {
	j    journal
	id   string
	recs []cutover.Record
	poll time.Duration
}

// follow calls step, then reads the new records every poll interval and
// calls it again, until step reports done or fails, or ctx, which must
// have a deadline, ends (cutover.Poll on the real clock). A read error is
// tried again at the next poll. step gets the number of records it saw
// at its previous call, so w.recs[seen:] are the new ones.
func (w *waiter) follow(ctx context.Context, step func(seen int) (bool, error)) error {
	dl, ok := ctx.Deadline()
	if !ok {
		return errors.New("follow cutover " + w.id + ": no deadline")
	}
	p := cutover.Poll{What: "follow cutover " + w.id, Interval: cutover.Backoff{Initial: w.poll}}.Within(time.Until(dl))
	seen, first := len(w.recs), true
	return p.Until(ctx, func(ctx context.Context) (bool, string, error) {
		if !first {
			seen = len(w.recs)
			if more, err := w.j.Read(ctx, w.id, w.recs[len(w.recs)-1].Seq); err == nil {
				w.recs = append(w.recs, more...)
			}
		}
		first = false
		done, err := step(seen)
		return done, "", err
	})
}

// find returns the index of the first record from i on that match, or -1.
func (w *waiter) find(from int, match func(*cutover.Record) bool) int {
	for i := from; i < len(w.recs); i++ {
		if match(&w.recs[i]) {
			return i
		}
	}
	return -1
}

// ended matches a record that ends a cutover (or stops it: RecFailed).
func ended(r *cutover.Record) bool {
	return r.Type == cutover.RecCompleted || r.Type == cutover.RecRolledBack || r.Type == cutover.RecFailed
}

// await waits (bounded by wctx; ctx is the caller's, for telling an
// interrupt from a timeout) for the runner's answer to command seq, then
// for its outcome, and reports them.
func (c *cli) await(wctx, ctx context.Context, w *waiter, res *result, seq uint64, f *cmdFlags) error {
	id, cmd := res.Cutover, res.Command
	// The answer.
	answer := func(r *cutover.Record) bool { return r.Type == cutover.RecAck && r.Ref == seq }
	ack, end := -1, -1
	err := w.follow(wctx, func(int) (bool, error) {
		if ack = w.find(0, answer); ack >= 0 {
			return true, nil
		}
		end = w.find(0, func(r *cutover.Record) bool { return r.Seq > seq && ended(r) })
		return end >= 0, nil
	})
	if err != nil {
		res.Outcome = "no_answer"
		if ctx.Err() != nil {
			return fail(exitNoAnswer, "interrupted before a runner answered; %s (record %d) stays in the journal and a runner acts on it when it next drives cutover %s", cmd, seq, id)
		}
		return fail(exitNoAnswer, "no runner answered within %v: is one running for cutover %s? The %s (record %d) stays in the journal, and a runner acts on it when it next drives the cutover", f.wait, id, cmd, seq)
	}
	if ack < 0 {
		// The runner ended the cutover before it took the command in.
		return c.outcome(res, w, end)
	}
	a := &w.recs[ack]
	res.Answered = true
	if a.Error != "" {
		res.Refusal, res.Outcome, res.Message = a.Error, "refused", "the runner "+a.Error
		return fail(exitRefused, "the runner %s", a.Error)
	}
	res.Answer = a.Reason
	c.printf("runner answered: %s\n", a.Reason)

	// What to wait for after the answer.
	st, err := cutover.Fold(id, w.recs[:ack+1])
	if err != nil {
		return fail(exitError, "cutover %s: %w", id, err)
	}
	var until func(*cutover.Record) bool
	var what string
	switch cmd {
	case cutover.CmdAbort:
		until, what = ended, "the rollback"
	case cutover.CmdPromote:
		for i := range st.Stages {
			if st.Stages[i].Status == cutover.StageApplied {
				until = func(r *cutover.Record) bool { return ended(r) || r.Type == cutover.RecBaked && r.Index == i }
				what = fmt.Sprintf("the end of stage %q's bake", st.Stages[i].Name)
			}
		}
	case cutover.CmdApprove:
		if st.Phase == cutover.PhaseWaiting {
			if wr := lastWaiting(w.recs[:ack+1]); wr != nil && wr.Action == "apply" && (res.Stage == "" || res.Stage == wr.Stage) {
				i := wr.Index
				until = func(r *cutover.Record) bool {
					return ended(r) || r.Type == cutover.RecApplied && r.Index == i || r.Type == cutover.RecApplyFailed && r.Index == i
				}
				what = fmt.Sprintf("stage %q to be applied", wr.Stage)
			}
		}
	}
	if until == nil {
		res.Outcome, res.Message = "answered", a.Reason
		return nil
	}
	c.printf("waiting for %s ...\n", what)
	i := -1
	if err := w.follow(wctx, func(int) (bool, error) {
		i = w.find(ack+1, until)
		return i >= 0, nil
	}); err != nil {
		res.Outcome = "unfinished"
		if ctx.Err() != nil {
			return fail(exitUnfinished, "interrupted while waiting for %s of cutover %s; follow it with cutoverctl show %s -watch", what, id, id)
		}
		return fail(exitUnfinished, "the runner answered, but %s did not come within %v; follow it with cutoverctl show %s -watch", what, f.wait, id)
	}
	return c.outcome(res, w, i)
}

// lastWaiting returns the last RecWaiting record of recs, or nil.
func lastWaiting(recs []cutover.Record) *cutover.Record {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Type == cutover.RecWaiting {
			return &recs[i]
		}
	}
	return nil
}

// outcome reports record i of w, which ends the wait for res.
func (c *cli) outcome(res *result, w *waiter, i int) error {
	r := &w.recs[i]
	s, _, _ := summarize(res.Cutover, w.recs[:i+1])
	traffic := trafficText(s.Traffic)
	at := r.Time.UTC().Format(time.RFC3339)
	switch r.Type {
	case cutover.RecApplied:
		res.Outcome, res.Message = "applied", fmt.Sprintf("stage %q applied at %s", r.Stage, at)
	case cutover.RecBaked:
		res.Outcome, res.Message = "baked", fmt.Sprintf("stage %q baked at %s", r.Stage, at)
	case cutover.RecApplyFailed:
		res.Outcome, res.Message = "failed", fmt.Sprintf("stage %q failed to apply at %s: %s", r.Stage, at, r.Error)
		c.printf("%s\n", res.Message)
		return fail(exitError, "%s", res.Message)
	case cutover.RecRolledBack:
		res.Outcome, res.Message = "rolled_back", fmt.Sprintf("cutover %s rolled back at %s; traffic: %s", res.Cutover, at, traffic)
		if res.Command != cutover.CmdAbort {
			res.Message += "; cause: " + r.Error
			c.printf("%s\n", res.Message)
			return fail(exitError, "%s", res.Message)
		}
	case cutover.RecFailed:
		res.Outcome, res.Message = "failed", fmt.Sprintf("cutover %s failed at %s: %s; traffic: %s", res.Cutover, at, r.Error, traffic)
		c.printf("%s\n", res.Message)
		return fail(exitError, "%s", res.Message)
	case cutover.RecCompleted:
		res.Outcome, res.Message = "completed", fmt.Sprintf("cutover %s completed at %s; traffic: %s", res.Cutover, at, traffic)
		if res.Command == cutover.CmdAbort {
			res.Message = fmt.Sprintf("cutover %s completed at %s before the runner took the abort in; traffic: %s", res.Cutover, at, traffic)
			c.printf("%s\n", res.Message)
			return fail(exitError, "%s", res.Message)
		}
	}
	c.printf("%s\n", res.Message)
	return nil
}
