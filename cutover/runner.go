package cutover

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Runner executes plans. One Runner can drive many cutovers concurrently;
// each Run call drives one.
type Runner struct {
	j    Journal
	opts RunnerOptions // with defaults filled in
	// logOn is false when the logger drops every level (zap.NewNop), so
	// that no event is built for it; which events it writes is left to
	// its Check.
	logOn bool
}

// NewRunner returns a runner that journals to j, or an error naming what
// is wrong: a nil j, or the first field of opts out of range ("FIELD:
// VALUE: want RANGE", saying what 0 means). The zero RunnerOptions are
// valid: every field has a default.
func NewRunner(j Journal, opts RunnerOptions) (*Runner, error) {
	if j == nil {
		return nil, errors.New("runner: journal: nil; want a Journal (NewMemJournal, NewFileJournal or a provider's)")
	}
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	r := &Runner{j: j, opts: o}
	if o.Logger != nil {
		r.logOn = logsAny(o.Logger)
	}
	return r, nil
}

// MustNewRunner is NewRunner for a journal and options written in the
// program (tests, examples): it panics where NewRunner returns an error,
// as regexp.MustCompile does on a bad expression. Options that come from
// flags, files or users go through NewRunner.
func MustNewRunner(j Journal, opts RunnerOptions) *Runner {
	r, err := NewRunner(j, opts)
	if err != nil {
		panic(err)
	}
	return r
}

// Run drives cutover id through plan p to the end: it starts a new cutover,
// or resumes one whose journal already has records. It returns the final
// state and nil when the plan completed; otherwise an error that unwraps to
// ErrRolledBack (with the cause), ErrRollbackIncomplete, ErrPNRNotApproved,
// ErrPNRCrossed or ErrLeaseHeld.
//
// A journal error other than a lost race stops Run at once, without touching
// the cloud further: the journal stays the truth, and a later Run resumes.
// See the package documentation for the whole life cycle.
func (r *Runner) Run(ctx context.Context, id string, p Plan) (State, error) {
	d, err := r.newDrive(id, &p)
	if err != nil {
		return State{ID: id, Phase: PhaseNew}, err
	}
	if d.o.Lease != nil {
		stop, err := d.holdLease(ctx)
		if err != nil {
			return d.st, err
		}
		d.unlease = stop
		defer stop()
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		defer context.AfterFunc(d.leaseCtx, func() { cancel(context.Cause(d.leaseCtx)) })()
	}
	err = d.run(ctx)
	d.foldKept()
	return d.st, err
}

// newDrive checks a Run's arguments and returns the drive for them. It is
// apart from Run so that Run's frame, which stays on the goroutine's stack
// for the whole cutover, holds none of its temporaries: with thousands of
// cutovers at once, the stacks the collector scans are a large part of the
// heap's goal.
func (r *Runner) newDrive(id string, p *Plan) (*drive, error) {
	if r == nil || r.j == nil {
		return nil, errors.New("runner: journal is nil; want a Runner from NewRunner")
	}
	if id == "" {
		return nil, errors.New("run: cutover id: empty")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	o := &r.opts
	return &drive{j: r.j, o: o, id: id, p: p, clock: o.Clock, log: o.Logger, logOn: r.logOn, obs: o.Observer,
		st: State{ID: id, Phase: PhaseNew}}, nil
}

// drive is the state of one Run call.
type drive struct {
	j     Journal
	o     *RunnerOptions
	id    string
	p     *Plan
	clock Clock
	log   *zap.Logger
	logOn bool
	// redrive is set when a resume newer than failSeq sends a cutover that
	// failed after its PNR forward again. (It and watchIdx sit by logOn:
	// the drive fits a smaller size class.)
	redrive bool
	// watchIdx is the stage whose gates watch judges, watchGates what it
	// knows of them.
	watchIdx int32
	obs      Observer

	// leaseCtx is cancelled, with a cause wrapping ErrLeaseLost, when the
	// lease is lost; nil without a lease.
	leaseCtx context.Context
	// unlease stops renewing the lease and releases it, once (nil without
	// a lease): at the end of Run, or when attend has concluded the
	// cutover without a gate that does not return (see judging.takeOver).
	unlease func()

	// mu guards st and the bookkeeping below against Remember called from
	// goroutines of a stage's Apply or Revert.
	mu    sync.Mutex
	st    State
	marks []stageMark
	// liftSeq is the Seq of the last resume or promote command,
	// promoteSeq of the last promote.
	liftSeq    uint64
	promoteSeq uint64
	// failSeq is the Seq of the last RecFailed (see redrive).
	failSeq uint64
	// waiting identifies the point the last RecWaiting was written for.
	waiting string
	// rbCause is why the cutover is rolling back, as the journal says;
	// gateFail is the last Fail verdict journaled, as a typed error, so
	// that a resumed rollback still reports it as one.
	rbCause  string
	gateFail *GateFailedError
	// verdicts holds the last journaled verdict of each gate, data what
	// each stage remembered (see foldKept).
	verdicts []stageVerdict
	data     []stageDatum
	// unacked holds the commands folded in that no RecAck answers yet.
	unacked []takenCommand
	// With RunnerOptions.Approvers: chk checks the signed records in journal
	// order, refused holds the refusals of commands and signers the
	// verified keys of the others, by Seq, until they are answered.
	chk     *checker
	refused map[uint64]*RefusedError
	signers map[uint64]Identity

	gates      []gateState // scratch for bake
	watchGates []gateState
	timer      *time.Timer // reused by after on the real and the scaled clock
	judging    *judging    // attends to the journal during a round of gates
	// cut is why attend cut a stage's call short, until apply takes it
	// as the cause of the rollback.
	cut error
}

// stageMark is the drive's bookkeeping for one stage.
type stageMark struct {
	appliedSeq uint64 // Seq of RecApplied
	bakedSeq   uint64 // Seq of RecBaked
	flags      uint8
}

// Flags of stageMark: events emitted once per Run and per stage.
const (
	markWarned      uint8 = 1 << iota // EvPNRApproaching
	markCrossed                       // EvPNRCrossed for a closed window
	markApproved                      // EvApproved
	markWaitEvent                     // EvWaitingApproval
	markAppliedHere                   // this Run applied the stage
	markPromoted                      // a promote ended the stage's bake
)

// rollbackCause is returned inside the drive to ask for a rollback.
type rollbackCause struct{ cause error }

func (r *rollbackCause) Error() string { return "roll back: " + r.cause.Error() }

func (r *rollbackCause) Unwrap() error { return r.cause }

// outcomeError is what Run returns when a cutover did not complete: Kind is
// ErrRolledBack, ErrRollbackIncomplete or ErrPNRCrossed, Cause why it was
// rolled back, Detail (optional) what stopped the rollback. errors.Is and
// errors.As reach all three.
type outcomeError struct {
	kind, cause, detail error
}

func (e *outcomeError) Error() string {
	s := e.kind.Error() + ": " + e.cause.Error()
	if e.detail != nil {
		s += "; " + e.detail.Error()
	}
	return s
}

func (e *outcomeError) Unwrap() []error {
	if e.detail != nil {
		return []error{e.kind, e.cause, e.detail}
	}
	return []error{e.kind, e.cause}
}

// run reads and folds the journal and drives the cutover from there.
func (d *drive) run(ctx context.Context) error {
	rctx := ctx
	if errors.Is(context.Cause(ctx), ErrSuspended) {
		// Suspended before it began (a SIGTERM between two Runs): the
		// journal is read (and its signed records checked) all the same,
		// so that the stop is journaled where the cutover stands, as a
		// suspension during the run is.
		var cancel context.CancelFunc
		rctx, cancel = detached(ctx, finishTimeout, d.leaseCtx)
		defer cancel()
	}
	recs, err := d.j.Read(rctx, d.id, 0)
	if err != nil {
		return fmt.Errorf("cutover %s: read journal: %w", d.id, err)
	}
	for i := range recs {
		if err := d.take(rctx, &recs[i]); err != nil { // signatures are checked as the records are read
			return err
		}
	}
	if d.st.LastSeq == 0 {
		if err := d.start(ctx); err != nil {
			return err
		}
	} else if err := d.matchPlan(); err != nil {
		return err
	}
	d.emit(EvStarted, -1, nil, "cutover "+string(d.st.Phase))

	switch d.st.Phase {
	case PhaseCompleted:
		return nil
	case PhaseRolledBack:
		return &outcomeError{kind: ErrRolledBack, cause: errors.New(d.st.Cause)}
	case PhaseRollingBack, PhaseFailed:
		if d.st.Phase == PhaseFailed && d.pastPNR() && d.liftSeq > d.failSeq {
			// It failed after the PNR, so it could not be rolled back;
			// someone has since sent resume (green fixed): go forward
			// again, applying again the stages the failure reverted.
			d.redrive = true
			d.emit(EvResumed, -1, nil, "resumed after a failure past the point of no return")
			break
		}
		if d.unfinishedIrreversible() < 0 {
			return d.rollback(ctx, d.journaledCause())
		}
		// An irreversible stage failed to apply: nothing before it can be
		// reverted any more (it may have partly happened), so the only way
		// out is forward. Apply is idempotent.
	}
	err = d.forward(ctx)
	if err == nil {
		return nil
	}
	if t, ok := err.(*takenOver); ok {
		return t.out // attend concluded the cutover (see judging.takeOver)
	}
	return d.conclude(ctx, err)
}

// conclude ends a drive whose forward returned err: a suspension is
// journaled, a *rollbackCause rolls back (or, when the caller stopped the
// run past the PNR, leaves the journal for a later Run), and another error
// stops the drive as it is.
func (d *drive) conclude(ctx context.Context, err error) error {
	if errors.Is(err, ErrSuspended) && !d.leaseLost() {
		return d.suspend(ctx)
	}
	if rb, ok := err.(*rollbackCause); ok {
		if ctx.Err() != nil && d.pastPNR() {
			// The caller stopped the run after the PNR: there is nothing to
			// roll back to, and a cancellation is no evidence against
			// green. Stop with the journal as it is; a later Run goes on.
			d.emit(EvFailed, -1, rb.cause, "stopped after the point of no return; a later Run continues")
			return &outcomeError{kind: ErrPNRCrossed, cause: rb.cause,
				detail: errors.New("stopped after the point of no return; a later Run continues from the journal")}
		}
		return d.rollback(ctx, rb.cause)
	}
	return err
}

// start journals the start of a new cutover.
func (d *drive) start(ctx context.Context) error {
	start := Record{Type: RecStart, Plan: d.p.Name, Stages: d.p.names(), Actor: d.o.Actor,
		Outline: outline(d.p), TwoPerson: d.o.TwoPerson}
	if err := d.signStart(ctx, &start); err != nil {
		return err
	}
	return d.append(ctx, start)
}

// suspend journals that the cutover stopped on ErrSuspended, where it
// stands, and returns an error wrapping ErrSuspended. Nothing is reverted;
// the next Run resumes from the journal.
func (d *drive) suspend(ctx context.Context) error {
	msg := "suspended before any stage was applied"
	for i := len(d.st.Stages) - 1; i >= 0; i-- {
		if ss := &d.st.Stages[i]; touched(ss.Status) {
			msg = fmt.Sprintf("suspended at stage %q (%s): traffic stays as the stages applied set it, nothing was rolled back; the next Run resumes here", ss.Name, ss.Status)
			break
		}
	}
	jctx, cancel := detached(ctx, finishTimeout, d.leaseCtx)
	defer cancel()
	if err := d.append(jctx, Record{Type: RecSuspended, Error: msg}); err != nil {
		return fmt.Errorf("cutover %s: journal the suspension: %w (%w)", d.id, err, ErrSuspended)
	}
	d.emit(EvSuspended, -1, nil, msg)
	return fmt.Errorf("cutover %s: %s: %w", d.id, msg, ErrSuspended)
}

// unfinishedIrreversible returns the index of an irreversible stage that is
// the last stage touched and has not been applied (its apply failed or was
// cut short), or -1.
func (d *drive) unfinishedIrreversible() int {
	for i := len(d.st.Stages) - 1; i >= 0; i-- {
		ss := &d.st.Stages[i]
		if !touched(ss.Status) {
			continue
		}
		if d.p.Stages[i].Reversibility.Kind == KindIrreversible && (ss.Status == StageApplying || ss.Status == StageFailed) {
			return i
		}
		return -1
	}
	return -1
}

// undone reports whether stage i is one a failure after the PNR reverted,
// or left half-reverted or failed, so that a resumed cutover applies it
// again (Apply is idempotent).
func (d *drive) undone(i int) bool {
	switch d.st.Stages[i].Status {
	case StageReverted, StageReverting:
		return true
	case StageFailed:
		return i != d.unfinishedIrreversible()
	}
	return false
}

// pastPNR reports whether some applied stage can no longer be reverted.
func (d *drive) pastPNR() bool {
	now := d.clock.Now()
	for i := range d.st.Stages {
		ss := &d.st.Stages[i]
		if touched(ss.Status) && !revertible(d.p, ss, i, now) {
			return true
		}
	}
	return false
}

// journaledCause rebuilds the cause of a rollback from the journal.
func (d *drive) journaledCause() error {
	switch {
	case d.rbCause == ErrAborted.Error():
		return ErrAborted
	case d.gateFail != nil && d.rbCause == d.gateFail.Error():
		return d.gateFail
	case d.rbCause != "":
		return errors.New(d.rbCause)
	case d.st.Cause != "":
		return errors.New(d.st.Cause)
	case d.st.Aborted:
		return ErrAborted
	}
	return errors.New("rollback found in the journal")
}

// matchPlan checks that the journal's start record is for plan p.
func (d *drive) matchPlan() error {
	// The plan is named in the start record, record 1.
	where := "the start record"
	if l, ok := d.j.(Locator); ok {
		where = l.Locate(d.id, 1)
	}
	if d.st.Plan != d.p.Name {
		return fmt.Errorf("cutover %s: journal (%s) is for plan %q, not %q: %w", d.id, where, d.st.Plan, d.p.Name, ErrPlanMismatch)
	}
	if d.st.TwoPerson != d.o.TwoPerson {
		// The start record decides the rule; a runner that would judge
		// approvals by another one is refused, as a different plan is.
		return fmt.Errorf("cutover %s: RunnerOptions.TwoPerson: %t, but the journal (%s) has it %t; want the journal's value: %w", d.id, d.o.TwoPerson, where, d.st.TwoPerson, ErrPlanMismatch)
	}
	if len(d.st.Stages) != len(d.p.Stages) {
		return fmt.Errorf("cutover %s: journal (%s) has %d stages, plan %q has %d: %w", d.id, where, len(d.st.Stages), d.p.Name, len(d.p.Stages), ErrPlanMismatch)
	}
	for i := range d.p.Stages {
		if d.st.Stages[i].Name != d.p.Stages[i].Name {
			return fmt.Errorf("cutover %s: stage %d is %q in the journal (%s), %q in plan %q: %w", d.id, i, d.st.Stages[i].Name, where, d.p.Stages[i].Name, d.p.Name, ErrPlanMismatch)
		}
	}
	return nil
}

// fold folds rec into the state and the drive's bookkeeping. The caller
// holds mu or is the only goroutine.
func (d *drive) fold(rec *Record) error {
	if err := d.st.apply(rec, false); err != nil {
		return err
	}
	switch rec.Type {
	case RecStart:
		d.marks = make([]stageMark, len(d.st.Stages))
	case RecApplied:
		d.marks[rec.Index].appliedSeq = rec.Seq
	case RecBaked:
		m := &d.marks[rec.Index]
		m.bakedSeq = rec.Seq
		// A promote between the stage's apply and its bake ended the bake
		// and skips the stage's Pause, also for a runner that resumes
		// later from the journal.
		if d.promoteSeq > m.appliedSeq {
			m.flags |= markPromoted
		}
	case RecCommand:
		// What the command does is judged as it is taken in: a promote
		// folded in on a conflict has ended the bake by the time it is
		// answered.
		d.unacked = append(d.unacked, takenCommand{rec: *rec, baking: d.baking()})
		if rec.Command == CmdResume || rec.Command == CmdPromote {
			d.liftSeq = rec.Seq
		}
		if rec.Command == CmdPromote {
			d.promoteSeq = rec.Seq
		}
	case RecAck:
		for k := range d.unacked {
			if d.unacked[k].rec.Seq == rec.Ref {
				d.unacked = append(d.unacked[:k], d.unacked[k+1:]...)
				break
			}
		}
	case RecWaiting:
		d.waiting = rec.Action + ":" + rec.Stage
	case RecFailed:
		d.failSeq = rec.Seq
	case RecIntent:
		if rec.Action == actionApply {
			d.waiting = ""
		} else if rec.Error != "" {
			d.rbCause = rec.Error
		}
	case RecApplyFailed:
		d.rbCause = rec.Error
	case RecData:
		d.keepDatum(rec)
	case RecVerdict:
		d.keepVerdict(rec)
		if rec.Verdict.Decision == Fail {
			d.gateFail = &GateFailedError{Stage: rec.Stage, Gate: rec.Gate, Verdict: *rec.Verdict}
			d.rbCause = d.gateFail.Error()
		}
	}
	return nil
}

// append journals rec at the next Seq and folds it in. When commands from
// other processes won the race for the Seq, it folds them in and retries;
// any other record means another runner drives the cutover (ErrLeaseLost).
func (d *drive) append(ctx context.Context, rec Record) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.appendLocked(ctx, rec)
}

func (d *drive) appendLocked(ctx context.Context, rec Record) error {
	rec.Time = d.clock.Now()
	for tries := 0; ; tries++ {
		rec.Seq = d.st.LastSeq + 1
		err := d.j.Append(ctx, d.id, rec)
		if err == nil {
			return d.take(ctx, &rec)
		}
		if !errors.Is(err, ErrConflict) {
			return fmt.Errorf("cutover %s: journal %s seq %d: %w", d.id, rec.Type, rec.Seq, err)
		}
		if tries >= maxAppendConflicts {
			return fmt.Errorf("cutover %s: journal %s: lost %d races for the sequence number: %w", d.id, rec.Type, tries+1, ErrLeaseLost)
		}
		n, err := d.pullLocked(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("cutover %s: journal %s seq %d: conflict, yet no new records: %w", d.id, rec.Type, rec.Seq, ErrLeaseLost)
		}
	}
}

// pull folds in the records other processes appended: commands. Any other
// record means another runner drives the cutover.
func (d *drive) pull(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := d.pullLocked(ctx)
	return err
}

func (d *drive) pullLocked(ctx context.Context) (int, error) {
	recs, err := d.j.Read(ctx, d.id, d.st.LastSeq)
	if err != nil {
		return 0, fmt.Errorf("cutover %s: read journal: %w", d.id, err)
	}
	for i := range recs {
		if recs[i].Type != RecCommand {
			return i, fmt.Errorf("cutover %s: another runner wrote %s record seq %d: %w", d.id, recs[i].Type, recs[i].Seq, ErrLeaseLost)
		}
		if err := d.take(ctx, &recs[i]); err != nil {
			return i, err
		}
		d.logCommand(&recs[i])
	}
	return len(recs), nil
}

// leaseLost reports whether the lease was lost.
func (d *drive) leaseLost() bool {
	return d.leaseCtx != nil && d.leaseCtx.Err() != nil
}

// stopped turns an error of the forward drive into a stop or a rollback: a
// cancelled caller rolls back; a lost lease or a broken journal stops.
func (d *drive) stopped(ctx context.Context, err error) error {
	if d.leaseLost() {
		return fmt.Errorf("cutover %s: %w", d.id, context.Cause(d.leaseCtx))
	}
	if errors.Is(err, ErrLeaseLost) {
		return err
	}
	if ctx.Err() != nil {
		return &rollbackCause{cause: context.Cause(ctx)}
	}
	return err
}

// forward moves the cutover stage by stage to the end. It returns nil when
// the plan completed, a *rollbackCause to roll back, or an error to stop.
func (d *drive) forward(ctx context.Context) error {
	for i := range d.p.Stages {
		if err := d.poll(ctx); err != nil {
			return err
		}
		if st := d.st.Stages[i].Status; st == StagePending || d.redrive && d.undone(i) {
			if err := d.hold(ctx, i, false); err != nil {
				return err
			}
			if err := d.approve(ctx, i); err != nil {
				return err
			}
			// A pause sent while the runner waited for the approval
			// still holds.
			if err := d.hold(ctx, i, false); err != nil {
				return err
			}
			// A stage that cannot be undone goes ahead only on fresh
			// evidence that green is healthy.
			if d.p.Stages[i].Reversibility.Kind != KindReversible {
				if err := d.fresh(ctx); err != nil {
					return err
				}
			}
			if err := d.intendApply(ctx, i); err != nil {
				return err
			}
		}
		// A stage applying, or an irreversible stage whose apply failed
		// (resumed: it is applied again, see rollForward), is applied.
		if st := d.st.Stages[i].Status; st == StageApplying || st == StageFailed && i == d.unfinishedIrreversible() {
			if err := d.apply(ctx, i); err != nil {
				return err
			}
		}
		if d.st.Stages[i].Status == StageApplied {
			if err := d.bake(ctx, i); err != nil {
				return err
			}
		}
		if st := d.st.Stages[i].Status; st != StageBaked {
			return d.notBaked(i)
		}
		if err := d.hold(ctx, i, d.p.Stages[i].Pause); err != nil {
			return err
		}
	}
	return d.finish(ctx)
}
