package demo

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"golang.org/x/term"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/awsdemo"
	"github.com/safecutover/safecutover/internal/syncbuf"
	"github.com/safecutover/safecutover/journalflag"
	"github.com/safecutover/safecutover/notify"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/report"
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
	// AWSJournal is the journal directory of the -aws mode when -journal
	// is not given: a real cutover is always journaled, so a killed run
	// resumes.
	AWSJournal = ".safecutover"
)

// BlueProfile is how blue serves: 0.5 % errors, a median of 100 ms (about
// 3 % of requests slower than the fake's 250 ms objective). Green serves
// alike, or with ten times the errors under -bad-green.
var BlueProfile = fake.Profile{ErrorRate: 0.005, LatencyMedian: 100 * time.Millisecond, LatencySigma: 0.5}

// notifyCloseBound bounds the delivery of the notifications still queued
// when a run ends.
const notifyCloseBound = 10 * time.Second

// Flags are the examples' common flags.
type Flags struct {
	BadGreen bool    // green's error rate is ten times blue's
	Approve  string  // approve the PNR as this person
	Journal  string  // file journal directory; the fake cloud is saved there too
	Seed     int64   // seed of the simulated traffic
	Speed    float64 // simulated seconds per wall second
	Plain    bool    // no colours or redrawn status line, even on a terminal
	// Report, if set, is the directory the cutover's report is written
	// into at the end (report.md, report.svg, report.txt).
	Report string
	// AWS are the flags of the -aws mode; AWS.On is -aws. Off, the
	// example runs on the fake cloud.
	AWS awsdemo.Flags
	// Notify are the notifier flags (-notify-webhook, -notify-sns,
	// -notify-eventbridge, -notify-events).
	Notify notify.Flags
}

// Watch is what the progress display reads from the fake cloud.
type Watch struct {
	Router   providers.TrafficRouter
	Switcher providers.Switcher
	Fleets   []NamedFleet
}

// NamedFleet is a fleet shown in the progress display; one with a nil
// Fleet (a fleet the -aws flags do not name) is not shown.
type NamedFleet struct {
	Name  string
	Fleet providers.Fleet
}

// Env is what a scenario builds its plan from: the fake cloud, or with
// -aws the real resources the flags name. A scenario asks for its
// resources through Router, Switcher, Fleet and Desired, which serve
// both.
type Env struct {
	// Cloud is the fake cloud; nil with -aws.
	Cloud *fake.Cloud
	// AWS makes the real providers with -aws; nil on the fake cloud.
	AWS   *awsdemo.Cloud
	Clock cutover.Clock
	Flags Flags
	// Watch is filled in by the scenario for the progress display.
	Watch Watch
}

// Router returns the router between "blue" and "green": the fake cloud's
// ALB, or with -aws the ALB or Route 53 router the flags name.
func (e *Env) Router() (providers.TrafficRouter, error) {
	if e.AWS != nil {
		return e.AWS.Router()
	}
	return e.Cloud.Router("alb", "blue", "green"), nil
}

// Switcher returns the switcher between "blue" and "green": the fake
// cloud's CNAME swap, or with -aws the Elastic Beanstalk environments the
// flags name.
func (e *Env) Switcher() (providers.Switcher, error) {
	if e.AWS != nil {
		return e.AWS.Switcher()
	}
	return e.Cloud.Switcher("cname", "blue", "green"), nil
}

// Fleet returns the capacity of target ("blue" or "green"): a fake fleet
// that starts with members (if it does not exist yet), or with -aws the
// ECS service the flags name, as it is.
func (e *Env) Fleet(target string, members int) (providers.Fleet, error) {
	if e.AWS != nil {
		return e.AWS.Fleet(target)
	}
	return e.Cloud.Fleet(target, members), nil
}

// Desired returns members on the fake cloud, and -desired (0 when not
// given) with -aws.
func (e *Env) Desired(members int) int {
	if e.AWS != nil {
		return e.AWS.Desired()
	}
	return members
}

// Optional turns the error of a resource the -aws flags do not name
// (awsdemo.ErrNotConfigured) into the zero value and nil, for a resource a
// scenario can do without: demo.Optional(env.Fleet("blue", 4)).
func Optional[T any](v T, err error) (T, error) {
	if errors.Is(err, awsdemo.ErrNotConfigured) {
		var zero T
		return zero, nil
	}
	return v, err
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
	// Command is the command line that runs the scenario, for the usage
	// and the hints printed at the end; default "go run ./examples/" + ID.
	Command string
	// NoJournal says the scenario's fake mode cannot keep a journal
	// (-journal), so a stopped run is approved by running it again.
	NoJournal bool
	// AWS says the scenario also runs against real AWS resources: its
	// command line takes -aws and the flags that name the resources
	// (awsdemo.Flags), and Build asks for its resources through Env's
	// methods rather than env.Cloud.
	AWS bool
}

// command returns s.Command or its default.
func (s Scenario) command() string {
	if s.Command != "" {
		return s.Command
	}
	return "go run ./examples/" + s.ID
}

// IO is where a run reads and writes, and whether they are terminals.
type IO struct {
	In          io.Reader
	Out, Err    io.Writer
	InTerminal  bool
	OutTerminal bool
	// AWSConfig are extra options for the -aws mode's
	// config.LoadDefaultConfig; tests point the SDK at a fake with them.
	AWSConfig []func(*config.LoadOptions) error
}

// Main runs s with the process's arguments, standard streams and signals,
// and exits with its status.
func Main(s Scenario) {
	ctx, stop := SignalContext(context.Background())
	code := Run(ctx, s, os.Args[1:], IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTerminal: IsTerminal(os.Stdin), OutTerminal: IsTerminal(os.Stdout),
	})
	stop()
	os.Exit(code)
}

// IsTerminal reports whether f is a terminal. A character device that is
// not one — /dev/null, the input of a CI job — is not: the examples must
// never wait at a prompt nobody sees.
func IsTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// ParseFlags parses s's command line args: the common flags, and those
// of the -aws mode if s has one.
func ParseFlags(s Scenario, args []string, stderr io.Writer) (Flags, error) {
	f := Flags{}
	name := s.ID
	fs := flag.NewFlagSet(s.command(), flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.BadGreen, "bad-green", false, "fake cloud: green's error rate is ten times blue's from the moment it takes traffic")
	fs.StringVar(&f.Approve, "approve", "", "approve crossing the point of no return as `NAME` (without it: ask on a terminal, otherwise stop before it)")
	journalUsage := "keep the journal and the fake cloud in `DIR`, so a killed or stopped run resumes with the same command"
	if s.AWS {
		journalUsage += " (with -aws: the journal and lease, a DIR or dynamodb:TABLE; default " + AWSJournal + ")"
	}
	fs.StringVar(&f.Journal, "journal", "", journalUsage)
	journalflag.RegisterRetired(fs)
	fs.Int64Var(&f.Seed, "seed", 1, "fake cloud: seed of the simulated traffic")
	fs.Float64Var(&f.Speed, "speed", DefaultSpeed, "fake cloud: simulated seconds per wall-clock second")
	fs.BoolVar(&f.Plain, "plain", false, "plain output: no colours, no redrawn status line")
	fs.StringVar(&f.Report, "report", "", "at the end, write the cutover's report drawn from the journal into `DIR`: report.md, report.svg (a chart) and report.txt")
	f.Notify.Register(fs)
	if s.AWS {
		f.AWS.Register(fs)
		fs.Usage = func() {
			fmt.Fprintf(fs.Output(), "Usage:\n  go run ./examples/%s %-22s on the fake cloud, on an accelerated clock\n  go run ./examples/%s %-22s against real AWS resources, on the real clock\n\nFlags:\n",
				name, "[flags]", name, "-aws [resource flags]")
			fs.PrintDefaults()
		}
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if err := f.AWS.Check(func(name string) bool { return given[name] }); err != nil {
		return f, err
	}
	if f.AWS.On {
		for _, name := range []string{"bad-green", "seed", "speed"} {
			if given[name] {
				return f, fmt.Errorf("-%s is for the fake cloud; -aws runs on the real clock against real resources", name)
			}
		}
		if f.Journal == "" {
			f.Journal = AWSJournal
		}
	}
	if f.Journal != "" {
		spec, err := journalflag.Parse(f.Journal, journalflag.Options{CreateTable: f.AWS.CreateTable})
		if err != nil {
			return f, err
		}
		if spec.Table != "" && !f.AWS.On {
			return f, fmt.Errorf("-journal: %q: want a DIR; the fake cloud is kept beside a file journal (dynamodb:TABLE is for -aws)", f.Journal)
		}
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
	f, err := ParseFlags(s, args, std.Err)
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
		su  setup
		err error
	)
	if f.AWS.On {
		su, err = setupAWS(ctx, s, f, std)
	} else {
		su, err = setupFake(ctx, s, f)
	}
	if err != nil {
		return ExitError, err
	}
	env, journal, clock, id := su.env, su.journal, su.clock, su.id
	plan, err := s.Build(env)
	if err != nil {
		return ExitError, err
	}
	if env.AWS != nil {
		// Only a plan built from flags that all make sense touches the
		// journal.
		if err := env.AWS.Validate(s.ID); err != nil {
			return ExitError, err
		}
		// Every resource is read before the first record: a cutover whose
		// resources cannot be read is refused with nothing journaled.
		if err := env.AWS.Preflight(ctx); err != nil {
			return ExitError, err
		}
		if err := su.openAWSJournal(ctx, f); err != nil {
			return ExitError, err
		}
		journal = su.journal
	}

	ui := newUI(std.Out, std.OutTerminal && !f.Plain, plan, env.Watch)
	if env.AWS != nil {
		ui.real, ui.timeout = true, 10*time.Second
		// The display shows the traffic the stages journaled, not a
		// describe of the router: no AWS call for the display.
		ui.traffic = func(ctx context.Context) (providers.Weights, bool) { return journaledTraffic(ctx, journal, id) }
	}
	if len(su.recs) > 0 {
		ui.origin, ui.resumed = su.recs[0].Time, true
	}
	ui.header(s.Title, plan, env, len(su.recs) > 0)

	notifiers, err := f.Notify.Group(ctx, nil, notify.Options{Clock: clock})
	if err != nil {
		return ExitError, err
	}
	defer func() {
		// The notifications queued are delivered within a bound.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyCloseBound)
		defer cancel()
		if err := notifiers.Close(cctx); err != nil {
			fmt.Fprintf(std.Err, "notifications: %v\n", err)
		}
	}()
	var obs cutover.Observer = cutover.ObserverFunc(func(e cutover.Event) {
		ui.Observe(e)
		notifiers.Observe(e)
	})
	// An approval (-approve NAME) is sent only when the cutover reaches
	// its approval point: where Run stops before a stage that needs one
	// (below), or where it waits with a reversibility window open (here).
	var sends sync.WaitGroup
	defer sends.Wait()
	if f.Approve != "" {
		obs = ApproveAtWindow(obs, plan, &sends, func(stage string) {
			_ = cutover.Send(context.WithoutCancel(ctx), journal, id, cutover.CmdApprove, f.Approve, "approved in the "+s.ID+" example", stage)
		})
	}
	runner, err := cutover.NewRunner(journal, cutover.RunnerOptions{
		Clock: clock, Observer: obs, PollInterval: PollInterval, Actor: su.actor,
		Lease: su.lease, LeaseTTL: LeaseTTL,
		// A throttled or timed-out call is tried again before it can roll
		// a healthy release back.
		ApplyAttempts: 3,
	})
	if err != nil {
		return ExitError, err
	}
	st, err := runLeased(ctx, runner, id, plan, clock, ui)
	if errors.Is(err, cutover.ErrPNRNotApproved) && !errors.Is(err, cutover.ErrRolledBack) {
		pnr := plan.Analyze().PNRStage
		who := f.Approve
		if who == "" && std.InTerminal {
			ui.clearStatus()
			who = ask(ctx, std, pnr, judgedText(st, clock.Now()))
		}
		if who != "" {
			if err := cutover.Send(ctx, journal, id, cutover.CmdApprove, who, "approved in the "+s.ID+" example", pnr); err != nil {
				return ExitError, err
			}
			st, err = runLeased(ctx, runner, id, plan, clock, ui)
		}
	}
	all, rerr := journal.Read(context.WithoutCancel(ctx), id, 0)
	if rerr != nil && err == nil {
		err = rerr
	}
	code := ExitCode(err)
	var rep *report.Report
	if len(all) > 0 {
		var berr error
		if rep, berr = report.Build(id, all, report.Options{Now: clock.Now()}); berr != nil {
			fmt.Fprintln(std.Err, "error: report:", berr)
		}
	}
	ui.summary(s, id, f, plan, st, all, rep, code, err, time.Since(wallStart))
	if code == ExitError {
		return code, err
	}
	if f.Report != "" {
		if err := writeReport(f.Report, rep); err != nil {
			// The files are what a script asked for; a cutover that
			// rolled back or waits keeps its own status.
			if code == ExitCompleted {
				return ExitError, err
			}
			fmt.Fprintln(std.Err, "error:", err)
		} else {
			fmt.Fprintf(std.Out, "\nreport: %s, %s, %s\n", filepath.Join(f.Report, report.FileMarkdown),
				filepath.Join(f.Report, report.FileSVG), filepath.Join(f.Report, report.FileText))
		}
	}
	return code, nil
}

// writeReport writes rep into dir for -report.
func writeReport(dir string, rep *report.Report) error {
	if rep == nil {
		return fmt.Errorf("-report %s: the journal has no report to give", dir)
	}
	if err := report.WriteFiles(dir, rep); err != nil {
		return fmt.Errorf("-report: %w", err)
	}
	return nil
}

// judgedText says when green was last judged, and how, for the PNR prompt.
// The runner judges it again before it crosses the PNR.
func judgedText(st cutover.State, now time.Time) string {
	if st.Judged.IsZero() {
		return "Green has not been judged yet; the runner judges it before it crosses."
	}
	return fmt.Sprintf("Green was last judged %s ago: %s (it is judged again before the runner crosses).", now.Sub(st.Judged).Round(time.Second), st.Judgement)
}

// ExitCode maps the result of a run to the examples' exit status.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitCompleted
	case errors.Is(err, cutover.ErrRolledBack):
		return ExitRolledBack
	case errors.Is(err, cutover.ErrPNRNotApproved), errors.Is(err, cutover.ErrSuspended):
		// Both stop with rollback still possible; a later run resumes.
		return ExitWaiting
	}
	return ExitError
}

// ask asks on the terminal who approves crossing the PNR; an empty answer,
// "n" or "no" (or the end of input, or ctx ending) declines. A "y" or "yes"
// is not a name: it is asked for again, a few times at most.
func ask(ctx context.Context, std IO, pnr, judged string) string {
	fmt.Fprintf(std.Out, "\nApprove crossing the point of no return %q? After it, rollback is impossible.\n%s\nType your name to approve, or press Enter to stop here with blue warm: ", pnr, judged)
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(std.In)
		for range 3 {
			s, err := r.ReadString('\n')
			s = strings.TrimSpace(s)
			switch strings.ToLower(s) {
			case "n", "no":
				s = ""
			case "y", "yes":
				if err == nil {
					fmt.Fprint(std.Out, "Type your name (it goes into the journal as the approver), or press Enter to stop here: ")
					continue
				}
				s = ""
			}
			line <- s
			return
		}
		line <- ""
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
	var out syncbuf.Buffer
	code := Run(ctx, s, args, IO{In: strings.NewReader(stdin), Out: &out, Err: &out, InTerminal: terminal})
	return code, out.String()
}

// journaledTraffic returns the weights the last traffic note of cutover id
// in j says (cutover.NoteTraffic), if there is one.
func journaledTraffic(ctx context.Context, j cutover.Journal, id string) (providers.Weights, bool) {
	recs, err := j.Read(ctx, id, 0)
	if err != nil {
		return nil, false
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if r := recs[i]; r.Type == cutover.RecData && r.Key == cutover.DataTraffic {
			w, err := cutover.ParseTraffic(r.Value)
			if err != nil {
				return nil, false
			}
			return providers.Weights(w), true
		}
	}
	return nil, false
}
