package managed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
)

// Defaults used where Options leave a field zero.
const (
	DefaultPollInterval    = 10 * time.Second
	DefaultTimeout         = 30 * time.Minute
	DefaultRollbackTimeout = 30 * time.Minute
	DefaultWindowMargin    = 5 * time.Minute
)

// Sentinel errors of this package, for errors.Is.
var (
	// ErrInvalidSetup: the deployment, the resources it names or the way
	// they are set up cannot work (an unknown deployment config, a service
	// without the right deployment controller, missing target groups). The
	// error is a *SetupError that names the resource.
	ErrInvalidSetup = errors.New("managed deployment set up wrongly")
	// ErrWaitTimeout: a bounded wait for the managed deployment to reach a
	// state ran out first. It is cutover.ErrWaitTimeout, so errors.Is works
	// whichever is named.
	ErrWaitTimeout = cutover.ErrWaitTimeout
	// ErrDeploymentFailed: the managed service failed or stopped the
	// deployment on its own (its alarms, a circuit breaker, a hook), or
	// someone stopped it outside this library.
	ErrDeploymentFailed = errors.New("managed deployment failed")
	// ErrTooLate: the original (blue) revision is already gone, so the
	// deployment can no longer be rolled back.
	ErrTooLate = errors.New("original revision already terminated")
	// ErrWindowUnknown: the library cannot tell when the managed service
	// started the clock that ends the rollback window, or it started too long
	// ago, so it refuses to declare a window that could outlast the real one.
	ErrWindowUnknown = errors.New("rollback window cannot be vouched for")
)

// SetupError names the resource (and, where there is one, the field) that
// makes a managed deployment impossible, and why. It unwraps to
// ErrInvalidSetup, and to the API error behind it if there was one.
type SetupError struct {
	Resource string // e.g. `codedeploy deployment group "app/dg"`
	Field    string // e.g. "deploymentStyle"; may be empty
	Msg      string
	Err      error // the API error, if any
}

// Error names the resource and what is wrong with its setup.
func (e *SetupError) Error() string {
	s := e.Resource
	if e.Field != "" {
		s += ": " + e.Field
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrInvalidSetup and the API error, if any.
func (e *SetupError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidSetup, e.Err}
	}
	return []error{ErrInvalidSetup}
}

// Options configure how a managed deployment is driven. The zero value is
// valid.
type Options struct {
	// Logger defaults to zap.NewNop().
	Logger *zap.Logger
	// Clock defaults to cutover.RealClock{}.
	Clock cutover.Clock
	// PollInterval is how often the deployment is read while waiting for
	// it. Default 10s.
	PollInterval time.Duration
	// Timeout bounds each wait for the deployment to reach a state: to
	// start, to become ready, to shift a traffic step, to finish. Default
	// 30m.
	Timeout time.Duration
	// RollbackTimeout bounds the wait for a rollback to finish. Default 30m.
	RollbackTimeout time.Duration
	// WindowMargin is taken off the managed service's own rollback window
	// (CodeDeploy's termination wait, ECS's bake time) to make the window
	// declared to the runner, so that the runner's clock — which starts when
	// the stage has been applied, a little after the service's — never runs
	// past the real one. It must cover the delay between the service
	// starting its clock and the stage being journaled. Default 5m.
	WindowMargin time.Duration
	// CallTimeout bounds each attempt of each CodeDeploy or ECS API call;
	// an attempt still open after it is abandoned and retried by the SDK's
	// retryer (a timeout is retryable), so one held connection does not
	// hold the stage. It must be ≥ 0; 0 means DefaultCallTimeout (20s).
	CallTimeout time.Duration
}

// windowDeadline is the deadline of the gates of a stage that bakes for
// bake inside a rollback window of w: gates still pending halfway from the
// end of the bake to the window's close fail closed, leaving time to roll
// back while the previous side is kept.
func windowDeadline(bake, w time.Duration) time.Duration {
	return bake + (w-bake)/2
}

// checkNew checks what every managed deployment is built from — a client
// and Options — and returns the options with their defaults; what names
// the deployment in errors ("codedeploy").
func checkNew(what string, client any, o Options) (Options, error) {
	if client == nil {
		return Options{}, fmt.Errorf("%s: client is nil", what)
	}
	if err := o.validate(); err != nil {
		return Options{}, err
	}
	return o.withDefaults(), nil
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Clock == nil {
		o.Clock = cutover.RealClock{}
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RollbackTimeout <= 0 {
		o.RollbackTimeout = DefaultRollbackTimeout
	}
	if o.WindowMargin <= 0 {
		o.WindowMargin = DefaultWindowMargin
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	return o
}

func (o Options) validate() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"PollInterval", o.PollInterval}, {"Timeout", o.Timeout}, {"RollbackTimeout", o.RollbackTimeout}, {"WindowMargin", o.WindowMargin}, {"CallTimeout", o.CallTimeout}} {
		if f.d < 0 {
			return fmt.Errorf("managed: Options.%s: %s is negative, want ≥ 0 (0 means the default)", f.name, f.d)
		}
	}
	return nil
}

// poll calls check every PollInterval until it reports done or fails, for
// at most bound (cutover.Poll, the one poll loop). what names the wait in
// errors.
func (o Options) poll(ctx context.Context, what string, bound time.Duration, check func(context.Context) (bool, error)) error {
	p := cutover.Poll{What: what, Interval: cutover.Backoff{Initial: o.PollInterval}, Clock: o.Clock, Logger: o.Logger}
	return p.Within(bound).Until(ctx, func(ctx context.Context) (bool, string, error) {
		done, err := check(ctx)
		return done, "", err
	})
}

// wholeMinutes converts d to whole minutes, rejecting what is not.
func wholeMinutes(field string, d time.Duration, lo, hi int) (int32, error) {
	if d%time.Minute != 0 {
		return 0, fmt.Errorf("%s: %s is not a whole number of minutes", field, d)
	}
	m := int(d / time.Minute)
	if m < lo || m > hi {
		return 0, fmt.Errorf("%s: %s outside %dm–%dm", field, d, lo, hi)
	}
	return int32(m), nil
}

func token() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}
