package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/sshsign"
)

// throwawayKey writes a fresh ed25519 private key, generated in the test,
// to dir/name and returns its signer and allowed_signers key field.
func throwawayKey(t *testing.T, dir, name string) (*sshsign.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sshsign.LoadKey(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey())))
}

// TestSignedApproveAndVerify: cutoverctl signs an approval with -sign-key,
// refuses the initiator's key under the two-person rule before writing,
// and verify audits the journal, failing when the runner took a command
// that does not verify.
func TestSignedApproveAndVerify(t *testing.T) {
	t.Parallel()
	dir, keys := t.TempDir(), t.TempDir()
	alice, aliceKey := throwawayKey(t, keys, "alice")
	_, bobKey := throwawayKey(t, keys, "bob")
	allowedFile := filepath.Join(keys, "allowed_signers")
	allowed := "alice namespaces=\"safecutover-start,safecutover-approve\" " + aliceKey + "\nbob namespaces=\"safecutover-approve\" " + bobKey + "\n"
	if err := os.WriteFile(allowedFile, []byte(allowed), 0o600); err != nil {
		t.Fatal(err)
	}
	as, err := sshsign.ParseAllowedSigners(strings.NewReader(allowed))
	if err != nil {
		t.Fatal(err)
	}
	j, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	noop := func(context.Context) error { return nil }
	p := cutover.Plan{Name: "p", Stages: []cutover.Stage{
		{Name: "shift", Apply: noop, Revert: noop},
		{Name: "retire", Apply: noop, Reversibility: cutover.Irreversible()},
	}}
	r := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice", Signer: alice, TwoPerson: true, PollInterval: 10 * time.Millisecond,
		Approvers: &cutover.Approvers{Entries: as.Approvers(), Verifiers: []cutover.KeyVerifier{as}}})
	ctx := t.Context()
	if _, err := r.Run(ctx, "c", p); !errors.Is(err, cutover.ErrPNRNotApproved) {
		t.Fatalf("first run: %v", err)
	}
	env := map[string]string{journalEnv: dir}

	code, _, stderr := runHere(t, env, "approve", "c", "-reason", "mine", "-as", "alice", "-sign-key", filepath.Join(keys, "alice"), "-no-wait")
	wantCode(t, "approve with the initiator's key", code, exitRefused)
	wantIn(t, "approve with the initiator's key", stderr, "two-person rule", "nothing was written")

	code, _, stderr = runHere(t, env, "approve", "c", "-reason", "dashboards flat", "-as", "bob", "-sign-key", filepath.Join(keys, "bob"), "-no-wait")
	wantCode(t, "approve signed by bob: "+stderr, code, exitOK)
	if st, err := r.Run(ctx, "c", p); err != nil || st.Phase != cutover.PhaseCompleted {
		t.Fatalf("run after bob's signed approval: %v %s", err, st.Phase)
	}

	code, stdout, stderr := runHere(t, env, "verify", "c", "-allowed-signers", allowedFile)
	wantCode(t, "verify: "+stderr, code, exitOK)
	wantIn(t, "verify", stdout, "start", "approve", "verified SHA256:", "runner: took it")

	// A rogue writer journals an unsigned abort and an answer taking it.
	recs, err := j.Read(ctx, "c", 0)
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	rogue := []cutover.Record{
		{Seq: last.Seq + 1, Type: cutover.RecCommand, Time: last.Time, Command: cutover.CmdPause, Actor: "bob"},
		{Seq: last.Seq + 2, Type: cutover.RecAck, Time: last.Time, Command: cutover.CmdPause, Actor: "bob", Ref: last.Seq + 1, Reason: "pausing"},
	}
	for _, rec := range rogue {
		if err := j.Append(ctx, "c", rec); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr = runHere(t, env, "verify", "c", "-allowed-signers", allowedFile)
	wantCode(t, "verify a tampered journal", code, exitError)
	wantIn(t, "verify a tampered journal", stderr, "does not verify", "unsigned")

	code, _, stderr = runHere(t, env, "verify", "c")
	wantCode(t, "verify without approvers", code, exitUsage)
	wantIn(t, "verify without approvers", stderr, "-allowed-signers")
}
