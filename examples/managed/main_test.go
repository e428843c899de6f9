package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/internal/syncbuf"
)

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want int
		out  []string
	}{
		{"codedeploy healthy", []string{"-approve", "ci"}, demo.ExitCompleted,
			[]string{`point of no return: "codedeploy termination wait"`, "✓ completed", "all traffic is on green"}},
		{"codedeploy bad green", []string{"-bad-green", "-approve", "ci"}, demo.ExitRolledBack,
			[]string{"rolling back", "all traffic is back on blue"}},
		// Nobody approves the termination wait: the runner does not leave
		// it unattended but rolls back before it closes.
		{"codedeploy unapproved", nil, demo.ExitRolledBack, []string{"waiting for approval", "without approval", "all traffic is back on blue"}},
		{"ecs unapproved", []string{"-ecs"}, demo.ExitWaiting, []string{"waiting for approval", "go run ./examples/managed -ecs -strategy canary -approve NAME"}},
		{"ecs canary healthy", []string{"-ecs", "-approve", "ci"}, demo.ExitCompleted,
			[]string{"ecs 10%", `point of no return: "ecs bake"`, "✓ completed"}},
		{"ecs linear bad green", []string{"-ecs", "-strategy=linear", "-bad-green", "-approve", "ci"}, demo.ExitRolledBack,
			[]string{"ecs 25%", "all traffic is back on blue"}},
		{"bad strategy", []string{"-ecs", "-strategy", "rolling"}, demo.ExitError, []string{`-strategy "rolling"`}},
		{"journal refused", []string{"-journal", t.TempDir()}, demo.ExitError, []string{"-journal: the fake mode"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, got := runCaptured(t, append(append([]string{}, managedSpeed...), tc.args...))
			if code != tc.want {
				t.Errorf("exit status %d, want %d; output:\n%s", code, tc.want, got)
			}
			for _, w := range tc.out {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestAWSFlags checks the -aws mode's flags; nothing reaches AWS.
func TestAWSFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"codedeploy without group", []string{"-aws", "-application", "shop", "-task-def", "td"}, "-group is required in -aws mode"},
		{"ecs without service", []string{"-aws", "-ecs", "-task-def", "td"}, "-service is required in -aws mode"},
		{"unknown flag", []string{"-aws", "-speed", "3"}, "flag provided but not defined: -speed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runCaptured(t, tc.args)
			if code != demo.ExitError || !strings.Contains(out, tc.want) {
				t.Errorf("exit status %d, output %q; want 1 and %q", code, out, tc.want)
			}
		})
	}
}

func runCaptured(t *testing.T, args []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out syncbuf.Buffer
	code := run(ctx, args, demo.IO{In: strings.NewReader(""), Out: &out, Err: &out})
	return code, out.String()
}

// managedSpeed runs the scenarios at 600 simulated seconds a second, not
// demotest.Fast's 3000: the simulated managed services keep their own
// windows on the scaled clock, and at 3000 a 100 ms stall of a loaded
// machine is five simulated minutes — the whole WindowMargin.
var managedSpeed = []string{"-speed", "600", "-plain"}

// TestUsage: -h lists the example's own flags and those of both modes.
func TestUsage(t *testing.T) {
	t.Parallel()
	var out syncbuf.Buffer
	code := run(t.Context(), []string{"-h"}, demo.IO{In: strings.NewReader(""), Out: &out, Err: &out})
	if code != demo.ExitCompleted {
		t.Errorf("-h: exit status %d, want 0", code)
	}
	for _, flag := range []string{"-ecs", "-strategy", "-approve", "-speed", "-task-def", "-service", "-application"} {
		if !strings.Contains(out.String(), "\n  "+flag+" ") && !strings.Contains(out.String(), "\n  "+flag+"\n") {
			t.Errorf("-h lacks %s:\n%s", flag, out.String())
		}
	}
}
