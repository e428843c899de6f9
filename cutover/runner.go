package cutover

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Options configure a Runner. The zero value is valid.
type Options struct {
	// Lease, if set, makes the runner hold a lease on the cutover while it
	// drives it, renewed every LeaseTTL/3. Default LeaseTTL: 30s.
	Lease    Lease
	LeaseTTL time.Duration
	// Owner identifies this runner in the lease (default: a random ID for
	// each Run).
	Owner string
	// Actor is who starts the cutover; it is journaled as the initiator.
	Actor string
	// Clock defaults to RealClock.
	Clock Clock
	// Logger defaults to zap.NewNop().
	Logger *zap.Logger
	// Observer receives events; nil means none.
	Observer Observer
	// PollInterval is how often gates and commands are polled while a stage
	// bakes or the cutover waits. Default 10s.
	PollInterval time.Duration
	// Grace is added to a stage's Bake to make its deadline when the stage
	// sets none. Default 5m.
	Grace time.Duration
	// RevertTimeout bounds the whole rollback, which runs on a context of its
	// own so that a cancelled caller does not leave traffic half-moved.
	// Default 10m. Failed reverts are retried with exponential backoff
	// from RevertBackoff (default 1s) up to 30s.
	RevertTimeout time.Duration
	RevertBackoff time.Duration
	// ApplyAttempts is how often a reversible stage's Apply (with Verify)
	// is tried before its failure rolls the cutover back. Apply is
	// idempotent, so a throttled or timed-out call need not roll back a
	// healthy release; tries are spaced like revert retries, from
	// RevertBackoff. Default 1: the first failure rolls back. Irreversible
	// stages are always applied again (they cannot be rolled back).
	ApplyAttempts int
	// TwoPersonRule requires an approver other than the initiator; it
	// needs Actor to be set.
	TwoPersonRule bool
	// PNRWarning is how long before a reversibility window closes the
	// EvPNRApproaching event is emitted. Default 10m.
	PNRWarning time.Duration
	// WaitForApproval makes Run wait (polling the journal) for an approval
	// at the PNR. When false, Run journals RecWaiting and returns
	// ErrPNRNotApproved at once; a later Run resumes. A reversibility window
	// keeps running after Run returns: if it may close before the next Run,
	// wait here, or the runner can no longer roll back before it closes (a
	// later Run then reports ErrPNRCrossed).
	WaitForApproval bool
}

// Runner executes plans. One Runner can drive many cutovers concurrently;
// each Run call drives one.
type Runner struct {
	j    Journal
	opts Options // with defaults filled in
	err  error   // what is wrong with the options
	// logOn is false when the logger drops every event (zap.NewNop), so
	// that no log fields are built.
	logOn bool
}

// NewRunner returns a runner that journals to j. Options out of range are
// reported by Run.
func NewRunner(j Journal, opts Options) *Runner {
	o, err := opts.resolve()
	r := &Runner{j: j, opts: o, err: err}
	if o.Logger != nil {
		r.logOn = o.Logger.Core().Enabled(zap.DebugLevel) || o.Logger.Core().Enabled(zap.InfoLevel)
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
	st := State{ID: id, Phase: PhaseNew}
	if r == nil || r.j == nil {
		return st, errors.New("runner: journal is nil; want NewRunner(journal, options)")
	}
	if id == "" {
		return st, errors.New("run: cutover id: empty")
	}
	if err := p.Validate(); err != nil {
		return st, err
	}
	if r.err != nil {
		return st, r.err
	}
	o := &r.opts
	d := &drive{j: r.j, o: o, id: id, p: &p, clock: o.Clock, log: o.Logger, logOn: r.logOn, obs: o.Observer, st: st}

	if d.o.Lease != nil {
		stop, err := d.holdLease(ctx)
		if err != nil {
			return st, err
		}
		defer stop()
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		defer context.AfterFunc(d.leaseCtx, func() { cancel(context.Cause(d.leaseCtx)) })()
	}
	st, err := d.run(ctx)
	return d.withVerdicts(st), err
}

// stageVerdict is the last journaled verdict of one gate of one stage.
type stageVerdict struct {
	index int
	gate  string
	v     Verdict
}

// withVerdicts returns st with the gates' last verdicts, which the drive
// keeps in a compact list rather than in a map per stage.
func (d *drive) withVerdicts(st State) State {
	for _, sv := range d.verdicts {
		if sv.index >= len(st.Stages) {
			continue
		}
		s := &st.Stages[sv.index]
		if s.Verdicts == nil {
			s.Verdicts = make(map[string]Verdict, 1)
		}
		s.Verdicts[sv.gate] = sv.v
	}
	return st
}

// Defaults of Options.
const (
	defaultLeaseTTL      = 30 * time.Second
	defaultPollInterval  = 10 * time.Second
	defaultGrace         = 5 * time.Minute
	defaultRevertTimeout = 10 * time.Minute
	defaultRevertBackoff = time.Second
	maxRevertBackoff     = 30 * time.Second
	defaultPNRWarning    = 10 * time.Minute
	// maxAppendConflicts bounds how often one append is retried after
	// commands from other processes won the race for its sequence number.
	maxAppendConflicts = 100
	// finishTimeout bounds journal appends after the rollback's own bound
	// has run out, and the lease release.
	finishTimeout = 30 * time.Second
)

// resolve returns o with defaults filled in, or an error naming a field
// that is out of range.
func (o Options) resolve() (Options, error) {
	durs := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"LeaseTTL", &o.LeaseTTL, defaultLeaseTTL},
		{"PollInterval", &o.PollInterval, defaultPollInterval},
		{"Grace", &o.Grace, defaultGrace},
		{"RevertTimeout", &o.RevertTimeout, defaultRevertTimeout},
		{"RevertBackoff", &o.RevertBackoff, defaultRevertBackoff},
		{"PNRWarning", &o.PNRWarning, defaultPNRWarning},
	}
	for _, d := range durs {
		if *d.v < 0 {
			return o, fmt.Errorf("runner options: %s: %s negative; want ≥ 0 (0: default %s)", d.name, *d.v, d.def)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.ApplyAttempts < 0 {
		return o, fmt.Errorf("runner options: ApplyAttempts: %d negative; want ≥ 1 (0: default 1)", o.ApplyAttempts)
	}
	if o.ApplyAttempts == 0 {
		o.ApplyAttempts = 1
	}
	if o.TwoPersonRule && o.Actor == "" {
		// Without an initiator the rule could not tell the approver apart:
		// fail closed rather than accept anyone.
		return o, errors.New("runner options: Actor: empty with TwoPersonRule set; want who starts the cutover, so that an approval by them can be refused")
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o, nil
}

// drive is the state of one Run call.
type drive struct {
	j     Journal
	o     *Options
	id    string
	p     *Plan
	clock Clock
	log   *zap.Logger
	logOn bool
	obs   Observer

	// leaseCtx is cancelled, with a cause wrapping ErrLeaseLost, when the
	// lease is lost; nil without a lease.
	leaseCtx context.Context

	// mu guards st and the bookkeeping below against Remember called from
	// goroutines of a stage's Apply or Revert.
	mu    sync.Mutex
	st    State
	marks []stageMark
	// liftSeq is the Seq of the last resume or promote command,
	// promoteSeq of the last promote.
	liftSeq    uint64
	promoteSeq uint64
	// failSeq is the Seq of the last RecFailed; redrive is set when a
	// resume newer than it sends a cutover that failed after its PNR
	// forward again.
	failSeq uint64
	redrive bool
	// waiting identifies the point the last RecWaiting was written for.
	waiting string
	// rbCause is why the cutover is rolling back, as the journal says;
	// gateFail is the last Fail verdict journaled, as a typed error, so
	// that a resumed rollback still reports it as one.
	rbCause  string
	gateFail *GateFailedError
	// verdicts holds the last journaled verdict of each gate (see
	// withVerdicts).
	verdicts []stageVerdict
	// unacked holds the commands folded in that no RecAck answers yet.
	unacked []Record

	gates []gateState // scratch for bake
	timer *time.Timer // reused by sleep on the real clock
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

// gateState is what bake knows of one gate.
type gateState struct {
	name      string
	last      Verdict // last journaled
	hasLast   bool
	cur       Verdict // last judged
	journaled bool    // cur is journaled
}

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
func (d *drive) run(ctx context.Context) (State, error) {
	recs, err := d.j.Read(ctx, d.id, 0)
	if err != nil {
		return d.st, fmt.Errorf("cutover %s: read journal: %w", d.id, err)
	}
	for i := range recs {
		if err := d.fold(&recs[i]); err != nil {
			return d.st, err
		}
	}
	if d.st.LastSeq == 0 {
		names := make([]string, len(d.p.Stages))
		for i := range d.p.Stages {
			names[i] = d.p.Stages[i].Name
		}
		if err := d.append(ctx, Record{Type: RecStart, Plan: d.p.Name, Stages: names, Actor: d.o.Actor,
			Outline: outline(d.p), TwoPerson: d.o.TwoPersonRule}); err != nil {
			return d.st, err
		}
	} else if err := d.matchPlan(); err != nil {
		return d.st, err
	}
	d.emit(EvStarted, -1, nil, "cutover "+string(d.st.Phase))

	switch d.st.Phase {
	case PhaseCompleted:
		return d.st, nil
	case PhaseRolledBack:
		return d.st, &outcomeError{kind: ErrRolledBack, cause: errors.New(d.st.Cause)}
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
		return d.st, nil
	}
	if rb, ok := err.(*rollbackCause); ok {
		if ctx.Err() != nil && d.pastPNR() {
			// The caller stopped the run after the PNR: there is nothing to
			// roll back to, and a cancellation is no evidence against
			// green. Stop with the journal as it is; a later Run goes on.
			d.emit(EvFailed, -1, rb.cause, "stopped after the point of no return; a later Run continues")
			return d.st, &outcomeError{kind: ErrPNRCrossed, cause: rb.cause,
				detail: errors.New("stopped after the point of no return; a later Run continues from the journal")}
		}
		return d.rollback(ctx, rb.cause)
	}
	return d.st, err
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
		d.unacked = append(d.unacked, *rec)
		if rec.Command == CmdResume || rec.Command == CmdPromote {
			d.liftSeq = rec.Seq
		}
		if rec.Command == CmdPromote {
			d.promoteSeq = rec.Seq
		}
	case RecAck:
		for k := range d.unacked {
			if d.unacked[k].Seq == rec.Ref {
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
	case RecVerdict:
		d.keepVerdict(rec)
		if rec.Verdict.Decision == Fail {
			d.gateFail = &GateFailedError{Stage: rec.Stage, Gate: rec.Gate, Verdict: *rec.Verdict}
			d.rbCause = d.gateFail.Error()
		}
	}
	return nil
}

// keepVerdict remembers the verdict of a RecVerdict record.
func (d *drive) keepVerdict(rec *Record) {
	for k := range d.verdicts {
		if sv := &d.verdicts[k]; sv.index == rec.Index && sv.gate == rec.Gate {
			sv.v = *rec.Verdict
			return
		}
	}
	d.verdicts = append(d.verdicts, stageVerdict{index: rec.Index, gate: rec.Gate, v: *rec.Verdict})
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
			return d.fold(&rec)
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
		if err := d.fold(&recs[i]); err != nil {
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

// sleep waits for dur or until ctx is done.
func (d *drive) sleep(ctx context.Context, dur time.Duration) error {
	var fired <-chan time.Time
	if _, real := d.clock.(RealClock); real {
		// On the real clock one timer serves the whole drive: a poll
		// costs no allocation (10,000 cutovers poll every few seconds).
		if d.timer == nil {
			d.timer = time.NewTimer(dur)
		} else {
			d.timer.Reset(dur)
		}
		defer d.timer.Stop()
		fired = d.timer.C
	} else {
		fired = d.clock.After(dur)
	}
	select {
	case <-ctx.Done():
		return d.stopped(ctx, ctx.Err())
	case <-fired:
		return nil
	}
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

// ackFor returns the answer to command c.
func (d *drive) ackFor(c *Record) Record {
	a := Record{Type: RecAck, Ref: c.Seq, Command: c.Command, Stage: c.Stage, Actor: c.Actor}
	baking := -1
	for i := range d.st.Stages {
		if d.st.Stages[i].Status == StageApplied {
			baking = i
		}
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
		switch {
		case c.Actor == "":
			a.Error = "refused: an approval must say who gave it"
		case !approver(&d.st, c.Actor, d.o.TwoPersonRule): // as approval() judges it
			a.Error = fmt.Sprintf("refused: two-person rule: %s started this cutover, so another person must approve", c.Actor)
		case c.Stage != "" && d.p.index(c.Stage) < 0:
			a.Error = fmt.Sprintf("refused: plan %q has no stage %q", d.p.Name, c.Stage)
		default:
			a.Reason = fmt.Sprintf("approval of %s by %s accepted", what, c.Actor)
		}
	}
	return a
}

// windows warns before reversibility windows close and rolls back while it
// still can when one would close, within a poll interval, unapproved.
func (d *drive) windows() error {
	now := d.clock.Now()
	for i := range d.p.Stages {
		s := &d.p.Stages[i]
		if s.Reversibility.Kind != KindWindow {
			continue
		}
		ss := &d.st.Stages[i]
		if (ss.Status != StageApplied && ss.Status != StageBaked) || ss.AppliedAt.IsZero() {
			continue
		}
		closes := ss.AppliedAt.Add(s.Reversibility.Window)
		m := &d.marks[i]
		if now.Before(closes) && m.flags&markWarned == 0 && !now.Before(closes.Add(-d.o.PNRWarning)) {
			m.flags |= markWarned
			d.emit(EvPNRApproaching, i, nil, "reversibility window closes at "+closes.Format(time.RFC3339))
		}
		if a, ok := approval(&d.st, s.Name, d.o.TwoPersonRule); ok {
			d.approved(i, a)
			if !now.Before(closes) && m.flags&markCrossed == 0 {
				m.flags |= markCrossed
				d.emit(EvPNRCrossed, i, nil, "approved reversibility window closed")
			}
			continue
		}
		if !now.Before(closes) {
			return &rollbackCause{cause: fmt.Errorf("stage %q: reversibility window closed at %s without approval: %w", s.Name, closes.Format(time.RFC3339), ErrPNRNotApproved)}
		}
		if !now.Add(d.o.PollInterval).Before(closes) {
			return &rollbackCause{cause: fmt.Errorf("stage %q: reversibility window closes at %s without approval: %w", s.Name, closes.Format(time.RFC3339), ErrPNRNotApproved)}
		}
	}
	return nil
}

// approved emits EvApproved once per stage.
func (d *drive) approved(i int, a Approval) {
	if d.marks[i].flags&markApproved != 0 {
		return
	}
	d.marks[i].flags |= markApproved
	if d.obs != nil || d.logOn {
		d.emit(EvApproved, i, nil, fmt.Sprintf("approved by %s: %s", a.Actor, a.Reason))
	}
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
			if err := d.append(ctx, Record{Type: RecIntent, Stage: d.p.Stages[i].Name, Index: i, Action: actionApply}); err != nil {
				return d.stopped(ctx, err)
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
			return &rollbackCause{cause: fmt.Errorf("stage %q is %s in the journal while the cutover runs forward", d.p.Stages[i].Name, st)}
		}
		if err := d.hold(ctx, i, d.p.Stages[i].Pause); err != nil {
			return err
		}
	}
	return d.finish(ctx)
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
		if err := d.sleep(ctx, d.o.PollInterval); err != nil {
			return err
		}
		if err := d.poll(ctx); err != nil {
			return err
		}
	}
	if held {
		d.emit(EvResumed, i, nil, "resumed")
	}
	return nil
}

// approve returns nil once stage i may be applied: it needs no approval or
// the journal holds a valid one. Otherwise it journals RecWaiting and
// returns ErrPNRNotApproved, or waits with Options.WaitForApproval.
func (d *drive) approve(ctx context.Context, i int) error {
	s := &d.p.Stages[i]
	if !needsApproval(s) {
		return nil
	}
	return d.await(ctx, i, actionApply, func() bool {
		a, ok := approval(&d.st, s.Name, d.o.TwoPersonRule)
		if ok {
			d.approved(i, a)
		}
		return ok
	})
}

// await waits for ok to hold, journaling RecWaiting for what (an action on
// stage i) once, or returns ErrPNRNotApproved without WaitForApproval.
func (d *drive) await(ctx context.Context, i int, what string, ok func() bool) error {
	s := &d.p.Stages[i]
	for !ok() {
		var msg string
		if what == actionApply {
			msg = fmt.Sprintf("stage %q (%s) needs an approval before it is applied", s.Name, s.Reversibility)
		} else {
			msg = fmt.Sprintf("stage %q: reversibility window needs an approval before it closes", s.Name)
		}
		if d.st.Phase != PhaseWaiting || d.waiting != what+":"+s.Name {
			if err := d.append(ctx, Record{Type: RecWaiting, Stage: s.Name, Index: i, Action: what, Error: msg}); err != nil {
				return d.stopped(ctx, err)
			}
		}
		if d.marks[i].flags&markWaitEvent == 0 {
			d.marks[i].flags |= markWaitEvent
			d.emit(EvWaitingApproval, i, nil, msg)
		}
		if !d.o.WaitForApproval {
			return fmt.Errorf("cutover %s: %s: %w", d.id, msg, ErrPNRNotApproved)
		}
		if err := d.sleep(ctx, d.o.PollInterval); err != nil {
			return err
		}
		if err := d.poll(ctx); err != nil {
			return err
		}
	}
	return nil
}

// stageHandle lets Remember and Recall find the stage being applied or
// reverted from the ctx passed to Apply or Revert.
type stageHandle struct {
	d      *drive
	i      int
	closed bool // guarded by d.mu
}

type stageKey struct{}

// call runs f (Apply, Verify or Revert of stage i) with a stage context.
func (d *drive) call(ctx context.Context, i int, f func(context.Context) error) error {
	h := &stageHandle{d: d, i: i}
	err := f(context.WithValue(ctx, stageKey{}, h))
	d.mu.Lock()
	h.closed = true
	d.mu.Unlock()
	return err
}

// apply applies and verifies stage i, whose intent is journaled.
func (d *drive) apply(ctx context.Context, i int) error {
	s := &d.p.Stages[i]
	d.emit(EvStageStarted, i, nil, "applying")
	var action string
	var err error
	backoff := d.o.RevertBackoff
	for attempt := 1; ; attempt++ {
		action = "apply"
		err = d.call(ctx, i, s.Apply)
		if err == nil && s.Verify != nil {
			action = "verify"
			err = d.call(ctx, i, s.Verify)
		}
		if err == nil || attempt >= d.o.ApplyAttempts || s.Reversibility.Kind == KindIrreversible || ctx.Err() != nil || d.leaseLost() {
			break
		}
		// Journaled like a failed revert attempt: the RecApplied that
		// ends the retries sets the cutover running again.
		se := &StageError{Stage: s.Name, Action: action, Err: err}
		if jerr := d.append(ctx, Record{Type: RecApplyFailed, Stage: s.Name, Index: i, Attempt: attempt, Error: se.Error()}); jerr != nil {
			return d.stopped(ctx, jerr)
		}
		d.emit(EvApplyRetry, i, se, fmt.Sprintf("apply attempt %d of %d failed; trying again", attempt, d.o.ApplyAttempts))
		if serr := d.sleep(ctx, backoff); serr != nil {
			return serr
		}
		backoff = min(2*backoff, maxRevertBackoff)
	}
	if err != nil {
		if d.leaseLost() {
			return d.stopped(ctx, err)
		}
		if s.Reversibility.Kind == KindIrreversible {
			return d.rollForward(ctx, i, &StageError{Stage: s.Name, Action: action, Err: err})
		}
		se := &StageError{Stage: s.Name, Action: action, Err: err}
		var cause error = se
		if ctx.Err() != nil {
			cause = context.Cause(ctx)
		}
		// The stage may be partly applied: journal that, then roll back
		// (which reverts it too). A cancelled caller's rollback journals
		// on a context of its own.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
		if jerr := d.append(actx, Record{Type: RecApplyFailed, Stage: s.Name, Index: i, Error: se.Error()}); jerr != nil {
			return d.stopped(ctx, jerr)
		}
		return &rollbackCause{cause: cause}
	}
	if err := d.append(ctx, Record{Type: RecApplied, Stage: s.Name, Index: i}); err != nil {
		return d.stopped(ctx, err)
	}
	d.marks[i].flags |= markAppliedHere
	if s.Reversibility.Kind == KindIrreversible {
		d.emit(EvPNRCrossed, i, nil, "irreversible stage applied")
	}
	d.emit(EvStageApplied, i, nil, "applied")
	return nil
}

// rollForward finishes irreversible stage i, whose Apply or Verify failed
// with first: such a stage cannot be reverted (it may have partly
// happened), so it is applied again, with exponential backoff, on a context
// of its own bounded by RevertTimeout, as a rollback would be. Each failed
// attempt is journaled as RecApplyFailed, under the stage's one apply
// intent (as failed reverts are under their one revert intent); the
// RecApplied that ends it sets the cutover running again. When the bound
// runs out, the
// cutover is journaled as failed with ErrPNRCrossed, and a later Run applies
// the stage again.
func (d *drive) rollForward(ctx context.Context, i int, first *StageError) error {
	s := &d.p.Stages[i]
	base := context.WithoutCancel(ctx)
	fctx, cancel := context.WithTimeout(base, d.o.RevertTimeout)
	defer cancel()
	jctx, jcancel := context.WithTimeout(base, d.o.RevertTimeout+finishTimeout)
	defer jcancel()
	if d.leaseCtx != nil {
		defer context.AfterFunc(d.leaseCtx, cancel)()
		defer context.AfterFunc(d.leaseCtx, jcancel)()
	}
	backoff := d.o.RevertBackoff
	err := first
	for attempt := 1; ; attempt++ {
		if jerr := d.append(jctx, Record{Type: RecApplyFailed, Stage: s.Name, Index: i, Attempt: attempt, Error: err.Error()}); jerr != nil {
			return d.stopped(ctx, jerr)
		}
		msg := fmt.Sprintf("irreversible stage failed to apply (attempt %d); it cannot be reverted, so it is applied again", attempt)
		d.emit(EvApplyRetry, i, err, msg)
		select {
		case <-fctx.Done():
			if d.leaseLost() {
				return d.stopped(ctx, err)
			}
			out := fmt.Sprintf("%s at stage %q: apply keeps failing (%d attempts): %s; a later Run applies it again", ErrPNRCrossed, s.Name, attempt, err)
			fc, fcancel := context.WithTimeout(base, finishTimeout)
			defer fcancel()
			if jerr := d.append(fc, Record{Type: RecFailed, Stage: s.Name, Index: i, Error: out}); jerr != nil {
				return errors.Join(err, jerr)
			}
			return &outcomeError{kind: ErrPNRCrossed, cause: err, detail: errors.New(out)}
		case <-d.clock.After(backoff):
		}
		backoff = min(2*backoff, maxRevertBackoff)
		action := "apply"
		aerr := d.call(fctx, i, s.Apply)
		if aerr == nil && s.Verify != nil {
			action = "verify"
			aerr = d.call(fctx, i, s.Verify)
		}
		if aerr == nil {
			break
		}
		err = &StageError{Stage: s.Name, Action: action, Err: aerr}
	}
	if jerr := d.append(jctx, Record{Type: RecApplied, Stage: s.Name, Index: i}); jerr != nil {
		return d.stopped(ctx, jerr)
	}
	d.marks[i].flags |= markAppliedHere
	d.emit(EvPNRCrossed, i, nil, "irreversible stage applied")
	d.emit(EvStageApplied, i, nil, "applied")
	return nil
}

// bake observes stage i, applied, until its bake time is over and every
// gate passes, a gate fails, or its deadline passes.
//
// The bake and the deadline count from when the stage was applied, also for
// a resumed runner; since the gates start afresh then, a resumed bake gets
// at least the stage's deadline minus its bake time (the grace) from now.
func (d *drive) bake(ctx context.Context, i int) error {
	s := &d.p.Stages[i]
	applied := d.st.Stages[i].AppliedAt
	bakeEnd := applied.Add(s.Bake)
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
	// Gates are bounded by the deadline (plus a poll) even if they ignore
	// their own timeouts. The deadline is on the injected clock, so the
	// bound is the time left on it, not a wall-clock instant.
	gctx, cancel := context.WithTimeout(ctx, deadline.Add(d.o.PollInterval).Sub(d.clock.Now()))
	defer cancel()

	gs := d.gates[:0]
	for k, g := range s.Gates {
		if r, ok := g.(Resetter); ok {
			r.Reset()
		}
		gs = append(gs, gateState{name: GateName(g, k)})
	}
	d.gates = gs
	promotes := d.st.Promotes

	for {
		now := d.clock.Now()
		fail, pending := -1, -1
		final := false
		for k, g := range s.Gates {
			v, err := g.Evaluate(gctx)
			if err != nil {
				if ctx.Err() != nil {
					return d.stopped(ctx, err)
				}
				v = Verdict{Decision: Pending, Reason: "gate error: " + err.Error()}
			}
			st := &gs[k]
			st.cur, st.journaled = v, false
			// Journal a verdict when the decision changes; the reason of a
			// pending gate changes every poll with its counts, and the last
			// verdict of the bake is journaled at its end (journalVerdicts).
			if !st.hasLast || st.last.Decision != v.Decision {
				if err := d.journalVerdict(ctx, i, st); err != nil {
					return err
				}
			}
			if d.obs != nil || d.logOn {
				d.emitVerdict(i, st, now.Sub(applied))
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
			return &rollbackCause{cause: &GateFailedError{Stage: s.Name, Gate: gs[fail].name, Verdict: gs[fail].cur}}
		}
		if d.st.Promotes > promotes {
			d.marks[i].flags |= markPromoted
			break
		}
		if pending < 0 && (final || !now.Before(bakeEnd)) {
			break
		}
		if !now.Before(deadline) {
			if err := d.journalVerdicts(ctx, i); err != nil {
				return err
			}
			return &rollbackCause{cause: &GateFailedError{Stage: s.Name, Gate: gs[pending].name, Verdict: gs[pending].cur, TimedOut: true}}
		}
		wait := d.o.PollInterval
		if now.Before(bakeEnd) {
			wait = min(wait, bakeEnd.Sub(now))
		}
		wait = min(wait, max(deadline.Sub(now), 0))
		if err := d.sleep(ctx, wait); err != nil {
			return err
		}
		if err := d.poll(ctx); err != nil {
			return err
		}
	}
	if err := d.journalVerdicts(ctx, i); err != nil {
		return err
	}
	if err := d.append(ctx, Record{Type: RecBaked, Stage: s.Name, Index: i}); err != nil {
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
	st.last, st.hasLast, st.journaled = v, true, true
	return nil
}

// journalVerdicts journals the last verdict of every gate of the bake that
// differs from its last journaled one, so the journal holds the evidence
// the stage was passed or failed on.
func (d *drive) journalVerdicts(ctx context.Context, i int) error {
	for k := range d.gates {
		st := &d.gates[k]
		if st.journaled || sameVerdict(st.last, st.cur) {
			continue
		}
		if err := d.journalVerdict(ctx, i, st); err != nil {
			return err
		}
	}
	return nil
}

// sameVerdict reports whether a and b say the same, figures included.
func sameVerdict(a, b Verdict) bool {
	if a.Decision != b.Decision || a.Reason != b.Reason || a.Final != b.Final || len(a.Figures) != len(b.Figures) {
		return false
	}
	for k, v := range a.Figures {
		if w, ok := b.Figures[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// finish completes the cutover once no reversibility window is open
// without an approval.
func (d *drive) finish(ctx context.Context) error {
	for {
		open := -1
		for i := range d.p.Stages {
			s := &d.p.Stages[i]
			ss := &d.st.Stages[i]
			if s.Reversibility.Kind != KindWindow || ss.Status != StageBaked || ss.AppliedAt.IsZero() {
				continue
			}
			if _, ok := approval(&d.st, s.Name, d.o.TwoPersonRule); !ok {
				open = i
				break
			}
		}
		if open < 0 {
			break
		}
		// poll rolls back if the window would close before approval.
		err := d.await(ctx, open, "close", func() bool {
			_, ok := approval(&d.st, d.p.Stages[open].Name, d.o.TwoPersonRule)
			return ok
		})
		if err != nil {
			return err
		}
	}
	if err := d.append(ctx, Record{Type: RecCompleted}); err != nil {
		return d.stopped(ctx, err)
	}
	d.emit(EvCompleted, -1, nil, "completed")
	return nil
}

// rollback reverts the applied stages in reverse order, on a context of its
// own bounded by RevertTimeout, and journals the outcome.
func (d *drive) rollback(ctx context.Context, cause error) (State, error) {
	if d.leaseLost() {
		return d.st, fmt.Errorf("cutover %s: %w", d.id, context.Cause(d.leaseCtx))
	}
	if cause == nil {
		cause = errors.New("rollback")
	}
	base := context.WithoutCancel(ctx)
	rctx, cancel := context.WithTimeout(base, d.o.RevertTimeout)
	defer cancel()
	// Journal appends get a little longer than the reverts, so that the
	// outcome of the last attempt is journaled.
	jctx, jcancel := context.WithTimeout(base, d.o.RevertTimeout+finishTimeout)
	defer jcancel()
	if d.leaseCtx != nil {
		defer context.AfterFunc(d.leaseCtx, cancel)()
		defer context.AfterFunc(d.leaseCtx, jcancel)()
	}
	d.emit(EvRollingBack, -1, cause, "rolling back")

	causeText := cause.Error()
	reverted, crossed := 0, -1
	for i := len(d.p.Stages) - 1; i >= 0; i-- {
		ss := &d.st.Stages[i]
		if !touched(ss.Status) {
			continue
		}
		if !revertible(d.p, ss, i, d.clock.Now()) {
			crossed = i
			break
		}
		if err := d.revert(rctx, jctx, i, causeText); err != nil {
			if d.leaseLost() {
				return d.st, fmt.Errorf("cutover %s: %w", d.id, context.Cause(d.leaseCtx))
			}
			msg := fmt.Sprintf("%s: %s; cause: %s", ErrRollbackIncomplete, err, causeText)
			fctx, fcancel := context.WithTimeout(base, finishTimeout)
			defer fcancel()
			if jerr := d.append(fctx, Record{Type: RecFailed, Stage: d.p.Stages[i].Name, Index: i, Error: msg}); jerr != nil {
				err = errors.Join(err, jerr)
			}
			d.emit(EvFailed, i, err, msg)
			return d.st, &outcomeError{kind: ErrRollbackIncomplete, cause: cause, detail: err}
		}
		reverted++
	}
	if crossed >= 0 {
		out := &outcomeError{kind: ErrPNRCrossed, cause: cause,
			detail: fmt.Errorf("stage %q can no longer be reverted", d.p.Stages[crossed].Name)}
		if d.st.Phase == PhaseFailed && reverted == 0 {
			return d.st, out
		}
		msg := fmt.Sprintf("%s at stage %q: %s; once green is fixed, send resume and run again to go on", ErrPNRCrossed, d.p.Stages[crossed].Name, causeText)
		if err := d.append(jctx, Record{Type: RecFailed, Stage: d.p.Stages[crossed].Name, Index: crossed, Error: msg}); err != nil {
			out.detail = err
			return d.st, out
		}
		d.emit(EvFailed, crossed, cause, msg)
		return d.st, out
	}
	if err := d.append(jctx, Record{Type: RecRolledBack, Error: causeText}); err != nil {
		return d.st, &outcomeError{kind: ErrRollbackIncomplete, cause: cause, detail: err}
	}
	d.emit(EvRolledBack, -1, cause, "rolled back")
	return d.st, &outcomeError{kind: ErrRolledBack, cause: cause}
}

// revert reverts stage i, retrying with exponential backoff until rctx is
// done. Journal appends use jctx.
func (d *drive) revert(rctx, jctx context.Context, i int, cause string) error {
	s := &d.p.Stages[i]
	if d.st.Stages[i].Status != StageReverting {
		if err := d.append(jctx, Record{Type: RecIntent, Stage: s.Name, Index: i, Action: actionRevert, Error: cause}); err != nil {
			return err
		}
	}
	backoff := d.o.RevertBackoff
	for attempt := d.st.Stages[i].RevertAttempts + 1; ; attempt++ {
		err := rctx.Err()
		if err == nil {
			err = d.call(rctx, i, s.Revert)
		}
		if err == nil {
			if err := d.append(jctx, Record{Type: RecReverted, Stage: s.Name, Index: i}); err != nil {
				return err
			}
			d.emit(EvStageReverted, i, nil, "reverted")
			return nil
		}
		se := &StageError{Stage: s.Name, Action: "revert", Err: err}
		if jerr := d.append(jctx, Record{Type: RecRevertFailed, Stage: s.Name, Index: i, Attempt: attempt, Error: err.Error()}); jerr != nil {
			return errors.Join(se, jerr)
		}
		d.emit(EvRevertFailed, i, se, fmt.Sprintf("revert attempt %d failed", attempt))
		select {
		case <-rctx.Done():
			return fmt.Errorf("%w (gave up after attempt %d: %w)", se, attempt, context.Cause(rctx))
		case <-d.clock.After(backoff):
		}
		backoff = min(2*backoff, maxRevertBackoff)
	}
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
