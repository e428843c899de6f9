package cutover

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// attendance is what the drive knows of one stage call while it runs:
// the call's context and how to cut it short, and attend, which starts
// only if the call outlives a poll interval (see call).
type attendance struct {
	d      *drive
	h      *stageHandle
	ctx    context.Context // the drive's, for the journal
	cctx   context.Context // the call's; done when the call returned or was cut short
	cancel context.CancelCauseFunc
	stop   func() error
	t      *time.Timer    // starts attend, on the real and the scaled clock
	wg     sync.WaitGroup // attend, once armed
	// watch is set for a reversible stage's Apply or Verify (a call with
	// a stop): the waits the call makes through Poll judge green (see
	// waitedInCall), with green.
	watch bool
	green callGreen
}

// callGreen is what a reversible stage's call knows of judging green
// while it waits (see waitedInCall). mu is held while gates are evaluated,
// so that two waits of one call never evaluate them at once and a gate's
// own wait does not judge again.
type callGreen struct {
	mu    sync.Mutex
	slept time.Duration    // waited since green was last judged
	fail  *GateFailedError // the Fail that cut the call short
}

// attend attends to the journal while a stage's call runs on the drive's
// goroutine, until the call's context is done (the call returned, or the
// drive's context is done): every poll interval it takes in the commands
// sent meanwhile and answers them (RecAck), so that a slow or hung Apply,
// Verify or Revert does not leave an operator unanswered. When stop
// returns a cause — an abort, a reversibility window about to close
// unapproved — the call's context is cancelled with it and the cause is
// kept in d.cut for the caller: Apply and Revert honour their context (the
// Stage contract), and the caller waits for the call to return before it
// rolls back, so that a rollback never runs beside an Apply still moving
// traffic. With waitFirst it waits a poll interval before it first
// attends; without, a poll interval has already passed.
//
// While it runs, the drive's goroutine is inside the call and touches the
// drive only through the stage handle, under d.mu; attend is the drive's
// goroutine for everything else until it returns, and the drive waits for
// it before it goes on.
//
// A journal that cannot be read or written here is logged and left to
// the next append after the call, which stops the drive if it is really
// gone.
func (a *attendance) attend(waitFirst bool) {
	defer a.wg.Done()
	for a.cctx.Err() == nil {
		if waitFirst && !a.pollWait() {
			return
		}
		waitFirst = true
		if a.tick() {
			return
		}
	}
}

// pollWait waits a poll interval; false if the call's context is done
// first.
func (a *attendance) pollWait() bool {
	d := a.d
	fired := d.after(d.o.PollInterval)
	select {
	case <-a.cctx.Done():
		d.stopAfter()
		return false
	case <-fired:
		return true
	}
}

// tick takes in the commands sent since the last and answers them, and
// cuts the call short if stop says so; it returns whether it did.
func (a *attendance) tick() bool {
	d := a.d
	if err := d.pull(a.ctx); err != nil {
		d.log.Warn("poll journal during a slow call", zap.String("cutover", d.id), zap.Error(err))
	}
	if err := d.answer(a.ctx); err != nil {
		d.log.Warn("answer commands during a slow call", zap.String("cutover", d.id), zap.Error(err))
	}
	if a.stop == nil {
		return false
	}
	if c := a.stop(); c != nil {
		d.cut = c
		a.cancel(c)
		return true
	}
	return false
}

// fire starts attend from the timer: a poll interval has passed.
func (a *attendance) fire() { a.attend(false) }

// run returns f(a.cctx) and, when f returns or panics, closes the stage
// handle, ends the call's context and waits for attend if it started.
func (a *attendance) run(f func(context.Context) error) error {
	defer a.done()
	return f(a.cctx)
}

// done is run's end.
func (a *attendance) done() {
	a.d.mu.Lock()
	a.h.closed = true
	a.d.mu.Unlock()
	a.cancel(nil)
	if a.t != nil && a.t.Stop() {
		a.wg.Done() // attend never started
	}
	a.wg.Wait()
}

// stopApply is the stop of a reversible stage's Apply or Verify under
// attend: an abort in the journal, or an unapproved reversibility window
// of an earlier stage that would close within a poll interval, cuts the
// call short so that the runner rolls back at once, as poll would between
// calls. An irreversible stage is never cut short: an abort waits until it
// is finished (see poll).
func (d *drive) stopApply() error { return d.stopWithin(d.o.PollInterval) }

// stopRound is the stop of a round of gates: stopApply's, with windows
// cut a poll sooner, since a gate that ignores its context is given a
// poll to return before attend takes over (see judging.takeOver), and
// the rollback must still begin before the window closes.
func (d *drive) stopRound() error { return d.stopWithin(2 * d.o.PollInterval) }

// stopWithin is stopApply's, for windows that would close within ahead.
func (d *drive) stopWithin(ahead time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.st.Aborted && d.unfinishedIrreversible() < 0 {
		return ErrAborted
	}
	var rb *rollbackCause
	if err := d.windowsWithin(ahead); errors.As(err, &rb) {
		return rb.cause
	}
	return nil
}

// stageHandle lets Remember and Recall find the stage being applied or
// reverted from the ctx passed to Apply or Revert, and Poll the call it
// waits in (see waitedInCall).
type stageHandle struct {
	d      *drive
	i      int
	a      *attendance
	closed bool // guarded by d.mu
}

type stageKey struct{}

// call runs f (Apply, Verify or Revert of stage i) with a stage context,
// on the drive's goroutine, attending to the journal while it runs (see
// attend). stop, if not nil, is asked at each poll whether to cut f short.
// On the real and the scaled clock attend starts from a timer, and only
// if f is still running after a poll interval, so a call that returns
// sooner (nearly all of them) costs no goroutine; on another clock (a
// test's manual clock) attend starts on a goroutine at once.
func (d *drive) call(ctx context.Context, i int, f func(context.Context) error, stop func() error) error {
	a := &attendance{d: d, ctx: ctx, stop: stop}
	a.h = &stageHandle{d: d, i: i, a: a}
	a.watch = stop != nil
	a.cctx, a.cancel = context.WithCancelCause(context.WithValue(ctx, stageKey{}, a.h))
	a.wg.Add(1)
	if wall, ok := d.wall(d.o.PollInterval); ok {
		a.t = time.AfterFunc(wall, a.fire)
	} else {
		go a.attend(true)
	}
	err := a.run(f)
	if g := &a.green; a.watch && d.cut == nil {
		g.mu.Lock()
		if g.fail != nil {
			d.cut = g.fail // attend is over: d.cut is the drive's again
		}
		g.mu.Unlock()
	}
	return err
}

// judging attends to the journal while a round of gates runs on the
// drive's goroutine, as call does for a stage's call: a gate that hangs (a
// metrics query that never answers) does not leave commands unanswered in
// a bake, a pause, an approval wait or a window, and an abort or a closing
// window taken in meanwhile cuts the round short (its gateContext is
// cancelled with the cause, kept in d.cut) so that the runner rolls back
// within a poll interval instead of at the gates' bound. A gate that does
// not return even when its context has ended holds the drive's goroutine;
// a poll later attend takes over (see takeOver). One per drive, made at
// its first round and reused: a round that ends within a poll interval
// (nearly all) costs no allocation and no goroutine.
type judging struct {
	a       attendance // ctx, stop, wg and timer; cctx and cancel once attend starts
	mu      sync.Mutex // guards running, gctx, gates and end against the timer's goroutine
	running bool
	gctx    *gateContext
	gates   []Gate
	at      atomic.Int32            // the gate being evaluated
	end     context.CancelCauseFunc // ends a.cctx: the round is over
	// outcome is what the cutover ended with when attend took over (taken).
	taken   bool
	outcome error
	// free is the round to reuse; hung the rounds left behind whose
	// goroutine may still be in a gate (see gateRound; both guarded by
	// d.mu).
	free *gateRound
	hung []*gateRound
}

// takenOver is what the drive's goroutine finds when the gate it was in
// returns after attend took over: out is the cutover's outcome, which Run
// returns, and the drive does nothing more.
type takenOver struct{ out error }

func (t *takenOver) Error() string { return "taken over: " + fmt.Sprint(t.out) }

// judges returns the drive's judging, made at its first use.
func (d *drive) judges() *judging {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.judging == nil {
		d.judging = &judging{a: attendance{d: d, stop: d.stopRound}}
	}
	return d.judging
}

// judgeStart starts attending to a round of gates evaluated in gctx; the
// round must end with judgeEnd.
func (d *drive) judgeStart(ctx context.Context, gctx *gateContext, gates []Gate) *judging {
	j := d.judges()
	j.mu.Lock()
	j.running, j.gctx, j.gates, j.a.ctx = true, gctx, gates, ctx
	j.mu.Unlock()
	j.a.wg.Add(1)
	wall, ok := d.wall(d.o.PollInterval)
	switch {
	case !ok:
		go j.attend(true)
	case j.a.t == nil:
		j.a.t = time.AfterFunc(wall, j.fire)
	default:
		j.a.t.Reset(wall)
	}
	return j
}

// fire starts attend from the timer: a poll interval has passed.
func (j *judging) fire() { j.attend(false) }

// attend attends to the journal until the round is over (see
// attendance.attend), unless it is over already. Unlike a call's, it goes
// on after it cut the round short, and after the Run's context ended:
// once the gates' context has ended, a round that is still running a poll
// later has a gate that does not honour its context, and attend takes
// over.
func (j *judging) attend(waitFirst bool) {
	j.mu.Lock()
	if !j.running {
		j.mu.Unlock()
		j.a.wg.Done()
		return
	}
	cctx, end := context.WithCancelCause(context.WithoutCancel(j.a.ctx))
	gctx := j.gctx
	j.a.cctx, j.end = cctx, end
	j.a.cancel = func(cause error) { gctx.cut(cause) }
	j.mu.Unlock()
	defer j.a.wg.Done()
	ended := false // the gates' context had ended at the last poll
	for cctx.Err() == nil {
		if waitFirst && !j.a.pollWait() {
			return
		}
		waitFirst = true
		if ended && j.takeOver() {
			return
		}
		if j.a.d.cut == nil && j.a.ctx.Err() == nil {
			j.a.tick()
		}
		ended = gctx.Err() != nil
	}
}

// takeOver is attend's when a round of gates has outlived the end of its
// context by a poll: the gate being evaluated ignores its context, and
// the drive's goroutine is in it for as long as it likes. When the round's
// end calls for an end of the cutover — an abort or a closing window taken
// in (d.cut), the Run's context done, or a round that closes (a bake past
// its deadline, fresh evidence before the PNR past the grace: the gate can
// no longer pass in time and fails closed, as a Pending gate does then) —
// attend concludes the cutover itself, as the drive would have (conclude:
// a rollback, or a suspension), keeps the outcome for Run, and returns
// true: a gate that does not return never holds a rollback. Otherwise (a
// pause, an approval wait or a window, whose gates are bounded by the
// grace) nothing is decided, and attend goes on answering commands until
// one is.
//
// The drive's goroutine touches nothing while it is in the gate; once the
// gate returns, it waits for attend (judgeEnd) and returns the outcome.
func (j *judging) takeOver() bool {
	d := j.a.d
	k := int(j.at.Load())
	name := GateName(j.gates[k], k)
	var rb error
	switch {
	case d.cut != nil:
		rb = &rollbackCause{cause: d.cut}
	case j.a.ctx.Err() != nil:
		rb = d.stopped(j.a.ctx, j.a.ctx.Err())
	case j.gctx.closes:
		v := Verdict{Decision: Pending, Reason: "gate did not return when its context ended"}
		rb = &rollbackCause{cause: &GateFailedError{Stage: d.stageOf(j.gates), Gate: name, Verdict: v, TimedOut: true}}
	default:
		return false
	}
	d.log.Warn("a gate did not return when its context ended; concluding the cutover without it",
		zap.String("cutover", d.id), zap.String("gate", name), zap.Error(rb))
	d.cut = nil
	// The round is over: once the gate returns, the drive evaluates no
	// more of its gates (see judge).
	j.gctx.cut(rb)
	j.outcome, j.taken = d.conclude(j.a.ctx, rb), true
	// The drive will do nothing more: another Run may take the cutover on
	// (after a suspension) while the gate still holds this one's goroutine.
	if d.unlease != nil {
		d.unlease()
	}
	return true
}

// stageOf returns the name of the stage whose list of gates gates is.
func (d *drive) stageOf(gates []Gate) string {
	for i := range d.p.Stages {
		if g := d.p.Stages[i].Gates; len(g) > 0 && len(gates) > 0 && &g[0] == &gates[0] {
			return d.p.Stages[i].Name
		}
	}
	return ""
}

// judgeEnd ends the round judgeStart started, waits for attend if it
// started, and returns a *takenOver if attend took over, or a
// *rollbackCause if it cut the round short.
func (d *drive) judgeEnd() error {
	j := d.judging
	if j.a.t != nil && j.a.t.Stop() {
		j.a.wg.Done() // attend never started
	}
	j.mu.Lock()
	j.running = false
	end := j.end
	j.mu.Unlock()
	if end != nil {
		end(nil)
	}
	j.a.wg.Wait() // attend is over: the fields are the drive's again
	j.gctx, j.gates, j.end, j.a.cctx, j.a.cancel = nil, nil, nil, nil, nil
	if j.taken {
		out := j.outcome
		j.taken, j.outcome = false, nil
		return &takenOver{out: out}
	}
	if c := d.cut; c != nil {
		d.cut = nil
		return &rollbackCause{cause: c}
	}
	return nil
}

// waitedInCall is told by Poll.Until, after each wait, how long it
// waited, with the context it waits in. Inside a reversible stage's Apply
// or Verify (a rolling batch waiting for new members, a managed
// deployment waiting to finish, a read-back), once the waits add up to a
// poll interval, it judges green with the gates the watch would judge
// (see watched): the last stage applied, while rollback is possible. A
// Fail cuts the call short, as an abort does (the call's context is
// cancelled with the *GateFailedError as its cause), and the drive
// journals it and rolls back once the call returns (see apply). Other
// verdicts are neither journaled nor sent: the bake after the call judges
// again at once. It counts the waits the call asked for, not the time
// that passed, so that the same call makes the same judgements however
// fast the machine runs. Anywhere else it does nothing.
func waitedInCall(ctx context.Context, dur time.Duration) {
	h, _ := ctx.Value(stageKey{}).(*stageHandle)
	if h == nil || h.a == nil || !h.a.watch {
		return
	}
	g := &h.a.green
	if !g.mu.TryLock() {
		return // a gate's own wait, or another wait of the call judging
	}
	defer g.mu.Unlock()
	d := h.d
	if g.fail != nil {
		return
	}
	if g.slept += dur; g.slept < d.o.PollInterval {
		return
	}
	g.slept = 0
	d.mu.Lock()
	w := -1
	if !h.closed {
		w = d.watched()
	}
	d.mu.Unlock()
	if w < 0 {
		return
	}
	s := &d.p.Stages[w]
	gctx := newWatchContext(h.a.cctx, d.o.PollInterval)
	defer gctx.release()
	since := d.clock.Now()
	r := d.round(gctx, s.Gates)
	go r.run()
	// The round is bounded by a poll: a gate that has not returned by then
	// (or when the call is cut short) is left behind, and the call's wait
	// goes on.
	if r.wait(gctx.Done()) {
		d.leftBehind(r, since)
	}
	for k, gate := range s.Gates {
		if h.a.cctx.Err() != nil {
			return // cut short by an abort, or returned
		}
		if v, err, ok := r.result(k); ok && err == nil && v.Decision == Fail {
			g.fail = &GateFailedError{Stage: s.Name, Gate: GateName(gate, k), Verdict: v}
			h.a.cancel(g.fail)
			return
		}
	}
}
