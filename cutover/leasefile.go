package cutover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FileLeaseOptions configure a FileLease. The zero value is valid.
type FileLeaseOptions struct {
	// Clock judges expiry. Default: RealClock. Processes sharing a lease
	// directory should use the same kind of clock.
	Clock Clock
	// LockTimeout bounds how long one operation waits for the lock of a
	// cutover's lease while another handle or process holds it. Default 10s.
	LockTimeout time.Duration
}

// FileLease is a Lease kept in files, for processes on one machine (or
// sharing a local file system): <dir>/<id>.lease holds the holder and the
// expiry as JSON. Every operation holds an exclusive flock on
// <dir>/<id>.lease.lock, reads the lease, decides, and replaces the lease
// file atomically (write a temporary file, fsync, rename, fsync the
// directory), so a crash leaves either the old or the new lease. It is safe
// for concurrent use.
//
// A lease file that cannot be read is an error, never taken as free: an
// operator removes it if it must go.
type FileLease struct {
	dir    string
	clock  Clock
	locker *fileLocker
}

var _ Lease = (*FileLease)(nil)

// fileLeaseDoc is the content of a lease file.
type fileLeaseDoc struct {
	Cutover string    `json:"cutover"`
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

// NewFileLease returns a lease that keeps its files in dir, creating the
// directory if needed.
func NewFileLease(dir string, opts FileLeaseOptions) (*FileLease, error) {
	var err error
	if opts.LockTimeout, err = checkFileStore("file lease", dir, opts.LockTimeout); err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("file lease: dir: %w", err)
	}
	return &FileLease{dir: dir, clock: opts.Clock, locker: newFileLocker(opts.LockTimeout)}, nil
}

// Path returns the file that holds the lease of cutover id.
func (l *FileLease) Path(id string) string { return filepath.Join(l.dir, id+".lease") }

// Acquire makes owner the holder of the lease on id for ttl if it is free,
// expired or already owner's; otherwise it returns a *LeaseHeldError.
func (l *FileLease) Acquire(ctx context.Context, id, owner string, ttl time.Duration) error {
	if err := leaseCheckArgs(ctx, "acquire", id, owner, ttl); err != nil {
		return err
	}
	return l.update(ctx, id, func(cur leaseEntry) (leaseEntry, bool, error) {
		next, err := leaseAcquire(id, owner, ttl, l.clock.Now(), cur)
		return next, true, err
	})
}

// Renew extends owner's lease on id to ttl from now. It returns an error
// wrapping ErrLeaseLost if owner does not hold it (never acquired, released,
// or taken over by another owner after it expired).
func (l *FileLease) Renew(ctx context.Context, id, owner string, ttl time.Duration) error {
	if err := leaseCheckArgs(ctx, "renew", id, owner, ttl); err != nil {
		return err
	}
	return l.update(ctx, id, func(cur leaseEntry) (leaseEntry, bool, error) {
		next, err := leaseRenew(id, owner, ttl, l.clock.Now(), cur)
		return next, true, err
	})
}

// Release frees owner's lease on id by removing its file. Releasing a lease
// owner does not hold does nothing.
func (l *FileLease) Release(ctx context.Context, id, owner string) error {
	if err := leaseCheckArgs(ctx, "release", id, owner, time.Second); err != nil {
		return err
	}
	return l.update(ctx, id, func(cur leaseEntry) (leaseEntry, bool, error) {
		if cur.Owner != owner {
			return cur, false, nil
		}
		return leaseEntry{}, true, nil
	})
}

// update runs decide on the current lease of id under the lock and, if it
// says so, stores what it returns (a zero entry removes the file).
func (l *FileLease) update(ctx context.Context, id string, decide func(cur leaseEntry) (next leaseEntry, write bool, err error)) error {
	path := l.Path(id)
	_, release, err := l.locker.lock(ctx, id, path+".lock", true)
	if err != nil {
		return fmt.Errorf("lease %s: %w", id, err)
	}
	defer release()
	cur, err := fileLeaseRead(path, id)
	if err != nil {
		return err
	}
	next, write, err := decide(cur)
	if err != nil || !write {
		return err
	}
	if next.Owner == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("lease %s: release: %w", id, err)
		}
		if err := fileSyncDir(l.dir); err != nil {
			return fmt.Errorf("lease %s: release: %w", id, err)
		}
		return nil
	}
	b, err := json.Marshal(fileLeaseDoc{Cutover: id, Owner: next.Owner, Expires: next.Expires})
	if err != nil {
		return fmt.Errorf("lease %s: encode: %w", id, err)
	}
	if err := fileReplace(path, append(b, '\n')); err != nil {
		return fmt.Errorf("lease %s: write: %w", id, err)
	}
	return nil
}

// fileLeaseRead reads the lease file at path; a missing file is a free
// lease. Anything else that is not a well-formed lease of cutover id is an
// error naming the file.
func fileLeaseRead(path, id string) (leaseEntry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return leaseEntry{}, nil
	}
	if err != nil {
		return leaseEntry{}, fmt.Errorf("lease %s: read: %w", id, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc fileLeaseDoc
	if err := dec.Decode(&doc); err != nil {
		return leaseEntry{}, fmt.Errorf("lease file %s: undecodable (remove it if no process holds the lease): %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return leaseEntry{}, fmt.Errorf("lease file %s: data after the JSON object", path)
	}
	switch {
	case doc.Cutover != id:
		return leaseEntry{}, fmt.Errorf("lease file %s: cutover: %q, want %q", path, doc.Cutover, id)
	case doc.Owner == "":
		return leaseEntry{}, fmt.Errorf("lease file %s: owner: empty", path)
	}
	return leaseEntry{Owner: doc.Owner, Expires: doc.Expires}, nil
}
