package sshsign_test

import (
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// BenchmarkCheckCommand measures what approvers add per command a runner
// takes in: one journal of a start and 100 signed approvals (ed25519)
// verified, per op; see ns/command.
func BenchmarkCheckCommand(b *testing.B) {
	tm := newTeam(b)
	start := startRecord("migrate")
	if err := cutover.SignCommand(b.Context(), tm.alice, "c1", cutover.PlanHash(start), &start); err != nil {
		b.Fatal(err)
	}
	recs := []cutover.Record{start}
	for i := 0; i < 100; i++ {
		rec := cutover.Record{Type: cutover.RecCommand, Time: t0.Add(time.Duration(i) * time.Second), Command: cutover.CmdPause, Actor: "carol@example.com", Stage: "shift"}
		if err := cutover.SignCommand(b.Context(), tm.carol, "c1", cutover.PlanHash(start), &rec); err != nil {
			b.Fatal(err)
		}
		rec.Seq = uint64(len(recs) + 1)
		recs = append(recs, rec)
	}
	b.ResetTimer()
	for b.Loop() {
		vs, err := tm.approvers.VerifyJournal(b.Context(), "c1", recs)
		if err != nil || vs[len(vs)-1].Err != nil {
			b.Fatal(err, vs[len(vs)-1].Err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/command")
}
