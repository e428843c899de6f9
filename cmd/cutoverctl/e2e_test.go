package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/notify"
)

// fileBackend returns a file journal in a directory of the test's own.
func fileBackend(t *testing.T) backend {
	t.Helper()
	dir := t.TempDir()
	j, err := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return backend{args: []string{"-journal", dir}, j: j}
}

// runnerArgs are the runner's flags for the tests: fast bakes on an
// accelerated clock, a bounded run.
func runnerArgs(id string, more ...string) []string {
	return append([]string{"-id", id, "-speed", "300", "-bake", "1m", "-timeout", "5m"}, more...)
}

// The scenarios, run against each backend.

// testApproveAtPNR: under the two-person rule the initiator's own approval
// is refused before anything is written; another person's approval at the
// PNR lets the runner retire blue and complete; a command to the finished
// cutover is refused; list and show say so, in text and JSON.
func testApproveAtPNR(t *testing.T, b backend) {
	const id = "approve-pnr"
	r := startRunner(t, b, runnerArgs(id, "-warm", "2m", "-two-person", "-actor", "alice")...)
	st, _ := waitFor(t, b, id, "waiting for an approval at the PNR", phaseIs(cutover.PhaseWaiting))

	code, _, stderr := ctl(t, b, "approve", id, "-as", "alice", "-reason", "my own release")
	wantCode(t, "self-approval", code, exitRefused)
	wantIn(t, "self-approval stderr", stderr, "two-person rule", "alice started this cutover", "nothing was written")
	if recs, err := b.j.Read(context.Background(), id, st.LastSeq); err != nil || len(recs) != 0 {
		t.Errorf("after the refused approval the journal has %d new records (%v), want none", len(recs), err)
	}

	code, stdout, _ := ctl(t, b, "approve", id, "-as", "bob", "-reason", "green is fine", "-json")
	wantCode(t, "approval", code, exitOK)
	var res result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("approve -json: %v\n%s", err, stdout)
	}
	if !res.Answered || res.Outcome != "applied" || res.Actor != "bob" || res.Seq == 0 || res.Exit != 0 {
		t.Errorf("approve -json = %+v; want answered, outcome applied, actor bob, a seq, exit 0", res)
	}
	wantIn(t, "approve -json answer", res.Answer, "accepted")
	if got := r.wait(t); got != 0 {
		t.Errorf("runner exit status %d, want 0 (completed)", got)
	}

	code, _, stderr = ctl(t, b, "pause", id)
	wantCode(t, "pause after the end", code, exitRefused)
	wantIn(t, "pause after the end", stderr, "has ended", "completed")

	code, stdout, _ = ctl(t, b, "list")
	wantCode(t, "list", code, exitOK)
	wantIn(t, "list", stdout, "ID", "ROLLBACK", id, "completed", "retire blue", `past the point of no return "retire blue"`, "green 100%")

	code, stdout, _ = ctl(t, b, "list", "-json")
	wantCode(t, "list -json", code, exitOK)
	var list []summary
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatalf("list -json: %v\n%s", err, stdout)
	}
	if len(list) != 1 || list[0].ID != id || list[0].Phase != cutover.PhaseCompleted || !list[0].Rollback.Known || list[0].Rollback.Possible || list[0].Rollback.ApprovedBy != "bob" {
		t.Errorf("list -json = %+v; want %s completed, rollback known and impossible, approved by bob", list, id)
	}

	code, stdout, _ = ctl(t, b, "show", id)
	wantCode(t, "show", code, exitOK)
	wantIn(t, "show", stdout, "cutover "+id, "retire blue", "bob")
	code, stdout, _ = ctl(t, b, "show", id, "-json")
	wantCode(t, "show -json", code, exitOK)
	var shown struct {
		Cutover summary
		Report  map[string]any
	}
	if err := json.Unmarshal([]byte(stdout), &shown); err != nil {
		t.Fatalf("show -json: %v\n%s", err, stdout)
	}
	if shown.Cutover.ID != id || shown.Cutover.Phase != cutover.PhaseCompleted || shown.Report["ID"] != id {
		t.Errorf("show -json: cutover %+v, report ID %v; want %s completed", shown.Cutover, shown.Report["ID"], id)
	}
}

// testAbortMidBake aborts while blue is kept warm: the cutover rolls back
// and traffic ends on blue, as cutoverctl says and the journal's traffic
// notes show.
func testAbortMidBake(t *testing.T, b backend) {
	const id = "abort-bake"
	r := startRunner(t, b, runnerArgs(id, "-warm", "4h")...)
	waitFor(t, b, id, `"keep blue warm" baking`, stageIs("keep blue warm", cutover.StageApplied))
	// Someone follows the cutover meanwhile, and has it posted to a
	// webhook; show -watch ends with it.
	var hookMu sync.Mutex
	var hooked []notify.WebhookBody
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body notify.WebhookBody
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		hookMu.Lock()
		hooked = append(hooked, body)
		hookMu.Unlock()
	}))
	t.Cleanup(hook.Close)
	watch := startCtl(t, b, "show", id, "-watch", "-poll", "100ms", "-color", "never", "-notify-webhook", hook.URL, "-notify-events", "stage_reverted,rolled_back")
	// A script follows it too, as JSON: the cutover, then its events.
	jsonWatch := startCtl(t, b, "show", id, "-watch", "-json", "-poll", "100ms")
	// Abort once the watch has shown the cutover baking: a process that
	// starts slowly on a busy machine would otherwise see only the end.
	shown := time.Now().Add(condTimeout)
	for !strings.Contains(watch.out.String(), "baking") {
		if time.Now().After(shown) {
			t.Fatalf("show -watch did not show the cutover baking within %v:\n%s", condTimeout, watch.out.String())
		}
		select {
		case <-watch.done:
			t.Fatalf("show -watch ended before the abort (exit %d):\n%s", watch.code, watch.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}

	code, stdout, _ := ctl(t, b, "abort", id, "-reason", "p99 latency up")
	wantCode(t, "abort", code, exitOK)
	wantIn(t, "abort", stdout, "runner answered: aborting", "rolled back", "traffic: blue 100% · green 0%")
	_, recs := waitFor(t, b, id, "rolled back", phaseIs(cutover.PhaseRolledBack))
	if diff := cmp.Diff(map[string]int{"blue": 100, "green": 0}, lastTraffic(t, recs)); diff != "" {
		t.Errorf("traffic at the end (-want +got):\n%s", diff)
	}
	if got := r.wait(t); got != 3 {
		t.Errorf("runner exit status %d, want 3 (rolled back)", got)
	}
	if got := watch.wait(t); got != exitOK {
		t.Errorf("show -watch: exit status %d, want 0", got)
	}
	wantIn(t, "show -watch", watch.out.String(), "cutover "+id, "baking", "rolled back")
	if got := jsonWatch.wait(t); got != exitOK {
		t.Errorf("show -watch -json: exit status %d, want 0", got)
	}
	dec := json.NewDecoder(strings.NewReader(jsonWatch.out.String()))
	var first struct{ Cutover struct{ ID string } }
	if err := dec.Decode(&first); err != nil || first.Cutover.ID != id {
		t.Errorf("show -watch -json: first object %+v, %v; want the cutover %s", first, err, id)
	}
	var events []notify.Message
	for dec.More() {
		var m notify.Message
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("show -watch -json: %v in\n%s", err, jsonWatch.out.String())
		}
		events = append(events, m)
	}
	if len(events) == 0 || events[len(events)-1].Type != cutover.EvRolledBack || events[len(events)-1].Cutover != id {
		t.Errorf("show -watch -json: events %+v, want notify messages ending with rolled_back of %s", events, id)
	}
	hookMu.Lock()
	defer hookMu.Unlock()
	var types []cutover.EventType
	for _, h := range hooked {
		if h.Event.Cutover != id {
			t.Errorf("webhook got %+v, want events of %s", h.Event, id)
		}
		types = append(types, h.Event.Type)
	}
	if len(types) == 0 || types[len(types)-1] != cutover.EvRolledBack || !slices.Contains(types, cutover.EvStageReverted) {
		t.Errorf("webhook got %v, want stage_reverted events and rolled_back last", types)
	}
}

// testUnknownID: every command says there is no such cutover.
func testUnknownID(t *testing.T, b backend) {
	for _, args := range [][]string{
		{"show", "no-such-cutover"},
		{"approve", "no-such-cutover", "-reason", "x", "-as", "bob"},
		{"abort", "no-such-cutover", "-reason", "x"},
		{"pause", "no-such-cutover", "-json"},
	} {
		code, stdout, stderr := ctl(t, b, args...)
		wantCode(t, strings.Join(args, " "), code, exitNotFound)
		wantIn(t, strings.Join(args, " "), stderr, `no cutover "no-such-cutover"`)
		if args[len(args)-1] == "-json" {
			var v struct {
				Error string
				Exit  int
			}
			if err := json.Unmarshal([]byte(stdout), &v); err != nil || v.Exit != exitNotFound || !strings.Contains(v.Error, "no cutover") {
				t.Errorf("-json: %+v, %v; want the error and exit %d\n%s", v, err, exitNotFound, stdout)
			}
		}
	}
}

// scenario is one end-to-end test, run against a backend.
type scenario struct {
	name string
	run  func(*testing.T, backend)
}

// runScenarios runs each scenario in parallel, on a backend of its own.
func runScenarios(t *testing.T, newBackend func(*testing.T) backend, scenarios []scenario) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, newBackend(t))
		})
	}
}

func TestFileJournal(t *testing.T) {
	t.Parallel()
	runScenarios(t, fileBackend, []scenario{
		{"approve at the PNR", testApproveAtPNR},
		{"abort mid-bake", testAbortMidBake},
		{"unknown ID", testUnknownID},
		{"pause and resume", testPauseResume},
		{"promote", testPromote},
		{"no runner", testNoRunner},
	})
}

// testPromote ends a four-hour bake of blue kept warm at once: the runner
// answers, the stage bakes, and the cutover goes on to wait at the PNR.
func testPromote(t *testing.T, b backend) {
	const id = "promote"
	startRunner(t, b, runnerArgs(id, "-warm", "4h")...)
	_, before := waitFor(t, b, id, `"keep blue warm" baking`, stageIs("keep blue warm", cutover.StageApplied))

	code, stdout, _ := ctl(t, b, "promote", id, "-as", "carol", "-reason", "metrics flat for an hour")
	wantCode(t, "promote", code, exitOK)
	wantIn(t, "promote", stdout, "runner answered: promoting", `the bake of stage "keep blue warm" ends now`, "baked")
	st, recs := waitFor(t, b, id, "waiting at the PNR", phaseIs(cutover.PhaseWaiting))
	for _, s := range st.Stages {
		if s.Name == "keep blue warm" && s.BakedAt.Sub(s.AppliedAt) >= 4*time.Hour {
			t.Errorf("keep blue warm baked %v after it was applied, want well before its 4h bake", s.BakedAt.Sub(s.AppliedAt))
		}
	}
	if len(recs) <= len(before) {
		t.Errorf("no records after the promote")
	}
	code, _, _ = ctl(t, b, "abort", id, "-reason", "end of the test")
	wantCode(t, "abort", code, exitOK)
}

// testPauseResume pauses the cutover, sees it hold after the stage baking
// has baked, resumes it and sees it go on.
func testPauseResume(t *testing.T, b backend) {
	const id = "pause-resume"
	// A slower clock, so that the pause lands during a canary step, long
	// before blue is kept warm.
	startRunner(t, b, "-id", id, "-speed", "30", "-bake", "3m", "-poll", "5s", "-warm", "4h", "-timeout", "5m")
	waitFor(t, b, id, "started", phaseIs(cutover.PhaseRunning))

	code, stdout, _ := ctl(t, b, "pause", id, "-reason", "lunch")
	wantCode(t, "pause", code, exitOK)
	wantIn(t, "pause", stdout, "runner answered: pausing")

	// Held: a stage has baked since the pause, and the next is not started.
	held := func(st cutover.State, _ []cutover.Record) bool {
		if !st.Paused {
			return false
		}
		for i := range st.Stages {
			if st.Stages[i].Status == cutover.StageBaked && i+1 < len(st.Stages) && st.Stages[i+1].Status == cutover.StagePending {
				return true
			}
		}
		return false
	}
	st, _ := waitFor(t, b, id, "held by the pause", held)
	// A paused runner writes nothing; give it several polls to prove it.
	time.Sleep(time.Second)
	if recs, err := b.j.Read(context.Background(), id, st.LastSeq); err != nil || len(recs) != 0 {
		t.Fatalf("paused runner wrote %d records (%v), want none", len(recs), err)
	}

	code, stdout, _ = ctl(t, b, "resume", id)
	wantCode(t, "resume", code, exitOK)
	wantIn(t, "resume", stdout, "runner answered: resuming")
	waitFor(t, b, id, "goes on after the resume", func(s cutover.State, _ []cutover.Record) bool {
		for i := range s.Stages {
			if st.Stages[i].Status == cutover.StagePending && s.Stages[i].Status != cutover.StagePending {
				return true
			}
		}
		return false
	})
	code, _, _ = ctl(t, b, "abort", id, "-reason", "end of the test")
	wantCode(t, "abort", code, exitOK)
}

// testNoRunner: a command to a cutover whose runner is gone is written,
// but nobody answers within -wait.
func testNoRunner(t *testing.T, b backend) {
	const id = "no-runner"
	r := startRunner(t, b, runnerArgs(id, "-warm", "4h")...)
	waitFor(t, b, id, `"prepare green" applied`, func(st cutover.State, _ []cutover.Record) bool {
		return st.Stages[0].Status != cutover.StagePending && st.Stages[0].Status != cutover.StageApplying
	})
	r.kill(t)
	code, _, stderr := ctl(t, b, "pause", id, "-wait", "1s", "-poll", "100ms")
	wantCode(t, "pause without a runner", code, exitNoAnswer)
	wantIn(t, "pause without a runner", stderr, "no runner answered within 1s", "is one running", "stays in the journal")

	// Following a cutover that nobody drives stops at -wait.
	code, _, stderr = ctl(t, b, "show", id, "-watch", "-wait", "1s", "-poll", "100ms")
	wantCode(t, "show -watch without a runner", code, exitUnfinished)
	wantIn(t, "show -watch without a runner", stderr, "has not ended within -wait 1s")

	code, stdout, _ := ctl(t, b, "resume", id, "-no-wait", "-json")
	wantCode(t, "resume -no-wait", code, exitOK)
	var res result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Outcome != "written" || res.Seq == 0 {
		t.Errorf("resume -no-wait -json: %+v, %v; want outcome written and a seq", res, err)
	}
}

// TestListEmpty: an empty journal directory has no cutovers.
func TestListEmpty(t *testing.T) {
	t.Parallel()
	b := fileBackend(t)
	code, stdout, _ := ctl(t, b, "list")
	wantCode(t, "list", code, exitOK)
	wantIn(t, "list", stdout, "no cutovers")
	code, stdout, _ = ctl(t, b, "list", "-json")
	wantCode(t, "list -json", code, exitOK)
	if strings.TrimSpace(stdout) != "[]" {
		t.Errorf("list -json = %q, want []", stdout)
	}
	// The journal may come from the environment instead of -journal.
	b.env = []string{journalEnv + "=" + b.args[1]}
	dir := b.args[1]
	b.args = nil
	if err := os.WriteFile(filepath.Join(dir, "x.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = ctl(t, b, "list")
	wantCode(t, "list from $"+journalEnv, code, exitOK)
	wantIn(t, "list from $"+journalEnv, stdout, "no cutovers")
}
