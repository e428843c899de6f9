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
// refused before it is written; the approver's signed one is taken, with
// the key journaled, and the cutover completes.
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
	if _, err := cutover.SendSeq(ctx, j, "operated", cutover.CmdApprove, "approver", "unsigned", ""); err == nil || !strings.Contains(err.Error(), "signature: none") {
		t.Fatalf("unsigned approval: %v; want Send to refuse it before writing", err)
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
	var acks, taken int
	for _, r := range recs {
		if r.Type != cutover.RecAck || r.Command != cutover.CmdApprove {
			continue
		}
		acks++
		if r.Error == "" && r.Identity == approver.Key() {
			taken++
		}
	}
	if acks != 1 || taken != 1 {
		t.Errorf("%d approvals answered, %d taken as signed by the approver's key; want 1 and 1", acks, taken)
	}
	if !strings.Contains(out.String(), "-sign-key "+filepath.Join(keys, keyApprover)) {
		t.Errorf("output does not say how to approve:\n%s", out.String())
	}
}
