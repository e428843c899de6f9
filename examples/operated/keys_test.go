package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/sshsign"
)

// TestSignedApproval runs the example with -keys: an unsigned approval is
// refused and leaves blue warm; the approver's signed one is taken and the
// cutover completes.
func TestSignedApproval(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, keys := t.TempDir(), t.TempDir()
	var out, errb bytes.Buffer
	var wg sync.WaitGroup
	code := -1
	wg.Add(1)
	go func() {
		defer wg.Done()
		code = run(ctx, []string{"-journal", dir, "-keys", keys, "-actor", "alice", "-speed", "600", "-bake", "1m", "-warm", "2m", "-timeout", "2m"}, &out, &errb)
	}()
	j, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Wait (bounded by ctx) until the runner waits at the PNR.
	waiting := func() bool {
		recs, err := j.Read(ctx, "operated", 0)
		if err != nil || len(recs) == 0 {
			return false
		}
		st, err := cutover.Fold("operated", recs)
		return err == nil && st.Phase == cutover.PhaseWaiting
	}
	for !waiting() {
		select {
		case <-ctx.Done():
			t.Fatalf("the runner never waited for the approval:\n%s%s", out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := cutover.SendSeq(ctx, j, "operated", cutover.CmdApprove, "approver", "unsigned", ""); err != nil {
		t.Fatal(err)
	}
	approver, err := sshsign.LoadKey(filepath.Join(keys, keyApprover), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cutover.SendSigned(ctx, j, "operated", cutover.CmdApprove, approverName, "green looks good", "", approver); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if code != exitCompleted {
		t.Fatalf("exit %d, want %d (completed)\n%s%s", code, exitCompleted, out.String(), errb.String())
	}
	recs, err := j.Read(ctx, "operated", 0)
	if err != nil {
		t.Fatal(err)
	}
	var refused, taken int
	for _, r := range recs {
		if r.Type != cutover.RecAck || r.Command != cutover.CmdApprove {
			continue
		}
		switch {
		case strings.HasPrefix(r.Error, "refused: unsigned"):
			refused++
		case r.Error == "" && r.Identity == approver.Key():
			taken++
		}
	}
	if refused != 1 || taken != 1 {
		t.Errorf("%d unsigned approvals refused and %d signed ones taken; want 1 and 1", refused, taken)
	}
	if !strings.Contains(out.String(), "-sign-key "+filepath.Join(keys, keyApprover)) {
		t.Errorf("output does not say how to approve:\n%s", out.String())
	}
}
