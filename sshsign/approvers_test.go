package sshsign_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/sshsign"
)

// team is a configured set of approvers with throwaway keys: alice may
// start, bob may approve and abort, carol may only pause, mallory is in
// no file.
type team struct {
	alice, bob, carol, mallory *sshsign.Signer
	approvers                  *cutover.Approvers
}

func newTeam(t testing.TB) *team {
	t.Helper()
	a, b, c, m := newKey(t, "ed25519"), newKey(t, "ecdsa"), newKey(t, "ed25519"), newKey(t, "ed25519")
	as := allowed(t,
		line("alice@example.com", `namespaces="safecutover-start,safecutover-approve"`, a),
		line("bob@example.com", `namespaces="safecutover-approve,safecutover-abort"`, b),
		line("carol@example.com", `namespaces="safecutover-pause"`, c),
	)
	return &team{
		alice: signer(t, a), bob: signer(t, b), carol: signer(t, c), mallory: signer(t, m),
		approvers: &cutover.Approvers{Entries: as.Approvers(), Verifiers: []cutover.KeyVerifier{as}},
	}
}

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// startRecord is the start of a two-stage cutover.
func startRecord(plan string) cutover.Record {
	return cutover.Record{Seq: 1, Type: cutover.RecStart, Time: t0, Plan: plan, Actor: "alice@example.com",
		Stages:  []string{"shift", "retire"},
		Outline: []cutover.StageOutline{{Reversibility: "reversible", Bake: time.Minute}, {Reversibility: "irreversible", Approval: true}},
	}
}

// signed returns a command record signed by s for cutover id of the
// plan of start.
func signed(t *testing.T, s cutover.Signer, id string, start cutover.Record, cmd cutover.Command, actor, stage string, at time.Time) cutover.Record {
	t.Helper()
	rec := cutover.Record{Type: cutover.RecCommand, Time: at, Command: cmd, Actor: actor, Stage: stage, Reason: "looks good"}
	if err := cutover.SignCommand(t.Context(), s, id, cutover.PlanHash(start), &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// verify journals start and recs for cutover id and returns what
// VerifyJournal says of the last record.
func verify(t *testing.T, a *cutover.Approvers, id string, start cutover.Record, recs ...cutover.Record) cutover.Verification {
	t.Helper()
	all := append([]cutover.Record{start}, recs...)
	for i := range all {
		all[i].Seq = uint64(i + 1)
	}
	vs, err := a.VerifyJournal(context.Background(), id, all)
	if err != nil {
		t.Fatal(err)
	}
	return vs[len(vs)-1]
}

func TestApproversRefuse(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	start := startRecord("migrate")
	at := t0.Add(time.Minute)
	good := signed(t, tm.bob, "c1", start, cutover.CmdApprove, "bob@example.com", "retire", at)
	corrupt := good
	sig := *good.Signed
	sig.Blob = bytes.Replace(sig.Blob, []byte("A"), []byte("Q"), 2)
	corrupt.Signed = &sig
	otherPlan := startRecord("migrate")
	otherPlan.Outline[1].Reversibility = "window"
	otherPlan.Outline[1].Window = time.Hour
	retyped := good
	retyped.Reason = "because I say so"
	unsigned := good
	unsigned.Signed = nil
	tests := []struct {
		name string
		recs []cutover.Record
		want cutover.RefusalReason
	}{
		{"unsigned", []cutover.Record{unsigned}, cutover.RefusedUnsigned},
		{"unknown key", []cutover.Record{signed(t, tm.mallory, "c1", start, cutover.CmdApprove, "mallory", "retire", at)}, cutover.RefusedUnknownKey},
		{"forged under another's name", []cutover.Record{signed(t, tm.carol, "c1", start, cutover.CmdApprove, "bob@example.com", "retire", at)}, cutover.RefusedUnknownKey},
		{"no approve role", []cutover.Record{signed(t, tm.carol, "c1", start, cutover.CmdApprove, "carol@example.com", "retire", at)}, cutover.RefusedWrongRole},
		{"abort without the role", []cutover.Record{signed(t, tm.alice, "c1", start, cutover.CmdAbort, "alice@example.com", "", at)}, cutover.RefusedWrongRole},
		{"corrupted signature", []cutover.Record{corrupt}, cutover.RefusedBadSignature},
		{"record altered after signing", []cutover.Record{retyped}, cutover.RefusedBadSignature},
		{"another cutover", []cutover.Record{signed(t, tm.bob, "c0", start, cutover.CmdApprove, "bob@example.com", "retire", at)}, cutover.RefusedReplayed},
		{"another plan hash", []cutover.Record{signed(t, tm.bob, "c1", otherPlan, cutover.CmdApprove, "bob@example.com", "retire", at)}, cutover.RefusedReplayed},
		{"earlier stage", []cutover.Record{func() cutover.Record {
			r := signed(t, tm.bob, "c1", start, cutover.CmdApprove, "bob@example.com", "shift", at)
			r.Stage = "retire"
			return r
		}()}, cutover.RefusedReplayed},
		{"earlier approval of the same cutover", []cutover.Record{good, good}, cutover.RefusedReplayed},
		{"signed long before", []cutover.Record{func() cutover.Record {
			r := signed(t, tm.bob, "c1", start, cutover.CmdApprove, "bob@example.com", "retire", at)
			r.Time = at.Add(time.Hour)
			return r
		}()}, cutover.RefusedReplayed},
		{"signed in the future", []cutover.Record{func() cutover.Record {
			r := signed(t, tm.bob, "c1", start, cutover.CmdApprove, "bob@example.com", "retire", at.Add(time.Hour))
			r.Time = at
			return r
		}()}, cutover.RefusedReplayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := verify(t, tm.approvers, "c1", start, tt.recs...)
			var re *cutover.RefusedError
			if !errors.As(v.Err, &re) || re.Reason != tt.want {
				t.Fatalf("verification %+v; want refused: %s", v, tt.want)
			}
			if !errors.Is(v.Err, cutover.ErrRefused) {
				t.Errorf("%v does not wrap ErrRefused", v.Err)
			}
		})
	}
}

func TestApproversAccept(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	start := startRecord("migrate")
	if err := cutover.SignCommand(t.Context(), tm.alice, "c1", cutover.PlanHash(start), &start); err != nil {
		t.Fatal(err)
	}
	all := []cutover.Record{start,
		signed(t, tm.carol, "c1", start, cutover.CmdPause, "carol@example.com", "shift", t0.Add(time.Minute)),
		signed(t, tm.bob, "c1", start, cutover.CmdApprove, "bob@example.com", "retire", t0.Add(2*time.Minute)),
	}
	for i := range all {
		all[i].Seq = uint64(i + 1)
	}
	vs, err := tm.approvers.VerifyJournal(t.Context(), "c1", all)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{tm.alice.Key(), tm.carol.Key(), tm.bob.Key()}
	if len(vs) != len(want) {
		t.Fatalf("%d verifications; want %d", len(vs), len(want))
	}
	for i, v := range vs {
		if v.Err != nil || v.Identity.Key != want[i] || v.Identity.Actor != all[i].Actor {
			t.Errorf("record %d: %+v; want accepted as %s (%s)", i+1, v, all[i].Actor, want[i])
		}
	}
}

func TestApproversRotation(t *testing.T) {
	t.Parallel()
	k := newKey(t, "ed25519")
	as := allowed(t, line("bob", `valid-before="202612050905Z",namespaces="safecutover-approve"`, k))
	a := &cutover.Approvers{Entries: as.Approvers(), Verifiers: []cutover.KeyVerifier{as}}
	start := startRecord("migrate")
	s := signer(t, k)
	if v := verify(t, a, "c1", start, signed(t, s, "c1", start, cutover.CmdApprove, "bob", "retire", t0.Add(time.Minute))); v.Err != nil {
		t.Fatalf("before the key is retired: %v", v.Err)
	}
	v := verify(t, a, "c1", start, signed(t, s, "c1", start, cutover.CmdApprove, "bob", "retire", t0.Add(10*time.Minute)))
	var re *cutover.RefusedError
	if !errors.As(v.Err, &re) || re.Reason != cutover.RefusedUnknownKey {
		t.Fatalf("after the key is retired: %v; want unknown key", v.Err)
	}
}

func TestApproversValidate(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	bad := []cutover.Approvers{
		{},
		{Entries: tm.approvers.Entries},
		{Entries: []cutover.Approver{{Key: "k", Principals: []string{"a"}, Roles: 1 << 7}}, Verifiers: tm.approvers.Verifiers},
		{Entries: tm.approvers.Entries, Verifiers: tm.approvers.Verifiers, Skew: -time.Second},
	}
	for i, a := range bad {
		if err := a.Validate(); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
	if err := tm.approvers.Validate(); err != nil {
		t.Errorf("good approvers: %v", err)
	}
}
