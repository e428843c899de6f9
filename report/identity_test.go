package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/report"
)

// TestSignedIdentity: a command the runner verified shows the key next to
// the typed name, in every rendering that lists commands.
func TestSignedIdentity(t *testing.T) {
	t.Parallel()
	const key = "SHA256:bobsKeyFingerprint"
	recs := []cutover.Record{
		{Seq: 1, Type: cutover.RecStart, Time: t0, Plan: "p", Stages: []string{"retire"}, Actor: "alice",
			Outline: []cutover.StageOutline{{Reversibility: "irreversible", Approval: true}}},
		{Seq: 2, Type: cutover.RecCommand, Time: t0.Add(time.Minute), Command: cutover.CmdApprove, Actor: "bob", Reason: "ok", Stage: "retire"},
		{Seq: 3, Type: cutover.RecAck, Time: t0.Add(time.Minute), Command: cutover.CmdApprove, Actor: "bob", Ref: 2, Reason: "approval accepted", Identity: key},
	}
	r, err := report.Build("c", recs, report.Options{Now: t0.Add(2 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Commands) != 1 || r.Commands[0].Identity != key {
		t.Fatalf("commands %+v; want one with identity %s", r.Commands, key)
	}
	txt, md, _ := render(t, r)
	for name, out := range map[string]string{"text": txt, "markdown": md} {
		if !strings.Contains(out, "signed by key "+key) {
			t.Errorf("%s does not show the key:\n%s", name, out)
		}
	}
}
