package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/journalflag"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/report"
)

// The exit statuses.
const (
	exitCompleted  = 0
	exitError      = 1
	exitUsage      = 2
	exitRolledBack = 3
)

// flags are the command line.
type flags struct {
	journal     string
	endpoint    string
	createTable bool
	id          string
	actor       string
	twoPerson   bool
	speed       float64
	bake        time.Duration
	warm        time.Duration
	poll        time.Duration
	timeout     time.Duration
	badGreen    bool
	seed        int64
	report      string
	keys        string
}

func main() {
	ctx, stop := demo.SignalContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaultActor is the OS user, or $USER.
func defaultActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

func parse(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("operated", flag.ContinueOnError)
	fs.SetOutput(stderr)
	journalflag.Register(fs, &f.journal, "")
	fs.StringVar(&f.endpoint, "endpoint", "", "DynamoDB endpoint `URL`, for a local server (default: the SDK's, or AWS_ENDPOINT_URL_DYNAMODB)")
	fs.BoolVar(&f.createTable, "create-table", false, "create the DynamoDB table if it does not exist")
	fs.StringVar(&f.id, "id", "operated", "the cutover's `ID` in the journal")
	fs.StringVar(&f.actor, "actor", defaultActor(), "who starts the cutover (journaled as its initiator)")
	fs.BoolVar(&f.twoPerson, "two-person", false, "refuse an approval by the initiator (-actor)")
	fs.Float64Var(&f.speed, "speed", demo.DefaultSpeed, "simulated seconds per wall-clock second")
	fs.DurationVar(&f.bake, "bake", 10*time.Minute, "simulated bake of each canary step")
	fs.DurationVar(&f.warm, "warm", 30*time.Minute, "simulated time blue is kept warm before it may be retired")
	fs.DurationVar(&f.poll, "poll", demo.PollInterval, "simulated poll interval of the runner and the strategies")
	fs.DurationVar(&f.timeout, "timeout", time.Hour, "wall-clock bound of the run; when it runs out the cutover rolls back if it still can")
	fs.BoolVar(&f.badGreen, "bad-green", false, "green's error rate is ten times blue's: a gate fails and the cutover rolls back")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the simulated traffic")
	fs.StringVar(&f.keys, "keys", "", "sign commands: make throwaway SSH keys and an allowed_signers file in `DIR` (once), sign the start with the initiator's key and take only commands signed by a configured key; the approver approves with cutoverctl approve ID -as approver -sign-key DIR/approver")
	fs.StringVar(&f.report, "report", "", "at the end, write the cutover's report (report.md, report.svg, report.txt) into `DIR`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: operated -journal DIR|dynamodb:TABLE [flags]

Drives a cutover on the fake cloud (prepare green, canary 10%, 50%, 100%,
keep blue warm, retire blue) and waits at the point of no return for an
approval. Steer it from another terminal with cutoverctl:

  go run ./examples/operated -journal /tmp/cut
  go run ./cmd/cutoverctl -journal /tmp/cut show operated -watch
  go run ./cmd/cutoverctl -journal /tmp/cut approve operated -reason "green looks good"

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	if _, err := journalflag.Parse(f.journal, f.journalOptions()); err != nil {
		return f, err
	}
	switch {
	case f.id == "":
		return f, errors.New("-id: empty; want the cutover's ID")
	case f.actor == "":
		return f, errors.New("-actor: empty and no OS user found; want a name")
	case f.keys != "" && f.actor == approverName:
		return f, fmt.Errorf("-actor %q with -keys: want a name other than the approver's, %q", f.actor, approverName)
	case !(f.speed > 0) || f.speed > 1e6:
		return f, fmt.Errorf("-speed %v: want a number in (0, 1000000]", f.speed)
	case f.bake <= 0:
		return f, fmt.Errorf("-bake %v: want > 0", f.bake)
	case f.warm <= 0:
		return f, fmt.Errorf("-warm %v: want > 0", f.warm)
	case f.poll <= 0:
		return f, fmt.Errorf("-poll %v: want > 0", f.poll)
	case f.timeout <= 0:
		return f, fmt.Errorf("-timeout %v: want > 0", f.timeout)
	}
	if err := cutover.ValidateID(f.id); err != nil {
		return f, fmt.Errorf("-id: %w", err)
	}
	return f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitCompleted
	}
	if err != nil {
		fmt.Fprintln(stderr, "operated:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	code, err := drive(ctx, f, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "operated:", err)
	}
	return code
}

// journalOptions are the options -journal is opened with.
func (f flags) journalOptions() journalflag.Options {
	return journalflag.Options{Endpoint: f.endpoint, CreateTable: f.createTable}
}

// drive runs the cutover to its end and returns the exit status.
func drive(ctx context.Context, f flags, out io.Writer) (int, error) {
	s, err := journalflag.Open(ctx, f.journal, f.journalOptions())
	if err != nil {
		return exitError, err
	}
	cloudFile := "" // the fake cloud's state beside a file journal, so a resumed run finds it
	if s.Spec.Dir != "" {
		cloudFile = filepath.Join(s.Spec.Dir, f.id+".fake-cloud.json")
	}
	recs, err := s.Journal.Read(ctx, f.id, 0)
	if err != nil {
		return exitError, fmt.Errorf("-journal: %w", err)
	}
	// A resumed run's clock goes on from where the last one stopped, so the
	// journal's times never go backwards.
	origin := time.Now()
	if n := len(recs); n > 0 && recs[n-1].Time.After(origin) {
		origin = recs[n-1].Time
	}
	if cloudFile != "" {
		if t, err := fake.SavedAt(cloudFile); err == nil && t.After(origin) {
			origin = t
		}
	}
	clock, err := cutover.NewScaledClock(origin, f.speed)
	if err != nil {
		return exitError, err
	}
	lease, err := s.Lease(clock)
	if err != nil {
		return exitError, err
	}
	cloud, plan, err := build(f, clock, cloudFile)
	if err != nil {
		return exitError, err
	}

	verb := "starting"
	if len(recs) > 0 {
		verb = "resuming"
	}
	fmt.Fprintf(out, "%s cutover %s (plan %q) as %s; journal %s\n", verb, f.id, plan.Name, f.actor, f.journal)
	fmt.Fprintf(out, "steer it from another terminal: cutoverctl -journal %s show %s -watch\n", f.journal, f.id)
	p := &progress{out: out, start: clock.Now()}
	opts := cutover.RunnerOptions{
		Lease:           lease,
		LeaseTTL:        demo.LeaseTTL,
		Actor:           f.actor,
		Clock:           clock,
		Observer:        p,
		PollInterval:    f.poll,
		TwoPerson:       f.twoPerson,
		WaitForApproval: true,
		ApplyAttempts:   3,
	}
	if f.keys != "" {
		if opts.Signer, opts.Approvers, err = setupKeys(f.keys, f.actor); err != nil {
			return exitError, err
		}
		opts.TwoPerson = true
		fmt.Fprintf(out, "signed commands only; approve with: cutoverctl -journal %s approve %s -as %s -sign-key %s -reason TEXT\n",
			f.journal, f.id, approverName, filepath.Join(f.keys, keyApprover))
	}
	runner, err := cutover.NewRunner(s.Journal, opts)
	if err != nil {
		return exitError, err
	}
	_, err = runner.Run(ctx, f.id, plan)
	if f.report != "" {
		if rerr := writeReport(context.WithoutCancel(ctx), s.Journal, f.id, f.report); rerr != nil {
			fmt.Fprintln(out, "report:", rerr)
		} else {
			fmt.Fprintf(out, "report: %s, %s, %s\n", filepath.Join(f.report, report.FileMarkdown),
				filepath.Join(f.report, report.FileSVG), filepath.Join(f.report, report.FileText))
		}
	}
	w, werr := cloud.Router("alb", "blue", "green").Weights(context.WithoutCancel(ctx))
	where := fmt.Sprint(w)
	if werr != nil {
		where = werr.Error()
	}
	switch {
	case err == nil:
		fmt.Fprintf(out, "completed: traffic %s\n", where)
		return exitCompleted, nil
	case errors.Is(err, cutover.ErrRolledBack):
		fmt.Fprintf(out, "rolled back: traffic %s: %v\n", where, err)
		return exitRolledBack, nil
	}
	fmt.Fprintf(out, "stopped: traffic %s\n", where)
	return exitError, err
}

// writeReport renders cutover id from journal j into dir (-report).
func writeReport(ctx context.Context, j cutover.Journal, id, dir string) error {
	recs, err := j.Read(ctx, id, 0)
	if err != nil {
		return fmt.Errorf("-report: %w", err)
	}
	r, err := report.Build(id, recs, report.Options{})
	if err != nil {
		return fmt.Errorf("-report: %w", err)
	}
	if err := report.WriteFiles(dir, r); err != nil {
		return fmt.Errorf("-report: %w", err)
	}
	return nil
}

// build makes the fake cloud (kept in cloudFile, if set, so a restarted
// runner resumes it) and the plan:
//
//	prepare green → canary 10% → 50% → 100% → keep blue warm → retire blue
func build(f flags, clock cutover.Clock, cloudFile string) (*fake.Cloud, cutover.Plan, error) {
	fopts := fake.Options{Seed: f.seed, Clock: clock, Rate: demo.Rate, WarmUp: 90 * time.Second, Profile: demo.BlueProfile}
	newCloud := fake.New
	if cloudFile != "" {
		newCloud = func(o fake.Options) (*fake.Cloud, error) { return fake.Open(cloudFile, o) }
	}
	cloud, err := newCloud(fopts)
	if err != nil {
		return nil, cutover.Plan{}, fmt.Errorf("fake cloud: %w", err)
	}
	green := demo.BlueProfile
	if f.badGreen {
		green.ErrorRate = 10 * demo.BlueProfile.ErrorRate
	}
	if err := cloud.SetProfile("green", green); err != nil {
		return nil, cutover.Plan{}, err
	}
	alb := cloud.Router("alb", "blue", "green")
	env := &demo.Env{Cloud: cloud, Clock: clock}
	gates, err := demo.NewGates(env)
	if err != nil {
		return nil, cutover.Plan{}, err
	}
	bg, err := bluegreen.New(bluegreen.Options{
		BlueFleet:      cloud.Fleet("blue", 4),
		GreenFleet:     cloud.Fleet("green", 0),
		Router:         alb,
		PreSwitchGates: []cutover.Gate{gates.GreenHealthy},
		Gates:          []cutover.Gate{gates.ErrorRate},
		Window:         f.warm,
		PollInterval:   f.poll,
		Clock:          clock,
	})
	if err != nil {
		return nil, cutover.Plan{}, err
	}
	shift, err := canary.New(alb, canary.Options{
		Steps:       canary.Weights(10, 50, 100),
		Bake:        f.bake,
		Deadline:    2*f.bake + 10*time.Minute,
		Comparative: []cutover.Gate{gates.Judge},
		Background:  []cutover.Gate{gates.ErrorRate},
		Clock:       clock,
	})
	if err != nil {
		return nil, cutover.Plan{}, err
	}
	plan, err := cutover.Sequence("operated release", bg.Prepare(), shift, bg.Finish())
	return cloud, plan, err
}

// progress prints the runner's events, one line each, with the simulated
// time since the start.
type progress struct {
	out   io.Writer
	start time.Time
	last  map[string]cutover.Decision // by stage and gate
}

// Observe prints e, and of a gate's verdicts only the first decisive one
// and changes.
func (p *progress) Observe(e cutover.Event) {
	if e.Type == cutover.EvGateJudged {
		if e.Verdict == nil || e.Verdict.Decision == cutover.Pending {
			return
		}
		k := e.Stage + "\x00" + e.Gate
		if d, ok := p.last[k]; ok && d == e.Verdict.Decision {
			return
		}
		if p.last == nil {
			p.last = map[string]cutover.Decision{}
		}
		p.last[k] = e.Verdict.Decision
	}
	d := e.Time.Sub(p.start).Truncate(time.Second)
	stage := e.Stage
	if stage != "" {
		stage = fmt.Sprintf("%q ", stage)
	}
	fmt.Fprintf(p.out, "+%-9v %-16s %s%s\n", d, e.Type, stage, e.Message)
}
