package syncbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/safecutover/safecutover/internal/syncbuf"
)

// Writers in parallel lose nothing, and String may be read meanwhile (the
// race detector checks the locking).
func TestBufferConcurrent(t *testing.T) {
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if _, err := b.Write([]byte("x")); err != nil {
					t.Error(err)
				}
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("x", 800) {
		t.Errorf("%d bytes written, want 800", len(got))
	}
	if err := b.Sync(); err != nil {
		t.Errorf("Sync: %v", err)
	}
}
