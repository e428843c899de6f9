package journaltest_test

import (
	"testing"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/cutover/journaltest"
)

// The suites pass against the memory implementations; the file ones run
// them in package cutover.
func TestSuitesOnMemory(t *testing.T) {
	t.Run("Journal", func(t *testing.T) {
		journaltest.TestJournal(t, func(t *testing.T) cutover.Journal { return cutover.NewMemJournal() })
	})
	t.Run("Lease", func(t *testing.T) {
		journaltest.TestLease(t, func(t *testing.T, clock cutover.Clock) cutover.Lease {
			return cutover.NewMemLease(cutover.MemLeaseOptions{Clock: clock})
		})
	})
}
