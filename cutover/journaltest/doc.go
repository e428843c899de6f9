// Package journaltest holds conformance suites for implementations of
// cutover.Journal and cutover.Lease, in the spirit of testing/slogtest.
// An implementation runs them from its own tests:
//
//	func TestJournal(t *testing.T) {
//		journaltest.TestJournal(t, func(t *testing.T) cutover.Journal {
//			return cutover.NewMemJournal()
//		})
//	}
//
//	func TestLease(t *testing.T) {
//		journaltest.TestLease(t, func(t *testing.T, clock cutover.Clock) cutover.Lease {
//			return cutover.NewMemLease(cutover.MemLeaseOptions{Clock: clock})
//		})
//	}
//
// The suites check the contracts written on the interfaces: ordering and
// compare-and-append on the sequence number, exactly one winner per Seq among
// racing appenders, Read(after), faithful round trips of every record field;
// and for leases, one holder at a time, renewal, expiry judged by the
// injected clock (a cutover.ManualClock the suite advances), takeover, ErrLeaseLost
// and release.
package journaltest
