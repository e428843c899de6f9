package report_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/report"
)

// FuzzBuild feeds journals of JSON lines to Build: it returns a report or
// an error, never panics, and every report renders, its SVG as XML.
func FuzzBuild(f *testing.F) {
	// Small seeds: the fuzzer minimizes what it finds, slowly for big ones.
	for _, recs := range [][]cutover.Record{windowJournal(), pastPNRJournal()} {
		var b bytes.Buffer
		for _, r := range recs {
			line, err := json.Marshal(r)
			if err != nil {
				f.Fatal(err)
			}
			b.Write(append(line, '\n'))
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"seq":1,"type":"start","plan":"p","stages":["a"],"outline":[{"rev":"window","window":1}]}` + "\n" +
		`{"seq":2,"type":"intent","stage":"a","action":"apply"}` + "\n" + `{"seq":3,"type":"applied","stage":"a"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []cutover.Record
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var r cutover.Record
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				return
			}
			recs = append(recs, r)
		}
		r, err := report.Build("f", recs, report.Options{})
		if err != nil {
			return
		}
		render(t, r)
	})
}

// TestZeroReport: a Report not made by Build renders without panicking.
func TestZeroReport(t *testing.T) {
	t.Parallel()
	render(t, &report.Report{})
}
