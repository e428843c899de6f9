package sshsign_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/sshsign"
)

// FuzzParseAllowedSigners: no input panics, and a file that parses gives
// approvers the core accepts or rejects with an error, never a panic.
func FuzzParseAllowedSigners(f *testing.F) {
	k := newKey(f, "ed25519")
	key := strings.TrimPrefix(line("x", "", k), "x ")
	f.Add(`alice namespaces="safecutover-*" ` + key)
	f.Add(`"a,b" valid-after="20260101Z",valid-before="20270101",namespaces="safecutover-approve" ` + key + " c")
	f.Add("# c\n\nalice " + key)
	f.Add(`alice cert-authority,namespaces="x\"y" ` + key)
	f.Fuzz(func(t *testing.T, in string) {
		as, err := sshsign.ParseAllowedSigners(strings.NewReader(in))
		if err != nil {
			if as != nil {
				t.Fatal("error with a result")
			}
			return
		}
		for _, a := range as.Approvers() {
			if a.Key == "" || len(a.Principals) == 0 {
				t.Fatalf("approver %+v without key or principal", a)
			}
		}
		_ = (&cutover.Approvers{Entries: as.Approvers(), Verifiers: []cutover.KeyVerifier{as}}).Validate()
	})
}

// FuzzVerifySignature: no signature blob panics the verifier, and only
// the genuine one verifies.
func FuzzVerifySignature(f *testing.F) {
	k := newKey(f, "ed25519")
	s := signer(f, k)
	as := allowed(f, line("bob", `namespaces="safecutover-*"`, k))
	good, err := s.Sign(f.Context(), ns, []byte("payload"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.Blob)
	f.Add([]byte("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"))
	f.Add([]byte("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQAAAAA=\n-----END SSH SIGNATURE-----"))
	f.Fuzz(func(t *testing.T, blob []byte) {
		sig := cutover.Signature{Scheme: sshsign.Scheme, Key: s.Key(), Payload: "payload", Blob: blob}
		err := as.VerifySignature(t.Context(), ns, sig)
		if err == nil && string(blob) != string(good.Blob) {
			// Another armoring of the same signature (line breaks,
			// spaces) is the same signature.
			norm := func(b []byte) string { return strings.Join(strings.Fields(string(b)), "") }
			if norm(blob) != norm(good.Blob) {
				t.Fatalf("a forged blob verified:\n%s", blob)
			}
		}
		if err != nil && !errors.Is(err, cutover.ErrBadSignature) && !errors.Is(err, cutover.ErrUnknownKey) {
			t.Fatalf("error %v wraps neither ErrBadSignature nor ErrUnknownKey", err)
		}
	})
}
