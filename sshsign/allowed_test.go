package sshsign_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/sshsign"
)

func TestParseAllowedSigners(t *testing.T) {
	t.Parallel()
	k := newKey(t, "ed25519")
	fp := signer(t, k).Key()
	key := strings.TrimPrefix(line("x", "", k), "x ")
	tests := []struct {
		name string
		in   string
		want []cutover.Approver
	}{
		{"roles from namespaces", `alice@example.com,bob namespaces="safecutover-approve,safecutover-abort" ` + key + " laptop",
			[]cutover.Approver{{Key: fp, Principals: []string{"alice@example.com", "bob"}, Roles: cutover.RoleApprove | cutover.RoleAbort}}},
		{"pattern grants every role", `*@example.com namespaces="safecutover-*" ` + key,
			[]cutover.Approver{{Key: fp, Principals: []string{"*@example.com"}, Roles: cutover.RoleAll}}},
		{"no namespaces grants nothing", "# git's file\n\nalice " + key,
			[]cutover.Approver{{Key: fp, Principals: []string{"alice"}}}},
		{"other namespaces grant nothing", `alice namespaces="git,file" ` + key,
			[]cutover.Approver{{Key: fp, Principals: []string{"alice"}}}},
		{"validity", `"alice" valid-after="20260101Z",valid-before="202612312359Z",namespaces="safecutover-pause" ` + key,
			[]cutover.Approver{{Key: fp, Principals: []string{"alice"}, Roles: cutover.RolePause,
				ValidAfter: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ValidBefore: time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			as, err := sshsign.ParseAllowedSigners(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, as.Approvers()); d != "" {
				t.Errorf("approvers (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseAllowedSignersErrors(t *testing.T) {
	t.Parallel()
	k := newKey(t, "ed25519")
	key := strings.TrimPrefix(line("x", "", k), "x ")
	tests := []struct{ name, in, want string }{
		{"empty", "# nothing\n", "no key"},
		{"one field", "alice\n", "line 1: want"},
		{"bad key", "alice ssh-ed25519 AAAA\n", "line 1: key"},
		{"cert authority", "\nalice cert-authority " + key, "line 2: option cert-authority"},
		{"unknown option", "alice no-touch-required " + key, `option "no-touch-required"`},
		{"negated namespace", `alice namespaces="!safecutover-approve" ` + key, "negated"},
		{"negated principal", "!alice " + key, "negated"},
		{"bad pattern", "alice[ " + key, `principal "alice["`},
		{"bad stamp", `alice valid-after="2026" ` + key, "valid-after"},
		{"before not after", `alice valid-after="20260102Z",valid-before="20260101Z" ` + key, "valid-before: not after"},
		{"unterminated quote", `"alice ` + key, "unterminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sshsign.ParseAllowedSigners(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v; want one containing %q", err, tt.want)
			}
		})
	}
}
