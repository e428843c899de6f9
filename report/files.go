package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// The names of the files WriteFiles writes.
const (
	FileMarkdown = "report.md"
	FileSVG      = "report.svg"
	FileText     = "report.txt"
)

// WriteFiles writes r into dir, which it creates if need be: report.md
// (linking the chart), report.svg and report.txt (plain, 80 columns).
// Each file is written whole to a temporary file and renamed into place,
// so a reader never sees half a report.
func WriteFiles(dir string, r *Report) error {
	if dir == "" {
		return fmt.Errorf("write report: dir: empty")
	}
	if r == nil {
		return fmt.Errorf("write report to %s: report is nil", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	var md, svg, txt bytes.Buffer
	if err := r.writeMarkdown(&md, FileSVG); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := r.WriteSVG(&svg); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := r.WriteText(&txt, TextOptions{}); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{FileMarkdown, md.Bytes()}, {FileSVG, svg.Bytes()}, {FileText, txt.Bytes()}} {
		if err := writeFile(filepath.Join(dir, f.name), f.b); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return nil
}

// writeFile writes b to path through a temporary file in the same
// directory.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}
