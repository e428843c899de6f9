package cutover

import (
	"context"
	"errors"
	"time"
)

// IsTransient reports whether err says that the same call may succeed if it
// is made again: the first error in its chain that has a Transient() bool
// or RetryableError() bool method decides; failing those, one whose
// Temporary() bool or Timeout() bool method returns true makes it transient
// (a net.Error timeout, context.DeadlineExceeded). Any other error is
// permanent: an unknown error fails closed. It is the default of
// RunnerOptions.Transient; providers.IsTransient adds the AWS SDK's
// classification (throttling and retryable error codes, 5xx, connection
// resets) to it.
func IsTransient(err error) bool {
	var t interface{ Transient() bool }
	if errors.As(err, &t) {
		return t.Transient()
	}
	var r interface{ RetryableError() bool }
	if errors.As(err, &r) {
		return r.RetryableError()
	}
	var tmp interface{ Temporary() bool }
	if errors.As(err, &tmp) && tmp.Temporary() {
		return true
	}
	var to interface{ Timeout() bool }
	return errors.As(err, &to) && to.Timeout()
}

// retryLoop describes one action the runner tries until it succeeds: a
// stage's apply (reversible stages, up to RunnerOptions.ApplyAttempts, while its
// errors are transient), the roll-forward of an irreversible stage, a
// revert (while its errors are transient).
type retryLoop struct {
	// first numbers the first attempt (a resumed revert goes on counting).
	first int
	// err, if set, is the error of the first attempt, already made.
	err error
	// try makes one attempt.
	try func() error
	// stop, if set, reports whether to give up after a failed attempt,
	// before failed is called.
	stop func(attempt int, err error) bool
	// failed is called after each failed attempt that is tried again; it
	// journals and reports it. An error from it ends the loop.
	failed func(attempt int, err error) error
	// wait, if set, waits the backoff before the next attempt instead of a
	// plain wait (see waitWatched); an error from it ends the loop.
	wait func(d time.Duration) error
}

// retried is the outcome of a retryLoop.
type retried struct {
	attempts int   // the number of the last attempt
	err      error // the last attempt's error; nil when it succeeded
	cut      bool  // ctx ended the wait before the next attempt
}

// retry runs l: between attempts it waits RunnerOptions.RetryBackoff, doubling up
// to maxRetryBackoff (Backoff), on the runner's clock, as long as ctx
// lasts. It is the one retry loop of the runner. The error is what
// l.failed returned.
func (d *drive) retry(ctx context.Context, l retryLoop) (retried, error) {
	backoff := Backoff{Initial: d.o.RetryBackoff, Max: max(maxRetryBackoff, d.o.RetryBackoff)}
	err := l.err
	for attempt := l.first; ; attempt++ {
		if attempt > l.first || err == nil {
			err = l.try()
		}
		if err == nil {
			return retried{attempts: attempt}, nil
		}
		if l.stop != nil && l.stop(attempt, err) {
			return retried{attempts: attempt, err: err}, nil
		}
		if ferr := l.failed(attempt, err); ferr != nil {
			return retried{attempts: attempt, err: err}, ferr
		}
		if l.wait != nil {
			if werr := l.wait(backoff.Delay(attempt - l.first)); werr != nil {
				return retried{attempts: attempt, err: err}, werr
			}
			continue
		}
		if backoff.Wait(ctx, d.clock, attempt-l.first) != nil {
			return retried{attempts: attempt, err: err, cut: true}, nil
		}
	}
}

// waitWatched waits dur between two attempts of a reversible stage's
// apply as a hold waits, in steps of at most a poll interval (watchPoll):
// an abort taken in, or a Fail, rolls back at once, so that a storm of
// transient errors, tried for about 13 minutes by default, leaves the
// cutover neither deaf nor unwatched between attempts.
func (d *drive) waitWatched(ctx context.Context, dur time.Duration) error {
	end := d.clock.Now().Add(dur)
	for left := dur; left > 0; left = end.Sub(d.clock.Now()) {
		if err := d.watchPoll(ctx, min(left, d.o.PollInterval)); err != nil {
			return err
		}
	}
	return nil
}

// detached returns a context for work that must be finished even when the
// caller has given up (a rollback, a roll-forward, journaling an outcome,
// releasing the lease): it keeps ctx's values but not its cancellation, is
// bounded by dur, and, when lease is not nil, ends when lease does (a
// runner that lost its lease must not act any more). It is the one way the
// runner detaches from its caller's context.
func detached(ctx context.Context, dur time.Duration, lease context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), dur)
	if lease == nil {
		return c, cancel
	}
	stop := context.AfterFunc(lease, cancel)
	return c, func() {
		stop()
		cancel()
	}
}
