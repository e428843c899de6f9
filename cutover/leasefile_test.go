//go:build unix

package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/cutover/journaltest"
)

func newFileLease(t *testing.T, dir string, clock cutover.Clock) *cutover.FileLease {
	t.Helper()
	l, err := cutover.NewFileLease(dir, cutover.FileLeaseOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestFileLeaseConformance(t *testing.T) {
	journaltest.TestLease(t, func(t *testing.T, clock cutover.Clock) cutover.Lease {
		return newFileLease(t, t.TempDir(), clock)
	})
}

// Two handles on one directory are one lease.
func TestFileLeaseConformanceTwoHandles(t *testing.T) {
	journaltest.TestLease(t, func(t *testing.T, clock cutover.Clock) cutover.Lease {
		dir := t.TempDir()
		return &alternatingLease{ls: []cutover.Lease{newFileLease(t, dir, clock), newFileLease(t, dir, clock)}}
	})
}

type alternatingLease struct {
	alternating
	ls []cutover.Lease
}

func (a *alternatingLease) pick() cutover.Lease {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return a.ls[a.n%len(a.ls)]
}

func (a *alternatingLease) Acquire(ctx context.Context, id, owner string, ttl time.Duration) error {
	return a.pick().Acquire(ctx, id, owner, ttl)
}

func (a *alternatingLease) Renew(ctx context.Context, id, owner string, ttl time.Duration) error {
	return a.pick().Renew(ctx, id, owner, ttl)
}

func (a *alternatingLease) Release(ctx context.Context, id, owner string) error {
	return a.pick().Release(ctx, id, owner)
}

func TestLeaseRejects(t *testing.T) {
	leases := map[string]cutover.Lease{
		"mem":  cutover.NewMemLease(cutover.MemLeaseOptions{}),
		"file": newFileLease(t, t.TempDir(), nil),
	}
	tests := []struct {
		name  string
		id    string
		owner string
		ttl   time.Duration
		want  string
	}{
		{"bad id", "a/b", "o", time.Second, "cutover id"},
		{"empty owner", "c", "", time.Second, "owner: empty"},
		{"zero ttl", "c", "o", 0, "ttl: 0s; want > 0 and ≤ 8760h0m0s"},
		{"negative ttl", "c", "o", -time.Second, "ttl: -1s; want > 0"},
		{"huge ttl", "c", "o", 1 << 62, "ttl: 1281023h"},
		{"owner not UTF-8", "c", "\xff", time.Second, `owner: "\xff"; want valid UTF-8 of at most 256 bytes`},
		{"owner too long", "c", strings.Repeat("o", 257), time.Second, "at most 256 bytes"},
	}
	for name, l := range leases {
		for _, tc := range tests {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				if err := l.Acquire(t.Context(), tc.id, tc.owner, tc.ttl); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Acquire = %v, want error containing %q", err, tc.want)
				}
				if err := l.Renew(t.Context(), tc.id, tc.owner, tc.ttl); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Renew = %v, want error containing %q", err, tc.want)
				}
			})
		}
	}
	if _, err := cutover.NewFileLease("", cutover.FileLeaseOptions{}); err == nil || !strings.Contains(err.Error(), "dir") {
		t.Errorf("NewFileLease(\"\") = %v, want error naming dir", err)
	}
	if _, err := cutover.NewFileLease(t.TempDir(), cutover.FileLeaseOptions{LockTimeout: -1}); err == nil || !strings.Contains(err.Error(), "LockTimeout") {
		t.Errorf("negative LockTimeout = %v, want error naming it", err)
	}
}

// A damaged lease file is an error naming the file, never a free lease.
func TestFileLeaseCorruptFile(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"garbage", "{not json", "undecodable"},
		{"other cutover", `{"cutover":"x","owner":"a","expires":"2025-01-01T00:00:00Z"}`, `cutover: "x", want "c"`},
		{"no owner", `{"cutover":"c","owner":"","expires":"2025-01-01T00:00:00Z"}`, "owner: empty"},
		{"unknown field", `{"cutover":"c","owner":"a","expires":"2025-01-01T00:00:00Z","x":1}`, "unknown field"},
		{"trailing", `{"cutover":"c","owner":"a","expires":"2025-01-01T00:00:00Z"} 1`, "data after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newFileLease(t, t.TempDir(), nil)
			if err := os.WriteFile(l.Path("c"), []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			err := l.Acquire(t.Context(), "c", "bob", time.Minute)
			if err == nil || !strings.Contains(err.Error(), l.Path("c")) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Acquire = %v, want error naming %s and %q", err, l.Path("c"), tc.want)
			}
		})
	}
}

// The lease file says who holds the lease until when, and a process that
// opens the directory later sees the same holder.
func TestFileLeaseSurvivesHandle(t *testing.T) {
	dir := t.TempDir()
	clock := cutover.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	a := newFileLease(t, dir, clock)
	if err := a.Acquire(t.Context(), "c", "alice", time.Minute); err != nil {
		t.Fatal(err)
	}
	b := newFileLease(t, dir, clock)
	err := b.Acquire(t.Context(), "c", "bob", time.Minute)
	var held *cutover.LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "alice" || !held.Expires.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("Acquire by bob = %v, want LeaseHeldError by alice until now+1m", err)
	}
	want := fmt.Sprintf(`lease c: held by "alice" until %s`, clock.Now().Add(time.Minute).Format(time.RFC3339Nano))
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if err := a.Release(t.Context(), "c", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.Path("c")); !os.IsNotExist(err) {
		t.Errorf("lease file after release: %v, want it gone", err)
	}
}

func ExampleFileLease() {
	dir, _ := os.MkdirTemp("", "lease")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	clock := cutover.NewManualClock(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC))
	l, _ := cutover.NewFileLease(dir, cutover.FileLeaseOptions{Clock: clock})
	fmt.Println(l.Acquire(ctx, "checkout", "runner-a", 30*time.Second))
	fmt.Println(l.Acquire(ctx, "checkout", "runner-b", 30*time.Second))
	clock.Advance(31 * time.Second) // runner-a stopped renewing
	fmt.Println(l.Acquire(ctx, "checkout", "runner-b", 30*time.Second))
	fmt.Println(errors.Is(l.Renew(ctx, "checkout", "runner-a", 30*time.Second), cutover.ErrLeaseLost))
	// Output:
	// <nil>
	// lease checkout: held by "runner-a" until 2025-01-01T12:00:30Z
	// <nil>
	// true
}

// TestFileLeaseAcrossProcesses has child processes race for one lease:
// exactly one gets it, the others get ErrLeaseHeld naming it.
func TestFileLeaseAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("SAFECUTOVER_FILELEASE_CHILD"); dir != "" {
		leaseChild(dir, os.Getenv("SAFECUTOVER_FILELEASE_NAME"))
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	const children = 4
	cmds := make([]*exec.Cmd, children)
	outs := make([]strings.Builder, children)
	for i := range cmds {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFileLeaseAcrossProcesses$")
		cmd.Env = append(os.Environ(), "SAFECUTOVER_FILELEASE_CHILD="+dir, fmt.Sprintf("SAFECUTOVER_FILELEASE_NAME=child-%d", i))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	var winners []string
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i].String())
		}
		if strings.Contains(outs[i].String(), "acquired") {
			winners = append(winners, fmt.Sprintf("child-%d", i))
		}
	}
	if len(winners) != 1 {
		t.Fatalf("winners = %v, want exactly one", winners)
	}
	err := newFileLease(t, dir, nil).Acquire(t.Context(), "shared", "parent", time.Minute)
	if !errors.Is(err, cutover.ErrLeaseHeld) || !strings.Contains(err.Error(), winners[0]) {
		t.Errorf("parent Acquire = %v, want ErrLeaseHeld by %s", err, winners[0])
	}
}

// leaseChild is the body of a child of TestFileLeaseAcrossProcesses.
func leaseChild(dir, name string) {
	l, err := cutover.NewFileLease(dir, cutover.FileLeaseOptions{})
	if err == nil {
		err = l.Acquire(context.Background(), "shared", name, time.Minute)
	}
	switch {
	case err == nil:
		fmt.Println("acquired")
	case errors.Is(err, cutover.ErrLeaseHeld):
		fmt.Println("held:", err)
	default:
		fmt.Println("error:", err)
		os.Exit(2)
	}
}
