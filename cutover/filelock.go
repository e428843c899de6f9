package cutover

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// fileLocker serialises operations on files by key: within the process by a
// semaphore per key, across processes by flock.
type fileLocker struct {
	timeout time.Duration
	mu      sync.Mutex
	sems    map[string]chan struct{}
}

func newFileLocker(timeout time.Duration) *fileLocker {
	return &fileLocker{timeout: timeout, sems: make(map[string]chan struct{})}
}

// lock takes key's semaphore, then opens path and flocks it: exclusively,
// creating the file if missing, if write is set; shared otherwise, and then
// a missing file gives a nil file (and a no-op release). The wait is bounded
// by ctx and by the locker's timeout. The caller must call release, which
// closes the file.
func (l *fileLocker) lock(ctx context.Context, key, path string, write bool) (f *os.File, release func(), err error) {
	l.mu.Lock()
	sem := l.sems[key]
	if sem == nil {
		sem = make(chan struct{}, 1)
		l.sems[key] = sem
	}
	l.mu.Unlock()
	timer := time.NewTimer(l.timeout)
	defer timer.Stop()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("wait for lock on %s: %w", path, context.Cause(ctx))
	case <-timer.C:
		return nil, nil, fmt.Errorf("lock %s: still busy in this process after %s", path, l.timeout)
	}
	f, err = fileLockPath(ctx, path, write, timer.C, l.timeout)
	if err != nil || f == nil {
		<-sem
		return nil, func() {}, err
	}
	return f, func() {
		_ = f.Close() // releases the flock
		<-sem
	}, nil
}

// fileLockPath opens path and takes a flock on it (exclusive if write),
// retrying with backoff until ctx is done or timeout fires. If path is
// replaced (renamed over) while waiting, it opens the new file. Without
// write, a missing file gives a nil file and no error.
func fileLockPath(ctx context.Context, path string, write bool, timeout <-chan time.Time, limit time.Duration) (*os.File, error) {
	backoff := Backoff{Initial: 50 * time.Microsecond, Max: 10 * time.Millisecond}
	for n := 0; ; n++ {
		var f *os.File
		var err error
		if write {
			f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
		} else {
			f, err = os.Open(path)
		}
		if err != nil {
			if !write && errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return nil, fmt.Errorf("open: %w", err)
		}
		ok, err := fileTryLock(f, !write)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			same, err := fileStillAt(f, path)
			if err != nil {
				_ = f.Close()
				return nil, fmt.Errorf("lock %s: %w", path, err)
			}
			if same {
				return f, nil
			}
			_ = f.Close() // replaced while we waited: lock the new file
			continue
		}
		_ = f.Close()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for lock on %s: %w", path, context.Cause(ctx))
		case <-timeout:
			return nil, fmt.Errorf("lock %s: held by another handle or process for more than %s", path, limit)
		case <-RealClock{}.After(backoff.Delay(n)):
		}
	}
}

// fileStillAt reports whether the open file f is still the file at path
// (false if path was removed or replaced).
func fileStillAt(f *os.File, path string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

// fileSyncDir fsyncs directory dir, making a new or renamed entry durable.
func fileSyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
