package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/sshsign"
)

// The files -keys DIR holds.
const (
	keyInitiator   = "initiator"       // the runner's key: signs the start
	keyApprover    = "approver"        // the second person's key
	allowedSigners = "allowed_signers" // who may do what
	approverName   = "approver"        // the approver key's principal
)

// setupKeys returns the runner's signer and the approvers of -keys dir.
// The first time, it makes two throwaway SSH keys there, for the
// initiator (actor) and for a second person, and an allowed_signers file
// that lets the initiator start, pause and abort, and the second person
// also approve. They are for trying the signed path only: in production
// every person has their own key, and the allowed_signers file is kept in
// review like code.
func setupKeys(dir, actor string) (cutover.Signer, *cutover.Approvers, error) {
	allowed := filepath.Join(dir, allowedSigners)
	if _, err := os.Stat(allowed); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("-keys: %w", err)
		}
		var lines []string
		for _, k := range []struct{ file, principal, namespaces string }{
			{keyInitiator, actor, "safecutover-start,safecutover-pause,safecutover-abort"},
			{keyApprover, approverName, "safecutover-*"},
		} {
			pub, err := newKeyFile(filepath.Join(dir, k.file))
			if err != nil {
				return nil, nil, fmt.Errorf("-keys: %w", err)
			}
			lines = append(lines, fmt.Sprintf("%s namespaces=%q %s", k.principal, k.namespaces, pub))
		}
		if err := os.WriteFile(allowed, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			return nil, nil, fmt.Errorf("-keys: %w", err)
		}
	}
	f, err := os.Open(allowed)
	if err != nil {
		return nil, nil, fmt.Errorf("-keys: %w", err)
	}
	defer f.Close()
	as, err := sshsign.ParseAllowedSigners(f)
	if err != nil {
		return nil, nil, fmt.Errorf("-keys: %w", err)
	}
	s, err := sshsign.LoadKey(filepath.Join(dir, keyInitiator), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("-keys: %w", err)
	}
	return s, &cutover.Approvers{Entries: as.Approvers(), Verifiers: []cutover.KeyVerifier{as}}, nil
}

// newKeyFile writes a fresh ed25519 private key to file and returns its
// public key as an authorized_keys field.
func newKeyFile(file string) (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "throwaway key of examples/operated")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", err
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey()))), nil
}
