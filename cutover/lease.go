package cutover

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
)

// LeaseHeldError is returned by Lease.Acquire when another owner holds the
// lease. It names the holder and when the lease expires, and unwraps to
// ErrLeaseHeld.
type LeaseHeldError struct {
	ID      string    // the cutover
	Holder  string    // the owner holding the lease
	Expires time.Time // when the holder's lease runs out, by the lease's clock
}

// Error names the cutover, the holder and the expiry.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("lease %s: held by %q until %s", e.ID, e.Holder, e.Expires.UTC().Format(time.RFC3339Nano))
}

// Unwrap returns ErrLeaseHeld.
func (e *LeaseHeldError) Unwrap() error { return ErrLeaseHeld }

// MemLease is a Lease held in memory: one owner per cutover among the
// goroutines of one process. It is safe for concurrent use.
//
// Expiry is judged by MemLeaseOptions.Clock. Renew by the recorded
// holder succeeds even after expiry as long as nobody else acquired the
// lease in between; that is safe because nobody else can have driven the
// cutover meanwhile.
type MemLease struct {
	clock  Clock
	mu     sync.Mutex
	leases map[string]leaseEntry
}

// leaseEntry is the state of one lease.
type leaseEntry struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

var _ Lease = (*MemLease)(nil)

// MemLeaseOptions configure a MemLease. The zero value is valid.
type MemLeaseOptions struct {
	// Clock judges expiry. Nil means RealClock.
	Clock Clock
}

// NewMemLease returns a memory lease with no holders. It takes no error
// return: no RunnerOptions value is invalid.
func NewMemLease(opts MemLeaseOptions) *MemLease {
	clock := opts.Clock
	if clock == nil {
		clock = RealClock{}
	}
	return &MemLease{clock: clock, leases: make(map[string]leaseEntry)}
}

// Acquire makes owner the holder of the lease on id for ttl if it is free,
// expired or already owner's; otherwise it returns a *LeaseHeldError.
func (l *MemLease) Acquire(ctx context.Context, id, owner string, ttl time.Duration) error {
	if err := leaseCheckArgs(ctx, "acquire", id, owner, ttl); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	next, err := leaseAcquire(id, owner, ttl, now, l.leases[id])
	if err != nil {
		return err
	}
	l.leases[id] = next
	return nil
}

// Renew extends owner's lease on id to ttl from now. It returns an error
// wrapping ErrLeaseLost if owner does not hold it (never acquired, released,
// or taken over by another owner after it expired).
func (l *MemLease) Renew(ctx context.Context, id, owner string, ttl time.Duration) error {
	if err := leaseCheckArgs(ctx, "renew", id, owner, ttl); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	next, err := leaseRenew(id, owner, ttl, l.clock.Now(), l.leases[id])
	if err != nil {
		return err
	}
	l.leases[id] = next
	return nil
}

// Release frees owner's lease on id. Releasing a lease owner does not hold
// does nothing.
func (l *MemLease) Release(ctx context.Context, id, owner string) error {
	if err := leaseCheckArgs(ctx, "release", id, owner, time.Second); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leases[id].Owner == owner {
		delete(l.leases, id)
	}
	return nil
}

// Bounds of the arguments of lease operations.
const (
	leaseMaxOwner = 256
	leaseMaxTTL   = 365 * 24 * time.Hour
)

// leaseCheckArgs checks ctx and the arguments of a lease operation.
func leaseCheckArgs(ctx context.Context, op, id, owner string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("lease %s: %s: %w", id, op, context.Cause(ctx))
	}
	if err := ValidateID(id); err != nil {
		return fmt.Errorf("lease: %s: %w", op, err)
	}
	switch {
	case owner == "":
		return fmt.Errorf("lease %s: %s: owner: empty; want a name for the holder", id, op)
	case len(owner) > leaseMaxOwner || !utf8.ValidString(owner):
		return fmt.Errorf("lease %s: %s: owner: %q; want valid UTF-8 of at most %d bytes", id, op, owner, leaseMaxOwner)
	case ttl <= 0 || ttl > leaseMaxTTL:
		return fmt.Errorf("lease %s: %s: ttl: %s; want > 0 and ≤ %s", id, op, ttl, leaseMaxTTL)
	}
	return nil
}

// leaseAcquire decides an Acquire given the current entry cur (zero if
// the lease is free): it returns the new entry, or a *LeaseHeldError.
func leaseAcquire(id, owner string, ttl time.Duration, now time.Time, cur leaseEntry) (leaseEntry, error) {
	held := cur.Owner != ""
	if held && cur.Owner != owner && now.Before(cur.Expires) {
		return leaseEntry{}, &LeaseHeldError{ID: id, Holder: cur.Owner, Expires: cur.Expires}
	}
	return leaseEntry{Owner: owner, Expires: now.Add(ttl)}, nil
}

// leaseRenew decides a Renew given the current entry: the new entry, or an
// error wrapping ErrLeaseLost.
func leaseRenew(id, owner string, ttl time.Duration, now time.Time, cur leaseEntry) (leaseEntry, error) {
	held := cur.Owner != ""
	switch {
	case !held:
		return leaseEntry{}, fmt.Errorf("lease %s: renew by %q: lease is free (released, or never acquired): %w", id, owner, ErrLeaseLost)
	case cur.Owner != owner:
		return leaseEntry{}, fmt.Errorf("lease %s: renew by %q: now held by %q until %s: %w",
			id, owner, cur.Owner, cur.Expires.UTC().Format(time.RFC3339Nano), ErrLeaseLost)
	}
	return leaseEntry{Owner: owner, Expires: now.Add(ttl)}, nil
}

// holdLease acquires the lease on the cutover and renews it every TTL/3 in
// a goroutine until the returned stop is called; stop waits for the
// goroutine and releases the lease (the first time it is called: it may
// be called twice, see drive.unlease). When the lease is lost, d.leaseCtx is
// cancelled with a cause wrapping ErrLeaseLost.
func (d *drive) holdLease(ctx context.Context) (stop func(), err error) {
	l, owner, ttl := d.o.Lease, d.o.Owner, d.o.LeaseTTL
	if owner == "" {
		// One random owner per Run, so that two Runs of one Runner on the
		// same cutover exclude each other too.
		owner = "runner-" + rand.Text()
	}
	if err := d.acquire(ctx, l, owner, ttl); err != nil {
		return nil, fmt.Errorf("cutover %s: acquire lease as %q: %w", d.id, owner, err)
	}
	leaseCtx, lose := context.WithCancelCause(context.Background())
	d.leaseCtx = leaseCtx
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		last := d.clock.Now()
		for {
			select {
			case <-done:
				return
			case <-d.clock.After(ttl / 3):
			}
			// The lease holds until last+ttl. A renewal gets ttl/6 (of wall
			// time: the lease may judge expiry on another clock than the
			// runner's), and when the next attempt would start too late
			// the runner stops at once: it must never act on the cloud
			// after its lease may have passed to another runner.
			expires := last.Add(ttl)
			rctx, cancel := context.WithTimeout(context.Background(), ttl/6)
			err := l.Renew(rctx, d.id, owner, ttl)
			cancel()
			if err == nil {
				last = d.clock.Now()
				continue
			}
			d.log.Warn("renew lease", zap.String("cutover", d.id), zap.String("owner", owner), zap.Error(err))
			if errors.Is(err, ErrLeaseLost) {
				lose(fmt.Errorf("renew lease as %q: %w", owner, err))
				return
			}
			if !d.clock.Now().Add(ttl / 3).Before(expires) {
				lose(fmt.Errorf("renew lease as %q: not renewed since %s, and the lease expires before the next attempt: %w (last error: %w)",
					owner, last.Format(time.RFC3339), ErrLeaseLost, err))
				return
			}
		}
	})
	return sync.OnceFunc(func() {
		close(done)
		wg.Wait()
		lose(nil)
		rctx, cancel := detached(ctx, finishTimeout, nil)
		defer cancel()
		if err := l.Release(rctx, d.id, owner); err != nil {
			d.log.Warn("release lease", zap.String("cutover", d.id), zap.String("owner", owner), zap.Error(err))
		}
	}), nil
}

// acquire acquires the lease. A lease held by another owner may be the
// one of a runner that died (its cloud changes go on unwatched until the
// lease expires), so it is tried again every poll interval for up to one
// LeaseTTL and a poll, reported as EvLeaseWait, before ErrLeaseHeld is
// returned.
func (d *drive) acquire(ctx context.Context, l Lease, owner string, ttl time.Duration) error {
	wait := Poll{
		What:     "wait for the lease",
		Interval: Backoff{Initial: d.o.PollInterval},
		Timeout:  ttl + d.o.PollInterval,
		Retry:    func(err error) bool { return errors.Is(err, ErrLeaseHeld) },
		Clock:    d.clock,
	}
	deadline := d.clock.Now().Add(wait.Timeout)
	reported := false
	return wait.Until(ctx, func(ctx context.Context) (bool, string, error) {
		err := l.Acquire(ctx, d.id, owner, ttl)
		if errors.Is(err, ErrLeaseHeld) && !reported {
			reported = true
			d.emit(EvLeaseWait, -1, err, "lease held; waiting until "+deadline.Format(time.RFC3339)+" for it to be released or expire")
		}
		return err == nil, "", err
	})
}
