package reliability_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/sshsign"
)

// testApprovers are throwaway SSH keys, generated in the test, for the
// initiator (start, approve) and the approver (every role).
type testApprovers struct {
	approvers *cutover.Approvers
	signers   map[string]cutover.Signer
}

func newApprovers(t testing.TB) testApprovers {
	t.Helper()
	roles := map[string]string{initiator: "safecutover-start,safecutover-approve", approver: "safecutover-*"}
	var lines []string
	ta := testApprovers{signers: map[string]cutover.Signer{}}
	for name, ns := range roles {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sshsign.NewSigner(k)
		if err != nil {
			t.Fatal(err)
		}
		ta.signers[name] = s
		lines = append(lines, fmt.Sprintf("%s namespaces=%q %s", name, ns, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey())))))
	}
	as, err := sshsign.ParseAllowedSigners(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	ta.approvers = &cutover.Approvers{Entries: as.Approvers(), Verifiers: []cutover.KeyVerifier{as}}
	return ta
}

// keyOf returns the key a signer signs with.
func keyOf(s cutover.Signer) string { return s.(*sshsign.Signer).Key() }
