package report_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// readJournal reads a file journal's JSON lines (as cutover.FileJournal
// writes them) from testdata.
func readJournal(t testing.TB, name string) []cutover.Record {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []cutover.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r cutover.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s:%d: %v", name, len(recs)+1, err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// checkXML decodes the whole of an SVG document.
func checkXML(t *testing.T, svg []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	d.Strict = true
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
			if se.Name.Space != "http://www.w3.org/2000/svg" {
				t.Errorf("root element in namespace %q, want the SVG namespace", se.Name.Space)
			}
		}
	}
	if root != "svg" {
		t.Errorf("root element %q, want svg", root)
	}
}

// TestGoldenHandBuilt renders the hand-built journals: an open window, a
// failure past the PNR.
func TestGoldenHandBuilt(t *testing.T) {
	t.Parallel()
	for name, recs := range map[string][]cutover.Record{"window": windowJournal(), "pastpnr": pastPNRJournal()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := report.Build(name, recs, report.Options{Now: t0.Add(25 * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			_, md, svg := render(t, r)
			golden(t, name+".md.golden", []byte(md))
			golden(t, name+".svg.golden", []byte(svg))
		})
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"completed", "rolledback", "waiting"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			recs := readJournal(t, name+".jsonl")
			r, err := report.Build("migration", recs, report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			txt, md, svg := render(t, r)
			golden(t, name+".txt.golden", []byte(txt))
			golden(t, name+".md.golden", []byte(md))
			golden(t, name+".svg.golden", []byte(svg))

			// Rendered twice, the same bytes: no map order, no clock.
			var again bytes.Buffer
			r2, _ := report.Build("migration", recs, report.Options{})
			_ = r2.WriteSVG(&again)
			if again.String() != svg {
				t.Error("a second rendering of the SVG differs")
			}
			if strings.Contains(svg, "<script") {
				t.Error("the SVG has a script")
			}
			if name == "rolledback" {
				// The failed verdict's marker (a vermillion triangle), the
				// rollback's line and band, and traffic back on blue.
				for _, want := range []string{`<g class="verdict fail"><title>canary 5% · judge green vs blue at +1m47s: fail (final)`, `<g class="rollback">`, ">rollback: judge green vs blue failed<", ">rollback<", "blue 100% · green 0%"} {
					if !strings.Contains(svg, want) {
						t.Errorf("the SVG of the rollback lacks %q", want)
					}
				}
			}
		})
	}
}

// The charts docs/report.md shows are the golden ones, so the docs show
// what the code draws (go test -update copies them too).
func TestDocsChartsAreGolden(t *testing.T) {
	for _, name := range []string{"completed", "rolledback"} {
		golden := filepath.Join("testdata", name+".svg.golden")
		doc := filepath.Join("..", "docs", "img", "report-"+name+".svg")
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(doc, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; go test ./report -update copies it", doc, golden)
		}
	}
}
