package cutover

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// ErrWaitTimeout: a bounded wait (Poll.Until: a read-back, a health wait,
// a Route 53 change reaching INSYNC, a managed deployment reaching a state)
// ran out of time or attempts before what it waited for happened. It is the
// one sentinel of the module for it; the providers' ErrWaitTimeout names are
// this same value, so errors.Is works across packages.
var ErrWaitTimeout = errors.New("wait bound exceeded")

// Backoff is the wait between two attempts: Initial before the second
// attempt, doubling after each further one up to Max, each wait shortened
// at random by up to a Jitter fraction of itself. The zero value waits
// nothing. It is the one backoff of the module: the runner's retries, gate
// retries, polls and notifications use it.
type Backoff struct {
	// Initial is the first wait. ≥ 0; 0 means no wait.
	Initial time.Duration
	// Max caps every wait. 0 means Initial: the wait does not grow. A Max
	// below Initial is an error.
	Max time.Duration
	// Jitter in [0, 1] is the largest fraction of a wait that is taken off
	// it at random, so that many waiters do not retry in step: a wait d
	// lasts between d×(1−Jitter) and d. 0 means none.
	Jitter float64
}

// Validate returns an error naming the field of b that is out of range.
func (b Backoff) Validate() error {
	switch {
	case b.Initial < 0:
		return fmt.Errorf("Backoff.Initial: %s: want ≥ 0 (0: no wait)", b.Initial)
	case b.Max < 0:
		return fmt.Errorf("Backoff.Max: %s: want ≥ 0 (0: Initial, no growth)", b.Max)
	case b.Max != 0 && b.Max < b.Initial:
		return fmt.Errorf("Backoff.Max: %s: want ≥ Initial %s (0: Initial, no growth)", b.Max, b.Initial)
	case !(b.Jitter >= 0 && b.Jitter <= 1): // also NaN
		return fmt.Errorf("Backoff.Jitter: %v: want 0 to 1 (0: none)", b.Jitter)
	}
	return nil
}

// Delay returns the wait after the failed attempt n (0 for the first),
// before jitter: min(Initial×2ⁿ, Max). It never overflows.
func (b Backoff) Delay(n int) time.Duration {
	ceiling := b.Max
	if ceiling < b.Initial {
		ceiling = b.Initial
	}
	d := b.Initial
	for i := 0; i < n && d < ceiling; i++ {
		if d > ceiling/2 {
			return ceiling
		}
		d *= 2
	}
	return min(d, ceiling)
}

// jittered returns Delay(n) less a random share of up to Jitter of it.
func (b Backoff) jittered(n int) time.Duration {
	d := b.Delay(n)
	if b.Jitter <= 0 || d <= 0 {
		return d
	}
	return d - time.Duration(rand.Float64()*b.Jitter*float64(d))
}

// Wait waits the backoff after the failed attempt n (0 for the first) on
// clock (nil: RealClock), jitter included, and returns nil; or returns
// ctx's cause as soon as ctx ends.
func (b Backoff) Wait(ctx context.Context, clock Clock, n int) error {
	if clock == nil {
		clock = RealClock{}
	}
	d := b.jittered(n)
	if d <= 0 {
		return context.Cause(ctx)
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-clock.After(d):
		return nil
	}
}

// Poll is a bounded wait for a condition, on a Clock: Until checks the
// condition, then again after each Interval, until it holds, the check
// fails, ctx ends, Timeout has passed or Attempts checks were made. At
// least one of Timeout and Attempts must be set: every wait has a bound.
// It is the one poll loop of the module (read-backs, health waits, AWS
// waiters, gate retries).
type Poll struct {
	// What names what is waited for, for errors and logs: "read back
	// weights blue=0 green=100", "change C1 to reach INSYNC".
	What string
	// Interval is the wait between two checks. Interval.Initial must be
	// > 0; set Interval.Max to let the wait grow.
	Interval Backoff
	// Timeout bounds the whole wait on Clock, from the first check. ≥ 0;
	// 0 means no time bound (Attempts bounds it). The last wait is
	// shortened so that a check is made at the deadline.
	Timeout time.Duration
	// Attempts bounds the number of checks. ≥ 0; 0 means no bound on
	// checks (Timeout bounds it).
	Attempts int
	// Retry, if set, reports whether an error from the check is tried
	// again at the next check instead of ending the wait (a read that
	// failed once, a throttled call). Errors it rejects, and every error
	// when it is nil, end the wait at once, returned as they are.
	Retry func(error) bool
	// Clock times the waits; nil means RealClock.
	Clock Clock
	// Logger gets a debug line per wait; nil means none.
	Logger *zap.Logger
}

// Check is one look at what a Poll waits for: done when it holds; status
// says where it got to ("still PENDING", "2 of 3 healthy"), for the error
// if the wait runs out; err ends the wait unless Poll.Retry accepts it.
type Check func(ctx context.Context) (done bool, status string, err error)

// Validate returns an error naming the field of p that is out of range.
func (p Poll) Validate() error {
	if err := p.Interval.Validate(); err != nil {
		return fmt.Errorf("Poll.Interval: %w", err)
	}
	switch {
	case p.Interval.Initial <= 0:
		return fmt.Errorf("Poll.Interval.Initial: %s: want > 0", p.Interval.Initial)
	case p.Timeout < 0:
		return fmt.Errorf("Poll.Timeout: %s: want ≥ 0 (0: bounded by Attempts only)", p.Timeout)
	case p.Attempts < 0:
		return fmt.Errorf("Poll.Attempts: %d: want ≥ 0 (0: bounded by Timeout only)", p.Attempts)
	case p.Timeout == 0 && p.Attempts == 0:
		return errors.New("Poll.Timeout and Poll.Attempts: both 0: want at least one > 0 (every wait has a bound)")
	}
	return nil
}

// Within returns p bounded by d on its clock: Timeout d, or, when d ≤ 0
// (the time is already up, as for a deadline computed from one that has
// passed), a single check and no Timeout, so that what is waited for is
// still looked at once before the wait runs out.
func (p Poll) Within(d time.Duration) Poll {
	if d <= 0 {
		p.Timeout, p.Attempts = 0, 1
		return p
	}
	p.Timeout = d
	return p
}

// Until runs check as Poll describes and returns nil once it reports done.
// An error from check that Retry does not accept is returned as it is. A
// wait that runs out returns a *WaitTimeoutError (errors.Is
// ErrWaitTimeout, and the last retried error if the last check failed);
// one that ctx ends returns an error wrapping ctx's cause (and the last
// check's error, if it failed). A Poll that fails Validate returns that
// error without calling check. Inside a reversible stage's Apply or
// Verify under a Runner, its waits also judge green once they add up to a
// poll interval, and a gate's Fail ends ctx with the *GateFailedError as
// its cause (see RunnerOptions.PollInterval).
func (p Poll) Until(ctx context.Context, check Check) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%s: %w", p.what(), err)
	}
	clock := p.Clock
	if clock == nil {
		clock = RealClock{}
	}
	deadline := clock.Now().Add(p.Timeout)
	for attempt := 1; ; attempt++ {
		done, status, err := check(ctx)
		if err != nil {
			if p.Retry == nil || !p.Retry(err) {
				return err
			}
			done = false
			if status == "" {
				status = "error: " + err.Error()
			} else {
				status += " (error: " + err.Error() + ")"
			}
		}
		if done {
			return nil
		}
		if ctx.Err() != nil {
			return p.ended(ctx, status, err)
		}
		if p.Attempts > 0 && attempt >= p.Attempts {
			return &WaitTimeoutError{What: p.what(), Status: status, Attempts: attempt, Last: err}
		}
		wait := p.Interval.jittered(attempt - 1)
		if p.Timeout > 0 {
			left := deadline.Sub(clock.Now())
			if left <= 0 {
				return &WaitTimeoutError{What: p.what(), Status: status, Timeout: p.Timeout, Attempts: attempt, Last: err}
			}
			wait = min(wait, left)
		}
		if p.Logger != nil {
			p.Logger.Debug("waiting", zap.String("what", p.What), zap.String("status", status), zap.Int("attempt", attempt), zap.Duration("next", wait))
		}
		select {
		case <-ctx.Done():
			return p.ended(ctx, status, err)
		case <-clock.After(wait):
		}
		// Inside a reversible stage's call, green is judged as the
		// waits add up (see waitedInCall); a Fail ends ctx.
		waitedInCall(ctx, wait)
		if ctx.Err() != nil {
			return p.ended(ctx, status, err)
		}
	}
}

// ended is the error of a wait that ctx ended: it wraps ctx's cause and,
// if the last check failed, that check's error.
func (p Poll) ended(ctx context.Context, status string, last error) error {
	if last != nil {
		return fmt.Errorf("%s: %w (last check: %w)", p.what(), context.Cause(ctx), last)
	}
	return fmt.Errorf("%s: %w", joinNonEmpty(p.what(), status), context.Cause(ctx))
}

func (p Poll) what() string {
	if p.What == "" {
		return "wait"
	}
	return p.What
}

// WaitTimeoutError is the error of a Poll that ran out: what it waited
// for, where it got to and which bound ran out. It unwraps to
// ErrWaitTimeout and, when the last check failed with an error Poll.Retry
// accepted, to that error.
type WaitTimeoutError struct {
	What   string // Poll.What
	Status string // the last check's status
	// Timeout is the time bound when it ran out; 0 when Attempts did.
	Timeout  time.Duration
	Attempts int   // the checks made
	Last     error // the last check's error, if it failed; may be nil
}

// Error says what was waited for, where it got to and after how long:
// "read back weights blue=0 green=100: got blue=100 green=0 after 5
// attempts: wait bound exceeded".
func (e *WaitTimeoutError) Error() string {
	after := "after " + strconv.Itoa(e.Attempts) + " attempts"
	if e.Timeout > 0 {
		after = "after " + e.Timeout.String()
	}
	if e.Status != "" {
		after = e.Status + " " + after
	}
	return joinNonEmpty(e.What, after) + ": " + ErrWaitTimeout.Error()
}

// Unwrap returns ErrWaitTimeout and the last check's error, if any.
func (e *WaitTimeoutError) Unwrap() []error {
	if e.Last == nil {
		return []error{ErrWaitTimeout}
	}
	return []error{ErrWaitTimeout, e.Last}
}

// joinNonEmpty joins a and b with ": ", leaving out an empty one.
func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ": " + b
}
