package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safecutover/safecutover/cutover"
)

// TestBadJournalNamesTheFlag: a -journal that cannot hold a journal (here a
// file, not a directory) is an error that names the flag.
func TestBadJournalNamesTheFlag(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := Scenario{ID: "review", Build: func(*Env) (cutover.Plan, error) {
		t.Error("Build called despite a bad -journal")
		return cutover.Plan{}, nil
	}}
	code, out := RunCaptured(context.Background(), s, []string{"-journal", file}, "", false)
	if code != ExitError || !strings.Contains(out, "-journal") {
		t.Errorf("exit %d, output %q: want exit %d and an error naming -journal", code, out, ExitError)
	}
}
