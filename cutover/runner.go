package cutover

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// Options configure a Runner. The zero value is valid.
type Options struct {
	// Lease, if set, makes the runner hold a lease on the cutover while it
	// drives it, renewed every LeaseTTL/3. Default LeaseTTL: 30s.
	Lease    Lease
	LeaseTTL time.Duration
	// Owner identifies this runner in the lease (default: a random ID).
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
	// TwoPersonRule requires an approver other than the initiator.
	TwoPersonRule bool
	// PNRWarning is how long before a reversibility window closes the
	// EvPNRApproaching event is emitted. Default 10m.
	PNRWarning time.Duration
	// WaitForApproval makes Run wait (polling the journal) for an approval
	// at the PNR. When false, Run journals RecWaiting and returns
	// ErrPNRNotApproved at once; a later Run resumes.
	WaitForApproval bool
}

// Runner executes plans. One Runner can drive many cutovers concurrently;
// each Run call drives one.
type Runner struct {
	j    Journal
	opts Options
}

// NewRunner returns a runner that journals to j.
func NewRunner(j Journal, opts Options) *Runner {
	return &Runner{j: j, opts: opts}
}

// Run drives cutover id through plan p to the end: it starts a new cutover,
// or resumes one whose journal already has records. It returns the final
// state and nil when the plan completed; otherwise an error that unwraps to
// ErrRolledBack (with the cause), ErrRollbackIncomplete, ErrPNRNotApproved,
// ErrPNRCrossed or ErrLeaseHeld.
func (r *Runner) Run(ctx context.Context, id string, p Plan) (State, error) {
	panic("not implemented")
}
