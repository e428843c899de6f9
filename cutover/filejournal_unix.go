//go:build unix

package cutover

import (
	"errors"
	"os"
	"syscall"
)

// fileTryLock tries to take an advisory lock on f without blocking:
// exclusive, or shared if shared is set. It reports false if another open
// file description holds a conflicting lock.
func fileTryLock(f *os.File, shared bool) (bool, error) {
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		}
		return false, err
	}
}
