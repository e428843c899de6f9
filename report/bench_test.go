package report_test

import (
	"io"
	"testing"

	"github.com/safecutover/safecutover/report"
)

// BenchmarkReport builds the report of the completed migration's journal
// (51 records) and writes it in all three forms, as -report DIR and
// cutoverctl show -watch do.
func BenchmarkReport(b *testing.B) {
	recs := readJournal(b, "completed.jsonl")
	b.ReportAllocs()
	for b.Loop() {
		r, err := report.Build("migration", recs, report.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.WriteText(io.Discard, report.TextOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := r.WriteMarkdown(io.Discard); err != nil {
			b.Fatal(err)
		}
		if err := r.WriteSVG(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
