package safecutover_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadmeWalkthrough runs the README's cutoverctl walkthrough as it is
// written — the commands of its sh block, in order, with the runner in the
// background — against built binaries and a journal in a temporary
// directory, and checks that every command succeeds and that the cutover
// completes after the approval.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs and runs a cutover: not in -short")
	}
	lines := walkthrough(t)
	if len(lines) < 3 || !strings.HasSuffix(lines[0], "&") {
		t.Fatalf("README walkthrough: want a runner started with & and cutoverctl commands; got %q", lines)
	}
	dir := t.TempDir()
	bins := map[string]string{}
	for _, pkg := range []string{"./examples/operated", "./cmd/cutoverctl"} {
		bin := filepath.Join(dir, filepath.Base(pkg))
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
		bins[pkg] = bin
	}
	journal := filepath.Join(dir, "cut")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	command := func(line string) *exec.Cmd {
		args := shellWords(t, strings.ReplaceAll(strings.TrimSuffix(line, "&"), "/tmp/cut", journal))
		if len(args) < 3 || args[0] != "go" || args[1] != "run" || bins[args[2]] == "" {
			t.Fatalf("README walkthrough line %q: want go run ./examples/operated or ./cmd/cutoverctl", line)
		}
		return exec.CommandContext(ctx, bins[args[2]], args[3:]...)
	}
	runner := command(lines[0])
	var runnerOut bytes.Buffer
	runner.Stdout, runner.Stderr = &runnerOut, &runnerOut
	if err := runner.Start(); err != nil {
		t.Fatal(err)
	}
	// The shell would take a moment to start the next command; wait, a
	// bounded while, until the runner has journaled the cutover.
	for i := 0; i < 300; i++ {
		if entries, _ := os.ReadDir(journal); len(entries) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, line := range lines[1:] {
		out, err := command(line).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, out)
		}
	}
	if err := runner.Wait(); err != nil {
		t.Errorf("the runner: %v\n%s", err, runnerOut.String())
	}
	if !strings.Contains(runnerOut.String(), "completed") {
		t.Errorf("the runner did not complete after the approval:\n%s", runnerOut.String())
	}
}

// walkthrough returns the command lines of the README's sh block that
// starts the operated runner, without their comments.
func walkthrough(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var block []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```sh":
			in, block = true, nil
		case in && line == "```":
			if len(block) > 0 && strings.Contains(block[0], "./examples/operated") {
				return block
			}
			in = false
		case in && line != "":
			if i := strings.Index(line, " #"); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			block = append(block, line)
		}
	}
	t.Fatal("README.md has no sh block starting with go run ./examples/operated")
	return nil
}

// shellWords splits a command line as a shell would for the walkthrough:
// words separated by spaces, double-quoted words kept whole.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	quoted, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
