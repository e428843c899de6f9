package sshsign_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/safecutover/safecutover/sshsign"
)

// newKey returns a throwaway key of kind "ed25519", "ecdsa" or "rsa",
// generated in the test, never stored.
func newKey(t testing.TB, kind string) ssh.Signer {
	t.Helper()
	var k any
	var err error
	switch kind {
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signer wraps s.
func signer(t testing.TB, s ssh.Signer) *sshsign.Signer {
	t.Helper()
	ss, err := sshsign.NewSigner(s)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// line returns an allowed_signers line for s.
func line(principals, options string, s ssh.Signer) string {
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
	if options != "" {
		return fmt.Sprintf("%s %s %s", principals, options, key)
	}
	return fmt.Sprintf("%s %s", principals, key)
}

// allowed parses lines as an allowed_signers file.
func allowed(t testing.TB, lines ...string) *sshsign.AllowedSigners {
	t.Helper()
	as, err := sshsign.ParseAllowedSigners(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func ed25519GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}
