package demo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// The exit statuses of the examples.
const (
	ExitCompleted  = 0
	ExitError      = 1
	ExitRolledBack = 3
	ExitWaiting    = 4
)

// Defaults of the flags and the simulation.
const (
	DefaultSpeed = 300              // simulated seconds per wall second
	PollInterval = 15 * time.Second // simulated; the runner's and the strategies' polls
	LeaseTTL     = 2 * time.Minute  // simulated
	Rate         = 2000             // requests per second through the router
)

// BlueProfile is how blue serves: 0.5 % errors, a median of 100 ms (about
// 3 % of requests slower than the fake's 250 ms objective). Green serves
// alike, or with ten times the errors under -bad-green.
var BlueProfile = fake.Profile{ErrorRate: 0.005, LatencyMedian: 100 * time.Millisecond, LatencySigma: 0.5}

// Flags are the examples' common flags.
type Flags struct {
	BadGreen bool    // green's error rate is ten times blue's
	Approve  string  // approve the PNR as this person
	Journal  string  // file journal directory; the fake cloud is saved there too
	Seed     int64   // seed of the simulated traffic
	Speed    float64 // simulated seconds per wall second
	Plain    bool    // no colours or redrawn status line, even on a terminal
}

// Watch is what the progress display reads from the fake cloud.
type Watch struct {
	Router   providers.TrafficRouter
	Switcher providers.Switcher
	Fleets   []NamedFleet
}

// NamedFleet is a fleet shown in the progress display.
type NamedFleet struct {
	Name  string
	Fleet providers.Fleet
}

// Env is what a scenario builds its plan from.
type Env struct {
	Cloud *fake.Cloud
	Clock cutover.Clock
	Flags Flags
	// Watch is filled in by the scenario for the progress display.
	Watch Watch
}

// Scenario is one runnable example.
type Scenario struct {
	// ID is the cutover's ID in the journal.
	ID string
	// Title is printed first.
	Title string
	// Build creates the scenario's resources in env.Cloud (if they do not
	// exist yet: a resumed run finds them) and returns its plan.
	Build func(env *Env) (cutover.Plan, error)
}

// IO is where a run reads and writes, and whether they are terminals.
type IO struct {
	In          io.Reader
	Out, Err    io.Writer
	InTerminal  bool
	OutTerminal bool
}

// Main runs s with the process's arguments, standard streams and signals,
// and exits with its status.
func Main(s Scenario) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, s, os.Args[1:], IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTerminal: isTerminal(os.Stdin), OutTerminal: isTerminal(os.Stdout),
	})
	stop()
	os.Exit(code)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// ParseFlags parses the common flags from args.
func ParseFlags(name string, args []string, stderr io.Writer) (Flags, error) {
	f := Flags{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.BadGreen, "bad-green", false, "green's error rate is ten times blue's from the moment it takes traffic")
	fs.StringVar(&f.Approve, "approve", "", "approve crossing the point of no return as `NAME` (without it: ask on a terminal, otherwise stop before it)")
	fs.StringVar(&f.Journal, "journal", "", "keep the journal and the fake cloud in `DIR`, so a killed or stopped run resumes with the same command")
	fs.Int64Var(&f.Seed, "seed", 1, "seed of the simulated traffic")
	fs.Float64Var(&f.Speed, "speed", DefaultSpeed, "simulated seconds per wall-clock second")
	fs.BoolVar(&f.Plain, "plain", false, "plain output: no colours, no redrawn status line")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	if !(f.Speed > 0) || f.Speed > 1e6 {
		return f, fmt.Errorf("-speed %v: want a number in (0, 1000000]", f.Speed)
	}
	if strings.TrimSpace(f.Approve) != f.Approve {
		return f, fmt.Errorf("-approve %q: want a name without leading or trailing spaces", f.Approve)
	}
	return f, nil
}

// Run runs scenario s with args and returns the exit status.
func Run(ctx context.Context, s Scenario, args []string, std IO) int {
	f, err := ParseFlags(s.ID, args, std.Err)
	if errors.Is(err, flag.ErrHelp) {
		return ExitCompleted
	}
	if err != nil {
		fmt.Fprintln(std.Err, "error:", err)
		return ExitError
	}
	code, err := run(ctx, s, f, std)
	if err != nil {
		fmt.Fprintln(std.Err, "error:", err)
	}
	return code
}

func run(ctx context.Context, s Scenario, f Flags, std IO) (int, error) {
	wallStart := time.Now()
	var (
		journal cutover.Journal = cutover.NewMemJournal()
		lease   cutover.Lease
		recs    []cutover.Record
		origin  = time.Now()
		cloud   *fake.Cloud
		err     error
	)
	if f.Journal != "" {
		fj, err := cutover.NewFileJournal(f.Journal, cutover.FileJournalOptions{})
		if err != nil {
			return ExitError, err
		}
		journal = fj
		if recs, err = fj.Read(ctx, s.ID, 0); err != nil {
			return ExitError, err
		}
		// A resumed run's clock goes on from where the last one stopped.
		if n := len(recs); n > 0 && recs[n-1].Time.After(origin) {
			origin = recs[n-1].Time
		}
		if t, err := fake.SavedAt(cloudPath(f)); err == nil && t.After(origin) {
			origin = t
		}
	}
	clock := cutover.NewScaledClock(origin, f.Speed)
	fopts := fake.Options{Seed: f.Seed, Clock: clock, Rate: Rate, WarmUp: 90 * time.Second, Profile: BlueProfile}
	if f.Journal != "" {
		if cloud, err = fake.Open(cloudPath(f), fopts); err != nil {
			return ExitError, err
		}
		if lease, err = cutover.NewFileLease(f.Journal, cutover.FileLeaseOptions{Clock: clock}); err != nil {
			return ExitError, err
		}
	} else {
		cloud = fake.New(fopts)
	}
	env := &Env{Cloud: cloud, Clock: clock, Flags: f}
	green := BlueProfile
	if f.BadGreen {
		green.ErrorRate = 10 * BlueProfile.ErrorRate
	}
	if err := cloud.SetProfile("green", green); err != nil {
		return ExitError, err
	}
	plan, err := s.Build(env)
	if err != nil {
		return ExitError, err
	}

	ui := newUI(std.Out, std.OutTerminal && !f.Plain, plan, env.Watch)
	if len(recs) > 0 {
		ui.origin, ui.resumed = recs[0].Time, true
	}
	ui.header(s.Title, plan, f, len(recs) > 0)

	runner := cutover.NewRunner(journal, cutover.Options{
		Clock: clock, Observer: ui, PollInterval: PollInterval, Actor: "demo",
		Lease: lease, LeaseTTL: LeaseTTL,
	})
	st, err := runLeased(ctx, runner, s.ID, plan, clock, ui)
	if errors.Is(err, cutover.ErrPNRNotApproved) && !errors.Is(err, cutover.ErrRolledBack) {
		pnr := plan.Analyze().PNRStage
		who := f.Approve
		if who == "" && std.InTerminal {
			ui.clearStatus()
			who = ask(ctx, std, pnr)
		}
		if who != "" {
			if err := cutover.Send(ctx, journal, s.ID, cutover.CmdApprove, who, "approved in the "+s.ID+" example", pnr); err != nil {
				return ExitError, err
			}
			st, err = runLeased(ctx, runner, s.ID, plan, clock, ui)
		}
	}
	all, rerr := journal.Read(context.WithoutCancel(ctx), s.ID, 0)
	if rerr != nil && err == nil {
		err = rerr
	}
	code := ExitCode(err)
	ui.summary(s, f, plan, st, all, code, err, time.Since(wallStart))
	if code == ExitError {
		return code, err
	}
	return code, nil
}

func cloudPath(f Flags) string { return filepath.Join(f.Journal, "fake-cloud.json") }

// runLeased runs the plan; while another run holds the lease (a killed run
// whose lease has not expired yet) it waits, at most two lease lifetimes.
func runLeased(ctx context.Context, r *cutover.Runner, id string, p cutover.Plan, clock cutover.Clock, ui *UI) (cutover.State, error) {
	for attempt := 0; ; attempt++ {
		st, err := r.Run(ctx, id, p)
		if !errors.Is(err, cutover.ErrLeaseHeld) || attempt >= 8 {
			return st, err
		}
		if attempt == 0 {
			ui.line("", "another run holds the lease (%v); waiting for it to expire", err)
		}
		select {
		case <-ctx.Done():
			return st, err
		case <-clock.After(LeaseTTL / 4):
		}
	}
}

// ExitCode maps the result of a run to the examples' exit status.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitCompleted
	case errors.Is(err, cutover.ErrRolledBack):
		return ExitRolledBack
	case errors.Is(err, cutover.ErrPNRNotApproved):
		return ExitWaiting
	}
	return ExitError
}

// ask asks on the terminal who approves crossing the PNR; an empty answer
// (or the end of input, or ctx ending) declines.
func ask(ctx context.Context, std IO, pnr string) string {
	fmt.Fprintf(std.Out, "\nApprove crossing the point of no return %q? After it, rollback is impossible.\nType your name to approve, or press Enter to stop here with blue warm: ", pnr)
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(std.In).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		return s
	case <-ctx.Done():
		return ""
	}
}

// RunCaptured runs s with args, stdin as its input (a terminal if
// terminal is set) and its output captured, and returns the exit status
// and the output. Tests of the examples use it.
func RunCaptured(ctx context.Context, s Scenario, args []string, stdin string, terminal bool) (int, string) {
	var out lockedBuffer
	code := Run(ctx, s, args, IO{In: strings.NewReader(stdin), Out: &out, Err: &out, InTerminal: terminal})
	return code, out.String()
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
