package cutover

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// RunnerOptions configure a Runner. The zero value is valid.
type RunnerOptions struct {
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
	// bakes or the cutover waits. Inside a reversible stage's Apply or
	// Verify, gates are judged each time the call's waits through Poll add
	// up to it, and commands are polled at it while the call runs.
	// Default 10s.
	PollInterval time.Duration
	// Grace is added to a stage's Bake to make its deadline when the stage
	// sets none. Default 5m.
	Grace time.Duration
	// RevertTimeout bounds the whole rollback, which runs on a context of its
	// own so that a cancelled caller does not leave traffic half-moved, and
	// likewise the roll-forward of an irreversible stage. Default 10m.
	RevertTimeout time.Duration
	// RetryBackoff is the first wait between two attempts of every action
	// the runner tries again: a failed revert, a failed apply of a
	// reversible stage (see ApplyAttempts) and the roll-forward of an
	// irreversible one. Each wait doubles, up to 30s. Default 1s.
	RetryBackoff time.Duration
	// ApplyAttempts is how often a reversible stage's Apply (with Verify)
	// is tried, while it fails with transient errors, before its failure
	// rolls the cutover back. Apply is idempotent, so a throttled or
	// timed-out call need not roll back a healthy release; a permanent
	// error (see Transient) rolls back at once. Default 30: with the
	// default RetryBackoff the waits add up to about 13 minutes, which
	// rides out a throttling burst or an outage of the provider's API
	// (a stage whose Apply makes many calls, like a rolling batch, needs
	// many attempts when a large share of calls fails). Between attempts
	// the runner takes in commands and judges green every poll interval,
	// as in a pause: an abort or a Fail rolls back at once. 1 rolls back
	// on the first failure. Irreversible stages are always applied again
	// (they cannot be rolled back).
	ApplyAttempts int
	// Transient reports whether an error of a stage's Apply, Verify or
	// Revert may go away if the call is made again (throttling, a 5xx, a
	// timeout, a reset connection). Transient errors are tried again with
	// backoff, within ApplyAttempts or RevertTimeout; permanent ones
	// (validation, access denied, not found) fail at once. Default
	// IsTransient; set providers.IsTransient when stages call AWS.
	Transient func(error) bool
	// TwoPerson requires an approver other than the initiator; it
	// needs Actor to be set. It is journaled in the start record, which
	// decides it for the cutover's whole life: a Run resuming a cutover
	// whose journal says otherwise is refused (ErrPlanMismatch).
	TwoPerson bool
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
	// Approvers, when set, are the keys allowed to start and steer the
	// cutover: the runner takes only commands signed by a key whose entry
	// allows them, answers every other with a refusal that says why
	// (unsigned, unknown key, wrong role, bad signature, replayed), and
	// the two-person rule compares keys. When nil, whoever can write the
	// journal can steer the cutover under any name.
	Approvers *Approvers
	// Signer signs the start record as Actor; required with Approvers,
	// whose entry for its key must allow the start role.
	Signer Signer
}

// Defaults of RunnerOptions.
const (
	defaultLeaseTTL      = 30 * time.Second
	defaultPollInterval  = 10 * time.Second
	defaultGrace         = 5 * time.Minute
	defaultRevertTimeout = 10 * time.Minute
	defaultRetryBackoff  = time.Second
	defaultApplyAttempts = 30
	maxRetryBackoff      = 30 * time.Second
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
func (o RunnerOptions) resolve() (RunnerOptions, error) {
	durs := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"LeaseTTL", &o.LeaseTTL, defaultLeaseTTL},
		{"PollInterval", &o.PollInterval, defaultPollInterval},
		{"Grace", &o.Grace, defaultGrace},
		{"RevertTimeout", &o.RevertTimeout, defaultRevertTimeout},
		{"RetryBackoff", &o.RetryBackoff, defaultRetryBackoff},
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
		return o, fmt.Errorf("runner options: ApplyAttempts: %d negative; want ≥ 1 (0: default %d)", o.ApplyAttempts, defaultApplyAttempts)
	}
	if o.ApplyAttempts == 0 {
		o.ApplyAttempts = defaultApplyAttempts
	}
	if o.Transient == nil {
		o.Transient = IsTransient
	}
	if o.TwoPerson && o.Actor == "" {
		// Without an initiator the rule could not tell the approver apart:
		// fail closed rather than accept anyone.
		return o, errors.New("runner options: Actor: empty with TwoPerson set; want who starts the cutover, so that an approval by them can be refused")
	}
	if o.Approvers != nil {
		if err := o.Approvers.Validate(); err != nil {
			return o, fmt.Errorf("runner options: %w", err)
		}
		if o.Actor == "" || o.Signer == nil {
			return o, errors.New("runner options: Actor and Signer: want both with Approvers set, so that the initiator is identified by key")
		}
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Logger == nil {
		o.Logger = nopLogger
	}
	return o, nil
}

// nopLogger is the default logger, shared: it writes nothing and is
// never changed (zap's loggers are safe for concurrent use).
var nopLogger = zap.NewNop()
