package cutover

import (
	"context"
	"math"
	"time"
	"unique"
)

// stageVerdict is the last journaled verdict of one gate of one stage.
type stageVerdict struct {
	index int
	gate  string
	v     keptVerdict
}

// keptVerdict is a verdict as the drive keeps it for the whole run: its
// reason and figures interned, shared by every cutover whose gates said
// the same (thousands of cutovers in one process), rather than the gate's
// map of figures.
type keptVerdict struct {
	decision Decision
	final    bool
	text     unique.Handle[keptText]
}

// keptText is the interned part of a keptVerdict: the figures are in the
// encoding of encodeFigures, with figures telling nil from empty.
type keptText struct {
	reason, figures string
	hasFigures      bool
}

// keep returns v as the drive keeps it.
func keep(v Verdict) keptVerdict {
	return keptVerdict{decision: v.Decision, final: v.Final,
		text: unique.Make(keptText{reason: v.Reason, figures: encodeFigures(v.Figures), hasFigures: v.Figures != nil})}
}

// verdict returns the kept verdict, with a map of its own.
func (k keptVerdict) verdict() Verdict {
	t := k.text.Value()
	v := Verdict{Decision: k.decision, Reason: t.reason, Final: k.final}
	if t.hasFigures {
		v.Figures = decodeFigures(t.figures)
	}
	return v
}

// says reports whether k says what v says, figures compared as they are
// journaled (see finiteFigures); nil and empty figures say the same.
func (k keptVerdict) says(v Verdict) bool {
	if k.decision != v.Decision || k.final != v.Final {
		return false
	}
	t := k.text.Value()
	return t.reason == v.Reason && t.figures == encodeFigures(finiteFigures(v.Figures))
}

// gateState is what bake knows of one gate.
type gateState struct {
	name    string
	last    keptVerdict // last journaled
	hasLast bool
	// cur is the gate's verdict in the round being judged, journaled if
	// journaled is set. Every use of it is in its round: forget drops it
	// before the cutover waits, so that thousands of waiting cutovers do
	// not keep their gates' maps of figures.
	cur       Verdict
	journaled bool
}

// forget drops the verdicts of the round of gs (see gateState.cur).
func forget(gs []gateState) {
	for k := range gs {
		gs[k].cur = Verdict{}
	}
}

// kept returns the last journaled verdict of gate of stage i, if any.
func (d *drive) kept(i int, gate string) (keptVerdict, bool) {
	for _, sv := range d.verdicts {
		if sv.index == i && sv.gate == gate {
			return sv.v, true
		}
	}
	return keptVerdict{}, false
}

// keepVerdict remembers the verdict of a RecVerdict record.
func (d *drive) keepVerdict(rec *Record) {
	for k := range d.verdicts {
		if sv := &d.verdicts[k]; sv.index == rec.Index && sv.gate == rec.Gate {
			sv.v = keep(*rec.Verdict)
			return
		}
	}
	d.verdicts = append(d.verdicts, stageVerdict{index: rec.Index, gate: rec.Gate, v: keep(*rec.Verdict)})
}

// bake observes stage i, applied, until its bake time is over and every
// gate passes, a gate fails, or its deadline passes.
//
// The bake and the deadline count from when the stage was applied, also for
// a resumed runner; since the gates start afresh then, a resumed bake gets
// at least the stage's deadline minus its bake time (the grace) from now.
func (d *drive) bake(ctx context.Context, i int) error {
	var bt BakeTiming
	gctx := d.bakeStart(ctx, i, &bt)
	defer gctx.release()
	promotes := d.st.Promotes
	for {
		now := d.clock.Now()
		if done, err := d.bakeRound(ctx, gctx, i, now, &bt, promotes); err != nil || done {
			if err != nil {
				return err
			}
			break
		}
		forget(d.gates)
		// The wait counts from now, not from the round's start: a round
		// that outlived its bound (see judging) has used up the time.
		if err := d.sleep(ctx, bakeWait(&bt, d.clock.Now(), d.o.PollInterval)); err != nil {
			return err
		}
		if err := d.poll(ctx); err != nil {
			return err
		}
	}
	return d.baked(ctx, i)
}

// bakeWait returns how long to wait at now before the next round of a
// bake timed bt.
func bakeWait(bt *BakeTiming, now time.Time, poll time.Duration) time.Duration {
	wait := poll
	if now.Before(bt.BakeEnd) {
		wait = min(wait, bt.BakeEnd.Sub(now))
	}
	if now.Before(bt.MinBakeEnd) {
		wait = min(wait, bt.MinBakeEnd.Sub(now))
	}
	return min(wait, max(bt.Deadline.Sub(now), 0))
}

// bakeStart sets bt to stage i's bake timing, resets its gates and returns
// the context they are evaluated in. bake is split in this, rounds and its
// end so that its own frame, on the goroutine's stack while the cutover
// waits, stays small (see newDrive).
func (d *drive) bakeStart(ctx context.Context, i int, bt *BakeTiming) *gateContext {
	s := &d.p.Stages[i]
	applied := d.st.Stages[i].AppliedAt
	dl := s.Deadline
	if dl == 0 {
		dl = s.Bake + d.o.Grace
	}
	deadline := applied.Add(dl)
	if d.marks[i].flags&markAppliedHere == 0 {
		if least := d.clock.Now().Add(dl - s.Bake); least.After(deadline) {
			deadline = least
		}
	}
	*bt = BakeTiming{Applied: applied, MinBakeEnd: applied.Add(s.MinBake), BakeEnd: applied.Add(s.Bake), Deadline: deadline}
	gs := d.gates[:0]
	for k, g := range s.Gates {
		if r, ok := g.(Resetter); ok {
			r.Reset()
		}
		gs = append(gs, gateState{name: GateName(g, k)})
	}
	d.gates = gs
	// Gates are bounded by the deadline (plus a poll) even if they ignore
	// their own timeouts. The deadline is on the injected clock, so the
	// bound is the time left on it, not a wall-clock instant.
	return newGateContext(ctx, *bt, bt.Deadline.Add(d.o.PollInterval).Sub(d.clock.Now()))
}

// bakeRound evaluates stage i's gates once, at now. It returns true when
// the bake is over (every gate passed and the bake time is over, or a
// final pass after MinBake, or a promote since the bake began, promotes
// being the count then), a *rollbackCause when a gate failed or the
// deadline passed, or another error to stop.
func (d *drive) bakeRound(ctx context.Context, gctx *gateContext, i int, now time.Time, bt *BakeTiming, promotes int) (bool, error) {
	s := &d.p.Stages[i]
	gs := d.gates
	if err := d.judge(ctx, gctx, s.Gates, gs); err != nil {
		return false, err
	}
	fail, pending := -1, -1
	final := false
	for k := range gs {
		st := &gs[k]
		v := &st.cur
		// Journal a verdict when the decision changes; the reason of a
		// pending gate changes every poll with its counts, and the last
		// verdict of the bake is journaled at its end (journalVerdicts).
		if !st.hasLast || st.last.decision != v.Decision {
			if err := d.journalVerdict(ctx, i, st); err != nil {
				return false, err
			}
		}
		if d.obs != nil || d.logOn {
			d.emitVerdict(i, st, now.Sub(bt.Applied))
		}
		switch {
		case v.Decision == Fail:
			if fail < 0 {
				fail = k
			}
		case v.Decision != Pass:
			if pending < 0 {
				pending = k
			}
		}
		if v.Decision == Pass && v.Final {
			final = true
		}
	}
	if fail >= 0 {
		return false, &rollbackCause{cause: &GateFailedError{Stage: s.Name, Gate: gs[fail].name, Verdict: gs[fail].cur}}
	}
	if d.st.Promotes > promotes {
		d.marks[i].flags |= markPromoted
		return true, nil
	}
	// A final Pass ends the bake early, but never before MinBake.
	if pending < 0 && (final && !now.Before(bt.MinBakeEnd) || !now.Before(bt.BakeEnd)) {
		return true, nil
	}
	if !now.Before(bt.Deadline) {
		if err := d.journalVerdicts(ctx, i); err != nil {
			return false, err
		}
		return false, &rollbackCause{cause: &GateFailedError{Stage: s.Name, Gate: gs[pending].name, Verdict: gs[pending].cur, TimedOut: true}}
	}
	return false, nil
}

// baked journals the end of stage i's bake.
func (d *drive) baked(ctx context.Context, i int) error {
	err := d.journalVerdicts(ctx, i)
	forget(d.gates)
	if err != nil {
		return err
	}
	if err := d.append(ctx, Record{Type: RecBaked, Stage: d.p.Stages[i].Name, Index: i}); err != nil {
		return d.stopped(ctx, err)
	}
	d.emit(EvStageBaked, i, nil, "baked")
	return nil
}

// journalVerdict journals gate st's current verdict.
func (d *drive) journalVerdict(ctx context.Context, i int, st *gateState) error {
	v := st.cur
	v.Figures = finiteFigures(v.Figures)
	if err := d.append(ctx, Record{Type: RecVerdict, Stage: d.p.Stages[i].Name, Index: i, Gate: st.name, Verdict: &v}); err != nil {
		return d.stopped(ctx, err)
	}
	st.last, st.hasLast = d.kept(i, st.name)
	st.journaled = true
	return nil
}

// journalVerdicts journals the last verdict of every gate of the bake that
// differs from its last journaled one, so the journal holds the evidence
// the stage was passed or failed on.
func (d *drive) journalVerdicts(ctx context.Context, i int) error {
	for k := range d.gates {
		st := &d.gates[k]
		if st.journaled || st.hasLast && st.last.says(st.cur) {
			continue
		}
		if err := d.journalVerdict(ctx, i, st); err != nil {
			return err
		}
	}
	return nil
}

// finiteFigures returns figs without NaN, with ±Inf clamped to the largest
// finite values, so every verdict can be journaled (JSON has no NaN or Inf).
// It returns figs itself when all are finite.
func finiteFigures(figs map[string]float64) map[string]float64 {
	clean := true
	for _, v := range figs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			clean = false
			break
		}
	}
	if clean {
		return figs
	}
	out := make(map[string]float64, len(figs))
	for k, v := range figs {
		switch {
		case math.IsNaN(v):
		case math.IsInf(v, 1):
			out[k] = math.MaxFloat64
		case math.IsInf(v, -1):
			out[k] = -math.MaxFloat64
		default:
			out[k] = v
		}
	}
	return out
}

// judge evaluates gates in gctx, each into gs[k].cur, on the drive's
// goroutine, attending to the journal while they run (see judging). A
// gate's error is a Pending verdict that names it; the Run's context
// ending stops the drive, and an abort or a closing window taken in while
// the gates run returns a *rollbackCause. If a gate did not return when
// its context ended, attend has taken over and concluded the cutover (see
// judging.takeOver): judge returns a *takenOver with the outcome.
func (d *drive) judge(ctx context.Context, gctx *gateContext, gates []Gate, gs []gateState) error {
	j := d.judgeStart(ctx, gctx, gates)
	hung := j.anyHung()
	var stop error
	for k, g := range gates {
		if hung {
			if v, ok := d.stillEvaluating(gates, k); ok {
				gs[k].cur, gs[k].journaled = v, false
				continue
			}
		}
		j.at.Store(int32(k))
		v, err := g.Evaluate(gctx)
		if err != nil {
			if ctx.Err() != nil {
				stop = err
				break
			}
			v = Verdict{Decision: Pending, Reason: "gate error: " + err.Error()}
		}
		gs[k].cur, gs[k].journaled = v, false
		if gctx.isCut.Load() {
			break
		}
	}
	cut := d.judgeEnd()
	if _, ok := cut.(*takenOver); ok {
		return cut
	}
	if stop != nil {
		return d.stopped(ctx, stop)
	}
	return cut
}

// watchPoll is one step of a hold or a wait (a pause, an approval wait, an
// open reversibility window, the wait between two apply attempts): it
// waits dur (a poll interval, or what is left of a shorter wait), takes in
// commands and judges green (watch).
func (d *drive) watchPoll(ctx context.Context, dur time.Duration) error {
	if err := d.sleep(ctx, dur); err != nil {
		return err
	}
	if err := d.poll(ctx); err != nil {
		return err
	}
	_, _, err := d.watch(ctx, time.Time{})
	forget(d.watchGates)
	return err
}

// watched returns the stage whose gates judge green between bakes: the last
// stage applied, as long as rollback is possible; -1 if none.
func (d *drive) watched() int {
	if d.pastPNR() {
		return -1
	}
	for i := len(d.st.Stages) - 1; i >= 0; i-- {
		switch d.st.Stages[i].Status {
		case StageApplied, StageBaked:
			return i
		}
	}
	return -1
}

// watch judges green outside a bake: the gates of the last stage applied
// (its own and every strategy's background gates, which strategies add to
// each stage), from the first stage applied until the PNR is crossed. As
// in a bake, a verdict is journaled when its decision changes, and a Fail
// rolls back. Pending is no failure here (a comparative gate has no
// evidence once one arm takes no traffic). It returns how many gates
// passed and how many are pending. Fresh evidence (see fresh) is judged
// until its deadline, closes: the round is bounded by it (or a poll, if
// that is later), and a gate that outlives that bound fails closed.
func (d *drive) watch(ctx context.Context, closes time.Time) (passed, pending int, err error) {
	i := d.watched()
	if i < 0 {
		return 0, 0, nil
	}
	s := &d.p.Stages[i]
	if d.watchGates == nil || int(d.watchIdx) != i {
		d.watchIdx = int32(i)
		d.watchGates = make([]gateState, len(s.Gates))
		for k, g := range s.Gates {
			st := gateState{name: GateName(g, k)}
			st.last, st.hasLast = d.kept(i, st.name)
			d.watchGates[k] = st
		}
	}
	now := d.clock.Now()
	// Outside a bake the gates are bounded by the grace, the time fresh
	// evidence may take before the PNR (see fresh).
	bound := d.o.Grace
	if !closes.IsZero() {
		bound = max(closes.Sub(now), d.o.PollInterval)
	}
	gctx := newWatchContext(ctx, bound)
	gctx.closes = !closes.IsZero()
	err = d.judge(ctx, gctx, s.Gates, d.watchGates)
	gctx.release()
	if err != nil {
		return 0, 0, err
	}
	fail := -1
	for k := range d.watchGates {
		st := &d.watchGates[k]
		v := &st.cur
		if !st.hasLast || st.last.decision != v.Decision {
			if err := d.journalVerdict(ctx, i, st); err != nil {
				return 0, 0, err
			}
		}
		if d.obs != nil || d.logOn {
			d.emitVerdict(i, st, now.Sub(d.st.Stages[i].AppliedAt))
		}
		switch v.Decision {
		case Fail:
			if fail < 0 {
				fail = k
			}
		case Pass:
			passed++
		default:
			pending++
		}
	}
	if fail >= 0 {
		st := &d.watchGates[fail]
		return passed, pending, &rollbackCause{cause: &GateFailedError{Stage: s.Name, Gate: st.name, Verdict: st.cur}}
	}
	return passed, pending, nil
}

// fresh returns nil once green has fresh evidence for it, judged now,
// before a stage that cannot be undone once applied (or a window let
// close) goes ahead: the approval may be hours old, and so may the last
// bake. Fresh evidence is a round of the watched gates (see watch) with no
// Fail and at least one Pass (a comparative gate may stay pending once
// blue takes no traffic); a stage without gates needs none. A Fail rolls
// back; a round with no Pass is judged again every poll, and after the
// grace (RunnerOptions.Grace) fails closed. Every verdict of the last round is
// journaled, so the journal shows the evidence the PNR was crossed on.
func (d *drive) fresh(ctx context.Context) error {
	w := d.watched()
	if w < 0 || len(d.p.Stages[w].Gates) == 0 {
		return nil
	}
	deadline := d.clock.Now().Add(d.o.Grace)
	for {
		passed, _, err := d.watch(ctx, deadline)
		if err != nil {
			return err
		}
		for k := range d.watchGates {
			if st := &d.watchGates[k]; !st.journaled {
				if err := d.journalVerdict(ctx, w, st); err != nil {
					return err
				}
			}
		}
		if passed > 0 {
			return nil
		}
		if !d.clock.Now().Before(deadline) {
			for k := range d.watchGates {
				if st := &d.watchGates[k]; st.cur.Decision != Pass {
					return &rollbackCause{cause: &GateFailedError{Stage: d.p.Stages[w].Name, Gate: st.name, Verdict: st.cur, TimedOut: true}}
				}
			}
		}
		forget(d.watchGates)
		if err := d.sleep(ctx, d.o.PollInterval); err != nil {
			return err
		}
		if err := d.poll(ctx); err != nil {
			return err
		}
	}
}
