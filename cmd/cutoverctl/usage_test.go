package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// runHere runs cutoverctl in this process with env as its environment.
func runHere(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, args, stdio{out: &out, err: &errb, getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

// TestBadInput: every mistake on the command line is an error that names
// the flag or argument and what is allowed, with exit status 2 (or 1 for a
// journal that is not there), and nothing panics.
func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A cutover that is waiting, so that the checks before writing run.
	j, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := cutover.Record{Seq: 1, Type: cutover.RecStart, Time: time.Now(), Plan: "p", Stages: []string{"a", "b"}, Actor: "alice", TwoPerson: true,
		Outline: []cutover.StageOutline{{Reversibility: "reversible"}, {Reversibility: "irreversible", Approval: true}}}
	if err := j.Append(context.Background(), "c", start); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	jf := []string{"-journal", dir}
	with := func(args ...string) []string { return append(args, jf...) }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want []string
	}{
		{"no command", nil, nil, exitUsage, []string{"no command; want one of list, show, approve"}},
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, []string{`unknown command "frobnicate"`, "list, show, approve, promote, pause, resume, abort"}},
		{"unknown flag", with("pause", "c", "-bogus"), nil, exitUsage, []string{"pause: flag provided but not defined: -bogus", "help pause"}},
		{"missing ID", with("pause"), nil, exitUsage, []string{"pause: missing the cutover ID", "usage: cutoverctl pause ID"}},
		{"empty ID", with("show", ""), nil, exitUsage, []string{"show: the cutover ID is empty"}},
		{"blank ID", with("abort", "  ", "-reason", "x"), nil, exitUsage, []string{"abort: the cutover ID is empty"}},
		{"two IDs", with("promote", "a", "b"), nil, exitUsage, []string{"promote: one cutover ID, got 2 arguments"}},
		{"bad ID", with("show", "a/b"), nil, exitUsage, []string{"show: cutover ID:"}},
		{"bad -wait", with("pause", "c", "-wait", "soon"), nil, exitUsage, []string{`invalid value "soon" for flag -wait`, "positive duration"}},
		{"zero -wait", with("pause", "c", "-wait", "0s"), nil, exitUsage, []string{"flag -wait", "positive duration"}},
		{"-no-wait with -wait", with("pause", "c", "-no-wait", "-wait", "1m"), nil, exitUsage, []string{"-no-wait and -wait"}},
		{"bad -poll", with("show", "c", "-watch", "-poll", "-1s"), nil, exitUsage, []string{"flag -poll", "positive duration"}},
		{"bad -color", with("show", "c", "-color", "pink"), nil, exitUsage, []string{`-color "pink": want auto, always or never`}},
		{"bad -width", with("show", "c", "-width", "-3"), nil, exitUsage, []string{"-width -3"}},
		{"approve without reason", with("approve", "c", "-as", "bob"), nil, exitUsage, []string{"approve: -reason: empty"}},
		{"approve with a blank reason", with("approve", "c", "-as", "bob", "-reason", "  "), nil, exitUsage, []string{"approve: -reason: empty"}},
		{"abort without reason", with("abort", "c"), nil, exitUsage, []string{"abort: -reason: empty"}},
		{"approve an unknown stage", with("approve", "c", "-as", "bob", "-reason", "ok", "-stage", "z"), nil, exitRefused, []string{`stage: "z": plan "p" has no such stage`, `["a" "b"]`, "nothing was written"}},
		{"self-approval", with("approve", "c", "-as", "alice", "-reason", "ok"), nil, exitRefused, []string{"two-person rule", "alice started this cutover"}},
		{"list with an argument", with("list", "x"), nil, exitUsage, []string{"list: takes no arguments"}},
		{"no journal", []string{"list"}, nil, exitUsage, []string{"no journal: give -journal DIR", "$" + journalEnv}},
		{"missing directory", []string{"list", "-journal", filepath.Join(dir, "nope")}, nil, exitError, []string{"-journal", "no such directory"}},
		{"not a directory", []string{"list"}, map[string]string{journalEnv: file}, exitError, []string{"$" + journalEnv, "not a directory"}},
		{"table without a name", []string{"list", "-journal", "dynamodb:"}, nil, exitUsage, []string{`-journal: "dynamodb:": names no table`}},
		{"endpoint with a directory", with("list", "-endpoint", "http://127.0.0.1:1"), nil, exitUsage, []string{"the DynamoDB endpoint is for dynamodb:TABLE"}},
		{"retired -dynamodb-table", []string{"-dynamodb-table", "cutovers", "list"}, nil, exitUsage, []string{"retired: use -journal dynamodb:cutovers"}},
		{"retired -dynamodb-table after the command", []string{"list", "-dynamodb-table", "cutovers"}, nil, exitUsage, []string{"retired: use -journal dynamodb:cutovers"}},
		{"table name DynamoDB refuses", []string{"list", "-journal", "dynamodb:a b"}, nil, exitUsage, []string{`-journal: "dynamodb:a b": dynamodb table name`}},
		{"unknown ID", with("resume", "nope"), nil, exitNotFound, []string{`no cutover "nope"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runHere(t, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("cutoverctl %q: exit status %d, want %d; stderr:\n%s", tc.args, code, tc.code, stderr)
			}
			wantIn(t, "stderr", stderr, tc.want...)
		})
	}
	// None of them wrote anything.
	if recs, err := j.Read(context.Background(), "c", 0); err != nil || len(recs) != 1 {
		t.Errorf("journal has %d records (%v), want only the start record", len(recs), err)
	}
}

// TestHelp: help lists the commands and the exit statuses; help COMMAND and
// COMMAND -h show its flags.
func TestHelp(t *testing.T) {
	t.Parallel()
	code, out, _ := runHere(t, nil, "help")
	wantCode(t, "help", code, exitOK)
	wantIn(t, "help", out, "Usage: cutoverctl", "list", "show", "approve", "promote", "pause", "resume", "abort",
		"Exit status:", "  0  done", "  2  usage", "  3  refused", "  4  no runner answered", "  6  no such cutover", journalEnv)
	for _, args := range [][]string{{"help", "approve"}, {"approve", "-h"}, {"approve", "ID", "--help"}} {
		code, out, _ := runHere(t, nil, args...)
		wantCode(t, strings.Join(args, " "), code, exitOK)
		wantIn(t, strings.Join(args, " "), out, "Usage: cutoverctl approve ID", "-reason", "-stage", "-as", "-wait", "-no-wait", "-json", "Exit status:")
	}
}

// TestParseFlagsAfterID: flags go before or after the ID, and "--" ends
// them.
func TestParseFlagsAfterID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		wantPos []string
		wantAs  string
	}{
		{[]string{"c", "-as", "x"}, []string{"c"}, "x"},
		{[]string{"-as", "x", "c"}, []string{"c"}, "x"},
		{[]string{"-as", "x", "--", "-c"}, []string{"-c"}, "x"},
		{[]string{"c", "-as=y", "d"}, []string{"c", "d"}, "y"},
	} {
		c := &cli{name: "pause", io: stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}}
		f := &cmdFlags{}
		fs := c.flagSet()
		registerFlags(fs, "pause", f)
		pos, err := c.parse(fs, tc.args)
		if err != nil || strings.Join(pos, " ") != strings.Join(tc.wantPos, " ") || f.as != tc.wantAs {
			t.Errorf("parse %q = %q, -as %q, %v; want %q, -as %q", tc.args, pos, f.as, err, tc.wantPos, tc.wantAs)
		}
	}
}

// TestAbortPastPNR: past the point of no return an abort is refused before
// anything is written, unless -force.
func TestAbortPastPNR(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	recs := []cutover.Record{
		{Type: cutover.RecStart, Plan: "p", Stages: []string{"a", "retire"}, Actor: "alice",
			Outline: []cutover.StageOutline{{Reversibility: "reversible"}, {Reversibility: "irreversible", Approval: true}}},
		{Type: cutover.RecIntent, Stage: "a", Index: 0, Action: "apply"},
		{Type: cutover.RecApplied, Stage: "a", Index: 0},
		{Type: cutover.RecBaked, Stage: "a", Index: 0},
		{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: "bob", Reason: "ok"},
		{Type: cutover.RecIntent, Stage: "retire", Index: 1, Action: "apply"},
		{Type: cutover.RecApplied, Stage: "retire", Index: 1},
	}
	for i, r := range recs {
		r.Seq, r.Time = uint64(i+1), now
		if err := j.Append(context.Background(), "c", r); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := runHere(t, nil, "abort", "c", "-reason", "too late", "-journal", dir)
	wantCode(t, "abort past the PNR", code, exitRefused)
	wantIn(t, "abort past the PNR", stderr, `past its point of no return "retire"`, "can no longer roll it back", "-force")
	if got, _ := j.Read(context.Background(), "c", 0); len(got) != len(recs) {
		t.Errorf("the refused abort wrote: %d records, want %d", len(got), len(recs))
	}
	code, out, _ := runHere(t, nil, "abort", "c", "-reason", "stop it", "-force", "-no-wait", "-journal", dir)
	wantCode(t, "abort -force", code, exitOK)
	wantIn(t, "abort -force", out, "abort sent to cutover c as record 8")
	code, out, _ = runHere(t, nil, "list", "-journal", dir)
	wantCode(t, "list", code, exitOK)
	wantIn(t, "list", out, `no: past the point of no return "retire"`, "retire (2/2, baking)")
}

// FuzzCommandLine: no command line makes cutoverctl panic, and each ends
// with one of the documented exit statuses. (DynamoDB journals are left
// out: they would reach the network.)
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		"list", "show c -watch -wait 1s", "approve c -as x -reason y", "abort c -reason", "pause -- -c",
		"help approve", "promote c -wait 0", "resume c -json -no-wait", "-json frob", "show c -width 5 -color always",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, line string) {
		if strings.Contains(line, "dynamodb") || strings.Contains(line, "endpoint") || strings.Contains(line, "journal") {
			t.Skip("only the test's file journal")
		}
		args := strings.Fields(line)
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		code := run(ctx, args, stdio{out: &out, err: &errb, getenv: func(k string) string {
			if k == journalEnv {
				return dir
			}
			return ""
		}})
		if code < exitOK || code > exitNotFound {
			t.Errorf("cutoverctl %q: exit status %d, not a documented one", args, code)
		}
		if code != exitOK && errb.Len() == 0 {
			t.Errorf("cutoverctl %q: exit status %d and nothing on stderr", args, code)
		}
	})
}
