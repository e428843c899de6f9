package journaltest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// TestLease runs the conformance suite for cutover.Lease. newLease is called
// once per subtest with a fresh *cutover.ManualClock (passed as a cutover.Clock) and
// must return a lease with no holders that judges expiry by that clock; the
// suite advances the clock.
func TestLease(t *testing.T, newLease func(t *testing.T, clock cutover.Clock) cutover.Lease) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, lt *leaseTest)
	}{
		{"AcquireFree", testAcquireFree},
		{"SecondOwnerGetsHeld", testSecondOwner},
		{"RenewExtends", testRenewExtends},
		{"ExpiryLetsAnotherTakeOver", testTakeover},
		{"ReleaseFrees", testReleaseFrees},
		{"ReleaseByNonHolderIsNoop", testReleaseNonHolder},
		{"ReacquireByHolderRenews", testReacquire},
		{"RenewWithoutHoldingIsLost", testRenewNotHeld},
		{"CutoversAreSeparate", testLeaseSeparate},
		{"RacingAcquirers", testRacingAcquire},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := cutover.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
			tc.run(t, &leaseTest{t: t, l: newLease(t, clock), clock: clock})
		})
	}
}

// ttl is the lease duration the suite uses.
const ttl = 10 * time.Second

type leaseTest struct {
	t     *testing.T
	l     cutover.Lease
	clock *cutover.ManualClock
}

func (lt *leaseTest) acquire(id, owner string) error {
	return lt.l.Acquire(lt.t.Context(), id, owner, ttl)
}

func (lt *leaseTest) renew(id, owner string) error {
	return lt.l.Renew(lt.t.Context(), id, owner, ttl)
}

func (lt *leaseTest) mustAcquire(id, owner string) {
	lt.t.Helper()
	if err := lt.acquire(id, owner); err != nil {
		lt.t.Fatalf("Acquire(%q, %q) = %v, want nil", id, owner, err)
	}
}

func (lt *leaseTest) mustRelease(id, owner string) {
	lt.t.Helper()
	if err := lt.l.Release(lt.t.Context(), id, owner); err != nil {
		lt.t.Fatalf("Release(%q, %q) = %v, want nil", id, owner, err)
	}
}

// wantHeld checks that owner cannot acquire id because holder has it.
func (lt *leaseTest) wantHeld(id, owner, holder string) {
	lt.t.Helper()
	err := lt.acquire(id, owner)
	if !errors.Is(err, cutover.ErrLeaseHeld) {
		lt.t.Fatalf("Acquire(%q, %q) = %v, want ErrLeaseHeld", id, owner, err)
	}
	if !strings.Contains(err.Error(), holder) {
		lt.t.Errorf("Acquire(%q, %q) error %q does not name the holder %q", id, owner, err, holder)
	}
	var held *cutover.LeaseHeldError
	if errors.As(err, &held) && (held.Holder != holder || held.ID != id) {
		lt.t.Errorf("LeaseHeldError = %+v, want ID %q Holder %q", held, id, holder)
	}
}

func (lt *leaseTest) wantLost(id, owner string) {
	lt.t.Helper()
	if err := lt.renew(id, owner); !errors.Is(err, cutover.ErrLeaseLost) {
		lt.t.Fatalf("Renew(%q, %q) = %v, want ErrLeaseLost", id, owner, err)
	}
}

func testAcquireFree(t *testing.T, lt *leaseTest) {
	lt.mustAcquire("free", "alice")
	if err := lt.renew("free", "alice"); err != nil {
		t.Errorf("Renew by the holder = %v, want nil", err)
	}
}

func testSecondOwner(t *testing.T, lt *leaseTest) {
	lt.mustAcquire("second", "alice")
	lt.wantHeld("second", "bob", "alice")
	lt.clock.Advance(ttl / 2)
	lt.wantHeld("second", "bob", "alice")
	lt.wantLost("second", "bob")
	// Bob's failed attempts changed nothing for alice.
	if err := lt.renew("second", "alice"); err != nil {
		t.Errorf("Renew by alice after bob's attempts = %v, want nil", err)
	}
}

func testRenewExtends(t *testing.T, lt *leaseTest) {
	lt.mustAcquire("renew", "alice")
	lt.clock.Advance(ttl * 8 / 10)
	if err := lt.renew("renew", "alice"); err != nil {
		t.Fatalf("Renew = %v, want nil", err)
	}
	lt.clock.Advance(ttl * 8 / 10) // past the first expiry, before the renewed one
	lt.wantHeld("renew", "bob", "alice")
	lt.clock.Advance(ttl * 3 / 10) // past the renewed expiry
	lt.mustAcquire("renew", "bob")
}

func testTakeover(t *testing.T, lt *leaseTest) {
	lt.mustAcquire("takeover", "alice")
	lt.clock.Advance(ttl + time.Second)
	lt.mustAcquire("takeover", "bob")
	lt.wantLost("takeover", "alice")
	lt.wantHeld("takeover", "alice", "bob")
	if err := lt.renew("takeover", "bob"); err != nil {
		t.Errorf("Renew by the new holder = %v, want nil", err)
	}
	// Alice releasing what she lost must not free bob's lease.
	lt.mustRelease("takeover", "alice")
	lt.wantHeld("takeover", "carol", "bob")
}

func testReleaseFrees(t *testing.T, lt *leaseTest) {
	lt.mustAcquire("release", "alice")
	lt.mustRelease("release", "alice")
	lt.mustAcquire("release", "bob")
	lt.wantLost("release", "alice")
	lt.mustRelease("release", "bob")
	lt.mustRelease("release", "bob") // twice is fine
	lt.mustAcquire("release", "alice")
}

func testReleaseNonHolder(t *testing.T, lt *leaseTest) {
	lt.mustRelease("never-held", "alice")
	lt.mustAcquire("non-holder", "alice")
	lt.mustRelease("non-holder", "bob")
	lt.wantHeld("non-holder", "carol", "alice")
}

func testReacquire(t *testing.T, lt *leaseTest) {
	lt.mustAcquire("reacquire", "alice")
	lt.clock.Advance(ttl * 8 / 10)
	lt.mustAcquire("reacquire", "alice")
	lt.clock.Advance(ttl * 8 / 10)
	lt.wantHeld("reacquire", "bob", "alice")
	lt.clock.Advance(ttl * 3 / 10)
	lt.mustAcquire("reacquire", "bob")
}

func testRenewNotHeld(t *testing.T, lt *leaseTest) {
	lt.wantLost("not-held", "alice")
	lt.mustAcquire("not-held", "alice")
	lt.mustRelease("not-held", "alice")
	lt.wantLost("not-held", "alice")
}

func testLeaseSeparate(t *testing.T, lt *leaseTest) {
	lt.mustAcquire("sep-a", "alice")
	lt.mustAcquire("sep-b", "bob")
	lt.wantHeld("sep-a", "bob", "alice")
	lt.wantHeld("sep-b", "alice", "bob")
	lt.mustRelease("sep-a", "alice")
	lt.wantHeld("sep-b", "alice", "bob")
}

func testRacingAcquire(t *testing.T, lt *leaseTest) {
	const owners = 8
	for round := range 3 {
		id := fmt.Sprintf("race-%d", round)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  []string
			errs []error
		)
		for o := range owners {
			owner := fmt.Sprintf("owner-%d", o)
			wg.Go(func() {
				err := lt.acquire(id, owner)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, owner)
				case !errors.Is(err, cutover.ErrLeaseHeld):
					errs = append(errs, fmt.Errorf("Acquire(%q, %q) = %w, want nil or ErrLeaseHeld", id, owner, err))
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
		if len(won) != 1 {
			t.Fatalf("%s: %d owners acquired the lease at once (%v), want exactly 1", id, len(won), won)
		}
		for o := range owners {
			if owner := fmt.Sprintf("owner-%d", o); owner != won[0] {
				lt.wantHeld(id, owner, won[0])
			}
		}
	}
}
