package cutover_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// FuzzParsePayload: no input panics; what parses is canonical (it
// marshals back to the same bytes), and what does not wraps
// ErrBadSignature.
func FuzzParsePayload(f *testing.F) {
	p := cutover.Payload{V: 1, Cutover: "c1", PlanHash: "sha256:00", Command: cutover.CmdApprove, Stage: "retire", Actor: "bob", Reason: "ok",
		Time: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), Nonce: "0123"}
	f.Add(p.Marshal())
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"cutover":"c","plan":"","cmd":"","stage":"","actor":"","reason":"","time":"0001-01-01T00:00:00Z","nonce":""} `))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := cutover.ParsePayload(b)
		if err != nil {
			if !errors.Is(err, cutover.ErrBadSignature) {
				t.Fatalf("error %v does not wrap ErrBadSignature", err)
			}
			return
		}
		if !bytes.Equal(got.Marshal(), b) {
			t.Fatalf("parsed %q, marshals to %q", b, got.Marshal())
		}
	})
}

func TestParseRoles(t *testing.T) {
	t.Parallel()
	r, err := cutover.ParseRoles("approve, resume,abort")
	if err != nil || r != cutover.RoleApprove|cutover.RolePause|cutover.RoleAbort {
		t.Errorf("ParseRoles: %v %v", r, err)
	}
	if r.String() != "approve,abort,pause" {
		t.Errorf("String: %q", r.String())
	}
	if r, err := cutover.ParseRoles("all"); err != nil || r != cutover.RoleAll {
		t.Errorf("all: %v %v", r, err)
	}
	if _, err := cutover.ParseRoles("approve,deploy"); err == nil {
		t.Error("unknown role: no error")
	}
	if cutover.RoleApprove.Namespace() != "safecutover-approve" {
		t.Errorf("namespace %q", cutover.RoleApprove.Namespace())
	}
}
