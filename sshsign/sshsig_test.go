package sshsign_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/sshsign"
)

const ns = "safecutover-approve"

func TestSignVerifyEveryKeyKind(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"ed25519", "ecdsa", "rsa"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			k := newKey(t, kind)
			s := signer(t, k)
			as := allowed(t, line("bob", `namespaces="safecutover-*"`, k))
			payload := []byte(`{"v":1}`)
			sig, err := s.Sign(t.Context(), ns, payload)
			if err != nil {
				t.Fatal(err)
			}
			sig.Payload = string(payload)
			if sig.Key != ssh.FingerprintSHA256(k.PublicKey()) || sig.Scheme != sshsign.Scheme {
				t.Fatalf("signature names key %s scheme %s; want %s ssh", sig.Key, sig.Scheme, ssh.FingerprintSHA256(k.PublicKey()))
			}
			if err := as.VerifySignature(t.Context(), ns, sig); err != nil {
				t.Fatalf("verify: %v", err)
			}
			other := sig
			other.Payload = `{"v":2}`
			if err := as.VerifySignature(t.Context(), ns, other); !errors.Is(err, cutover.ErrBadSignature) {
				t.Errorf("another payload: %v; want ErrBadSignature", err)
			}
			if err := as.VerifySignature(t.Context(), "safecutover-abort", sig); !errors.Is(err, cutover.ErrBadSignature) {
				t.Errorf("another namespace: %v; want ErrBadSignature", err)
			}
			corrupt := sig
			corrupt.Blob = bytes.Replace(sig.Blob, []byte("A"), []byte("B"), 3)
			if err := as.VerifySignature(t.Context(), ns, corrupt); !errors.Is(err, cutover.ErrBadSignature) {
				t.Errorf("corrupted blob: %v; want ErrBadSignature", err)
			}
			stranger := signer(t, newKey(t, "ed25519"))
			sig2, err := stranger.Sign(t.Context(), ns, payload)
			if err != nil {
				t.Fatal(err)
			}
			sig2.Payload = string(payload)
			if err := as.VerifySignature(t.Context(), ns, sig2); !errors.Is(err, cutover.ErrUnknownKey) {
				t.Errorf("unlisted key: %v; want ErrUnknownKey", err)
			}
			// A stranger's signature presented under the listed key's name.
			sig2.Key = sig.Key
			if err := as.VerifySignature(t.Context(), ns, sig2); !errors.Is(err, cutover.ErrBadSignature) {
				t.Errorf("stranger's signature under a listed key: %v; want ErrBadSignature", err)
			}
			kms := sig
			kms.Scheme = "kms"
			if err := as.VerifySignature(t.Context(), ns, kms); !errors.Is(err, cutover.ErrUnknownKey) {
				t.Errorf("another scheme: %v; want ErrUnknownKey", err)
			}
		})
	}
}

// sshKeygen returns the path of ssh-keygen, or skips the test.
func sshKeygen(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not installed")
	}
	return p
}

// TestOpenSSHInterop checks the format against OpenSSH's own tool both
// ways: ssh-keygen -Y verify accepts what Signer signs, and
// AllowedSigners accepts what ssh-keygen -Y sign signs.
func TestOpenSSHInterop(t *testing.T) {
	keygen := sshKeygen(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "throwaway", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	s, err := sshsign.LoadKey(keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	allowedFile := filepath.Join(dir, "allowed_signers")
	if err := os.WriteFile(allowedFile, []byte(`bob@example.com namespaces="safecutover-approve" `+string(pub)), 0o600); err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"v":1,"cutover":"c1"}`)

	sig, err := s.Sign(t.Context(), ns, payload)
	if err != nil {
		t.Fatal(err)
	}
	sigFile := filepath.Join(dir, "ours.sig")
	if err := os.WriteFile(sigFile, sig.Blob, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(keygen, "-Y", "verify", "-f", allowedFile, "-I", "bob@example.com", "-n", ns, "-s", sigFile)
	cmd.Stdin = bytes.NewReader(payload)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y verify of our signature: %v: %s", err, out)
	}

	msgFile := filepath.Join(dir, "payload")
	if err := os.WriteFile(msgFile, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(keygen, "-Y", "sign", "-f", keyFile, "-n", ns, msgFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v: %s", err, out)
	}
	theirs, err := os.ReadFile(msgFile + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(allowedFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	as, err := sshsign.ParseAllowedSigners(f)
	if err != nil {
		t.Fatal(err)
	}
	err = as.VerifySignature(t.Context(), ns, cutover.Signature{Scheme: sshsign.Scheme, Key: s.Key(), Payload: string(payload), Blob: theirs})
	if err != nil {
		t.Fatalf("verify ssh-keygen's signature: %v", err)
	}
}

// TestAgent signs through an ssh-agent on a unix socket, as git does.
func TestAgent(t *testing.T) {
	t.Parallel()
	kr := agent.NewKeyring()
	priv, pubLine := agentKey(t, kr)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix socket: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = agent.ServeAgent(kr, c)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })

	a, err := sshsign.Agent(sock, pubLine)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	as := allowed(t, "carol "+`namespaces="safecutover-approve" `+strings.TrimSpace(string(pubLine)))
	payload := []byte("p")
	sig, err := a.Sign(t.Context(), ns, payload)
	if err != nil {
		t.Fatal(err)
	}
	sig.Payload = string(payload)
	if err := as.VerifySignature(t.Context(), ns, sig); err != nil {
		t.Fatalf("verify agent's signature: %v", err)
	}
	if sig.Key != ssh.FingerprintSHA256(priv.PublicKey()) {
		t.Errorf("key %s; want %s", sig.Key, ssh.FingerprintSHA256(priv.PublicKey()))
	}
	other := ssh.MarshalAuthorizedKey(newKey(t, "ed25519").PublicKey())
	if _, err := sshsign.Agent(sock, other); err == nil || !strings.Contains(err.Error(), "not loaded") {
		t.Errorf("a key the agent does not hold: %v; want not loaded", err)
	}
}

// agentKey adds a fresh ed25519 key to kr and returns it with its public
// line.
func agentKey(t *testing.T, kr agent.Agent) (ssh.Signer, []byte) {
	t.Helper()
	pub, priv, err := ed25519GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return s, ssh.MarshalAuthorizedKey(sp)
}

func TestSignHonoursContext(t *testing.T) {
	t.Parallel()
	s := signer(t, newKey(t, "ed25519"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Sign(ctx, ns, []byte("p")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v; want context.Canceled", err)
	}
	if _, err := s.Sign(t.Context(), "", []byte("p")); err == nil {
		t.Error("empty namespace: no error")
	}
}
