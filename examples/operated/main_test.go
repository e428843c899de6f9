package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBadFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no journal", nil, "-journal: empty"},
		{"table without a name", []string{"-journal", "dynamodb:"}, "names no table"},
		{"endpoint with a directory", []string{"-journal", "d", "-endpoint", "http://127.0.0.1:1"}, "the DynamoDB endpoint is for dynamodb:TABLE"},
		{"create-table with a directory", []string{"-journal", "d", "-create-table"}, "creating a table is for dynamodb:TABLE"},
		{"retired -dynamodb-table", []string{"-dynamodb-table", "t"}, "retired: use -journal dynamodb:t"},
		{"empty id", []string{"-journal", "d", "-id", ""}, "-id: empty"},
		{"bad id", []string{"-journal", "d", "-id", "a/b"}, "-id:"},
		{"empty actor", []string{"-journal", "d", "-actor", ""}, "-actor: empty"},
		{"speed", []string{"-journal", "d", "-speed", "0"}, "-speed 0: want a number in (0, 1000000]"},
		{"bake", []string{"-journal", "d", "-bake", "0s"}, "-bake 0s: want > 0"},
		{"warm", []string{"-journal", "d", "-warm", "-1m"}, "-warm -1m0s: want > 0"},
		{"poll", []string{"-journal", "d", "-poll", "0s"}, "-poll 0s: want > 0"},
		{"timeout", []string{"-journal", "d", "-timeout", "0s"}, "-timeout 0s: want > 0"},
		{"stray argument", []string{"-journal", "d", "now"}, `unexpected argument "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errb)
			if code != exitUsage || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("operated %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, errb.String(), exitUsage, tc.want)
			}
		})
	}
}

// TestBadGreenRollsBack: a failing gate rolls the cutover back by itself,
// without anyone steering it.
func TestBadGreenRollsBack(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	rep := t.TempDir()
	code := run(ctx, []string{"-journal", t.TempDir(), "-bad-green", "-bake", "5m", "-timeout", "2m", "-report", rep}, &out, &errb)
	if code != exitRolledBack {
		t.Fatalf("exit %d, want %d (rolled back)\n%s%s", code, exitRolledBack, out.String(), errb.String())
	}
	for _, want := range []string{"starting cutover operated", "rolling_back", "rolled back: traffic blue=100 green=0", "report: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// -report wrote the report, and it tells the rollback.
	md, err := os.ReadFile(filepath.Join(rep, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "rolled back") {
		t.Errorf("report.md does not say the cutover rolled back:\n%s", md)
	}
}
