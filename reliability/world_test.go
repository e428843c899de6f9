package reliability_test

// The world the crash, fault and controller tests share: the four scenarios
// (canary, blue/green, rolling, the composed migration) built over a fake
// cloud, a kill switch that "kills the process" at a journal append or a
// cloud call, a ledger of a non-idempotent effect, and the checks that the
// cloud matches the journal.

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/rolling"
)

const (
	cutoverID = "cutover-1"
	initiator = "initiator"
	approver  = "approver"
	// fleetSize is blue's capacity at the start.
	fleetSize = 4
)

// scenario names a plan shape.
type scenario string

const (
	scCanary    scenario = "canary"
	scBlueGreen scenario = "bluegreen"
	scRolling   scenario = "rolling"
	scMigration scenario = "migration"
)

var scenarios = []scenario{scCanary, scBlueGreen, scRolling, scMigration}

// hasPNR reports whether the scenario's plan retires blue (the PNR).
func (s scenario) hasPNR() bool { return s == scBlueGreen || s == scMigration }

// provision creates the resources every scenario uses (an existing cloud
// keeps its own): an ALB router and a CNAME switcher over blue and green,
// blue's fleet at fleetSize and green's empty.
func provision(c *fake.Cloud) {
	c.Router("alb", "blue", "green")
	c.Switcher("cname", "blue", "green")
	c.Fleet("blue", fleetSize)
	c.Fleet("green", 0)
}

// world is the cloud as one runner sees it.
type world struct {
	cloud    *fake.Cloud
	router   providers.TrafficRouter
	switcher providers.Switcher
	blue     providers.Fleet
	green    providers.Fleet
	ledger   ledger
	// share returns the share of traffic green takes now (see greenShare).
	share func(sc scenario) int
	// applies, if set, records every Apply call (two-controller tests).
	applies func(stage string)
}

// newWorld returns the raw world of cloud, provisioned.
func newWorld(c *fake.Cloud, l ledger) *world {
	provision(c)
	return &world{
		cloud:    c,
		router:   c.Router("alb"),
		switcher: c.Switcher("cname"),
		blue:     c.Fleet("blue", fleetSize),
		green:    c.Fleet("green", 0),
		ledger:   l,
		share:    func(sc scenario) int { return greenShare(c, sc) },
	}
}

// wrap returns w as seen through kill switch k: every call counts, and
// once k has fired every call fails.
func (w *world) wrap(k *killSwitch) *world {
	kw := *w
	kw.router = kRouter{k, w.router}
	kw.switcher = kSwitcher{k, w.switcher}
	kw.blue = kFleet{k, w.blue}
	kw.green = kFleet{k, w.green}
	kw.ledger = kLedger{k, w.ledger}
	return &kw
}

// greenShare is the share of traffic green receives now in scenario sc,
// read without an API call.
func greenShare(c *fake.Cloud, sc scenario) int {
	if sc == scBlueGreen {
		if c.Switcher("cname").Current() == "green" {
			return 100
		}
		return 0
	}
	return c.Router("alb").Current()["green"]
}

// timing sets the durations of a plan: long bakes on fake time in
// testing/synctest bubbles, none in child processes (which run on the real
// clock and whose gates return final verdicts).
type timing struct {
	bake, warm, poll, verify time.Duration
	final                    bool
	warmUp                   time.Duration // green's members' warm-up
}

var (
	bubbleTiming = timing{bake: 10 * time.Minute, warm: 30 * time.Minute, poll: time.Minute, verify: time.Second, warmUp: 30 * time.Second}
	childTiming  = timing{poll: 5 * time.Millisecond, verify: 5 * time.Millisecond, final: true}
)

// badFrom is the share of traffic at which a bad green's gate fails.
const badFrom = 50

// greenGate judges green by where the traffic is: a bad green fails once it
// takes badFrom percent or more. Its evidence is the cloud itself, so a
// resumed runner judges exactly as the killed one would have.
type greenGate struct {
	share func(scenario) int
	sc    scenario
	bad   bool
	final bool
}

func (g greenGate) Name() string { return "green 5xx rate" }

func (g greenGate) Evaluate(context.Context) (cutover.Verdict, error) {
	s := g.share(g.sc)
	figs := map[string]float64{"green_share": float64(s)}
	if g.bad && s >= badFrom {
		figs["error_rate"] = 0.2
		return cutover.Verdict{Decision: cutover.Fail, Reason: fmt.Sprintf("green 5xx rate 20%% > max 2%% at %d%% of traffic", s), Figures: figs}, nil
	}
	figs["error_rate"] = 0.005
	return cutover.Verdict{Decision: cutover.Pass, Reason: "green 5xx rate 0.5% ≤ max 2%", Figures: figs, Final: g.final}, nil
}

// planConfig says which plan to build.
type planConfig struct {
	sc     scenario
	bad    bool
	timing timing
	clock  cutover.Clock
	// gates, if set, replaces the green gate (the fault tests judge green
	// by the fake cloud's metrics).
	gates func(w *world) (pre, post []cutover.Gate, err error)
}

// buildPlan returns the plan of cfg over w, every stage guarded so that
// its non-idempotent effect (see guard) happens once.
func buildPlan(cfg planConfig, w *world) (cutover.Plan, error) {
	t := cfg.timing
	clock := cfg.clock
	if clock == nil {
		clock = cutover.RealClock{}
	}
	var pre, post []cutover.Gate
	if cfg.gates != nil {
		var err error
		if pre, post, err = cfg.gates(w); err != nil {
			return cutover.Plan{}, err
		}
	} else {
		post = []cutover.Gate{greenGate{share: w.share, sc: cfg.sc, bad: cfg.bad, final: t.final}}
	}
	steps := canary.Weights(5, 25, 50, 100)
	var (
		p   cutover.Plan
		err error
	)
	switch cfg.sc {
	case scCanary:
		var c *canary.Canary
		c, err = canary.New(w.router, canary.Options{Steps: steps, Bake: t.bake, Gates: post, VerifyInterval: t.verify, Clock: clock})
		if err == nil {
			p, err = cutover.Sequence("canary", c)
		}
	case scBlueGreen:
		var bg *bluegreen.BlueGreen
		bg, err = bluegreen.New(bluegreen.Options{BlueFleet: w.blue, GreenFleet: w.green, Switcher: w.switcher,
			PreSwitchGates: pre, Gates: post, Bake: t.bake, Window: t.warm,
			PollInterval: t.poll, VerifyInterval: t.verify, Clock: clock})
		if err == nil {
			p, err = cutover.Sequence("bluegreen", bg)
		}
	case scRolling:
		var r *rolling.Rolling
		r, err = rolling.New(w.blue, w.green, fleetSize, rolling.Options{BatchSize: 1, Router: w.router, Gates: post, Bake: t.bake,
			PollInterval: t.poll, VerifyInterval: t.verify, Clock: clock})
		if err == nil {
			p, err = cutover.Sequence("rolling", r)
		}
	case scMigration:
		var (
			bg    *bluegreen.BlueGreen
			shift *canary.Canary
		)
		bg, err = bluegreen.New(bluegreen.Options{BlueFleet: w.blue, GreenFleet: w.green, Router: w.router,
			PreSwitchGates: pre, Gates: post, Window: t.warm,
			PollInterval: t.poll, VerifyInterval: t.verify, Clock: clock})
		if err == nil {
			shift, err = canary.New(w.router, canary.Options{Steps: steps, Bake: t.bake, Gates: post, VerifyInterval: t.verify, Clock: clock})
		}
		if err == nil {
			p, err = cutover.Sequence("migration", bg.Prepare(), shift, bg.Finish())
		}
	default:
		err = fmt.Errorf("unknown scenario %q", cfg.sc)
	}
	if err != nil {
		return cutover.Plan{}, err
	}
	for i := range p.Stages {
		p.Stages[i] = guard(p.Stages[i], w)
	}
	return p, nil
}

// effectKey is the key under which a stage remembers its effect's
// idempotency key.
const effectKey = "change-ticket"

// guard wraps s.Apply with a non-idempotent effect done the safe way: the
// stage opens a change ticket in w's ledger, which counts every ticket it
// opens, under an idempotency key it first journals with Remember. A
// resumed runner Recalls the key and opens the ticket again under it, which
// the ledger ignores. If the journal lost the key across a crash, the
// ledger would count two tickets for the stage.
func guard(s cutover.Stage, w *world) cutover.Stage {
	apply, name := s.Apply, s.Name
	s.Apply = func(ctx context.Context) error {
		if w.applies != nil {
			w.applies(name)
		}
		key, ok := cutover.Recall(ctx, effectKey)
		if !ok {
			key = rand.Text()
			if err := cutover.Remember(ctx, effectKey, key); err != nil {
				return err
			}
		}
		if err := w.ledger.Open(ctx, name, key); err != nil {
			return fmt.Errorf("open change ticket: %w", err)
		}
		return apply(ctx)
	}
	return s
}

// ledger records change tickets: Open with a key it has seen does nothing.
type ledger interface {
	Open(ctx context.Context, stage, key string) error
	// Tickets returns the distinct keys opened, by stage.
	Tickets() (map[string][]string, error)
}

// memLedger is a ledger in memory.
type memLedger struct {
	mu   sync.Mutex
	keys map[string][]string
}

func newMemLedger() *memLedger { return &memLedger{keys: map[string][]string{}} }

func (l *memLedger) Open(_ context.Context, stage, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range l.keys[stage] {
		if k == key {
			return nil
		}
	}
	l.keys[stage] = append(l.keys[stage], key)
	return nil
}

func (l *memLedger) Tickets() (map[string][]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]string, len(l.keys))
	for k, v := range l.keys {
		out[k] = append([]string(nil), v...)
	}
	return out, nil
}

// fileLedger is a ledger in a file of "stage\tkey" lines, for child
// processes: every Open that adds a ticket appends a line and fsyncs.
type fileLedger struct{ path string }

func (l fileLedger) Open(_ context.Context, stage, key string) error {
	t, err := l.Tickets()
	if err != nil {
		return err
	}
	for _, k := range t[stage] {
		if k == key {
			return nil
		}
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s\t%s\n", stage, key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (l fileLedger) Tickets() (map[string][]string, error) {
	out := map[string][]string{}
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		stage, key, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			// A line torn by SIGKILL before its fsync: the ticket was
			// not opened (the write did not return).
			continue
		}
		out[stage] = append(out[stage], key)
	}
	return out, sc.Err()
}

// errKilled is what a killed runner's journal and cloud return.
var errKilled = errors.New("killed: the runner's process is gone")

// killSwitch "kills the process" of a runner at the appendAt-th journal
// append or the callAt-th cloud call (counted from 1; 0: never), before it
// takes effect or, with after, once it has. From then on the runner's
// journal and cloud calls fail, and onKill runs (it cancels the runner's
// context). With soft set the kill only runs onKill: the runner lives on
// with a cancelled context.
type killSwitch struct {
	appendAt, callAt int64
	after, soft      bool
	onKill           func()
	// onAppend and onCall, if set, run instead of the kill (child
	// processes SIGKILL themselves there).
	onAppend, onCall func(after bool)

	appends, calls atomic.Int64
	dead           atomic.Bool
	once           sync.Once
	died           chan struct{}

	// The reference run records the calls: whether each changed the
	// cloud, and in which Run of the life cycle it came.
	mu    sync.Mutex
	kinds []callKind
	run   atomic.Int64
}

type callKind struct {
	mut bool
	run int64
}

func newKillSwitch() *killSwitch { return &killSwitch{died: make(chan struct{})} }

func (k *killSwitch) kill() {
	k.once.Do(func() {
		if !k.soft {
			k.dead.Store(true)
		}
		if k.onKill != nil {
			k.onKill()
		}
		close(k.died)
	})
}

// fired reports whether the switch fired.
func (k *killSwitch) fired() bool {
	select {
	case <-k.died:
		return true
	default:
		return false
	}
}

// do runs one cloud call f.
func (k *killSwitch) do(mut bool, f func() error) error {
	if k.dead.Load() {
		return errKilled
	}
	n := k.calls.Add(1)
	k.mu.Lock()
	k.kinds = append(k.kinds, callKind{mut: mut, run: k.run.Load()})
	k.mu.Unlock()
	at := n == k.callAt
	if at && !k.after {
		if k.onCall != nil {
			k.onCall(false)
		}
		k.kill()
		if !k.soft {
			return errKilled
		}
	}
	err := f()
	if at && k.after {
		if k.onCall != nil {
			k.onCall(true)
		}
		k.kill()
	}
	if k.dead.Load() {
		return errKilled
	}
	return err
}

// kJournal is a journal behind a kill switch.
type kJournal struct {
	k *killSwitch
	j cutover.Journal
}

func (x kJournal) Append(ctx context.Context, id string, rec cutover.Record) error {
	k := x.k
	if k.dead.Load() {
		return errKilled
	}
	n := k.appends.Add(1)
	at := n == k.appendAt
	if at && !k.after {
		if k.onAppend != nil {
			k.onAppend(false)
		}
		k.kill()
		return errKilled
	}
	err := x.j.Append(ctx, id, rec)
	if at && k.after {
		if k.onAppend != nil {
			k.onAppend(true)
		}
		k.kill()
	}
	if k.dead.Load() {
		return errKilled
	}
	return err
}

func (x kJournal) Read(ctx context.Context, id string, after uint64) ([]cutover.Record, error) {
	if x.k.dead.Load() {
		return nil, errKilled
	}
	return x.j.Read(ctx, id, after)
}

type kRouter struct {
	k *killSwitch
	r providers.TrafficRouter
}

func (x kRouter) SetWeights(ctx context.Context, w providers.Weights) error {
	return x.k.do(true, func() error { return x.r.SetWeights(ctx, w) })
}

func (x kRouter) Weights(ctx context.Context) (providers.Weights, error) {
	var w providers.Weights
	err := x.k.do(false, func() (err error) { w, err = x.r.Weights(ctx); return err })
	return w, err
}

type kSwitcher struct {
	k *killSwitch
	s providers.Switcher
}

func (x kSwitcher) Switch(ctx context.Context, target string) error {
	return x.k.do(true, func() error { return x.s.Switch(ctx, target) })
}

func (x kSwitcher) Active(ctx context.Context) (string, error) {
	var a string
	err := x.k.do(false, func() (err error) { a, err = x.s.Active(ctx); return err })
	return a, err
}

type kFleet struct {
	k *killSwitch
	f providers.Fleet
}

func (x kFleet) SetDesired(ctx context.Context, n int) error {
	return x.k.do(true, func() error { return x.f.SetDesired(ctx, n) })
}

func (x kFleet) Capacity(ctx context.Context) (providers.Capacity, error) {
	var c providers.Capacity
	err := x.k.do(false, func() (err error) { c, err = x.f.Capacity(ctx); return err })
	return c, err
}

type kLedger struct {
	k *killSwitch
	l ledger
}

func (x kLedger) Open(ctx context.Context, stage, key string) error {
	return x.k.do(true, func() error { return x.l.Open(ctx, stage, key) })
}

func (x kLedger) Tickets() (map[string][]string, error) { return x.l.Tickets() }

// expect is where a cutover should have left the cloud.
type expect int

const (
	expRolledBack expect = iota // as it started: all traffic on blue, green empty
	expWaiting                  // at the PNR: all traffic on green, blue still warm
	expCompleted                // all traffic on green, blue retired
)

func (e expect) String() string {
	return [...]string{"rolled back", "waiting at the PNR", "completed"}[e]
}

// checkCloud reports how the cloud differs from where scenario sc should
// have left it.
func checkCloud(c *fake.Cloud, sc scenario, e expect) error {
	type want struct {
		green      int    // router's green weight
		active     string // switcher
		blue, gree int    // desired capacities
	}
	w := want{green: 0, active: "blue", blue: fleetSize, gree: 0}
	switch sc {
	case scCanary:
		if e != expRolledBack {
			w.green = 100
		}
	case scBlueGreen:
		if e != expRolledBack {
			w.active, w.gree = "green", fleetSize
		}
		if e == expCompleted {
			w.blue = 0
		}
	case scRolling:
		if e != expRolledBack {
			w.green, w.blue, w.gree = 100, 0, fleetSize
		}
	case scMigration:
		if e != expRolledBack {
			w.green, w.gree = 100, fleetSize
		}
		if e == expCompleted {
			w.blue = 0
		}
	}
	var errs []error
	if got := c.Router("alb").Current(); got["green"] != w.green || got["blue"] != 100-w.green {
		errs = append(errs, fmt.Errorf("router alb: %s, want green=%d", got, w.green))
	}
	if got := c.Switcher("cname").Current(); got != w.active {
		errs = append(errs, fmt.Errorf("switcher cname: %s active, want %s", got, w.active))
	}
	if got := c.Fleet("blue", 0).Current().Desired; got != w.blue {
		errs = append(errs, fmt.Errorf("fleet blue: desired %d, want %d", got, w.blue))
	}
	if got := c.Fleet("green", 0).Current().Desired; got != w.gree {
		errs = append(errs, fmt.Errorf("fleet green: desired %d, want %d", got, w.gree))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s cloud is not %s: %w", sc, e, err)
	}
	return nil
}

// checkJournal reports what is wrong with the journal of a cutover of plan
// p that ended in state st: a record that does not fold, a stage applied
// twice, an irreversible or approval stage applied without a prior valid
// approval (by someone other than the initiator), a rollback that left a
// stage applied, a completion that left one unbaked.
func checkJournal(recs []cutover.Record, p cutover.Plan) (cutover.State, error) {
	st, err := cutover.Fold(cutoverID, recs)
	if err != nil {
		return st, fmt.Errorf("journal does not fold: %w", err)
	}
	intents := map[string]int{}
	var approvals []cutover.Record
	for _, r := range recs {
		switch {
		case r.Type == cutover.RecCommand && r.Command == cutover.CmdApprove:
			approvals = append(approvals, r)
		case r.Type == cutover.RecIntent && r.Action == "apply":
			intents[r.Stage]++
			if intents[r.Stage] > 1 {
				return st, fmt.Errorf("stage %q: apply intent %d times (seq %d)", r.Stage, intents[r.Stage], r.Seq)
			}
			s := p.Stages[r.Index]
			if s.Approval || s.Reversibility.Kind == cutover.KindIrreversible {
				ok := false
				for _, a := range approvals {
					if a.Actor != "" && a.Actor != st.Initiator && (a.Stage == "" || a.Stage == r.Stage) {
						ok = true
					}
				}
				if !ok {
					return st, fmt.Errorf("stage %q (%s) applied at seq %d without a prior approval by someone other than the initiator %q", r.Stage, s.Reversibility, r.Seq, st.Initiator)
				}
			}
		}
	}
	for _, a := range approvals {
		if a.Actor == "" || a.Reason == "" {
			return st, fmt.Errorf("approval at seq %d does not say who (%q) and why (%q)", a.Seq, a.Actor, a.Reason)
		}
	}
	for _, s := range st.Stages {
		switch st.Phase {
		case cutover.PhaseRolledBack:
			if s.Status != cutover.StagePending && s.Status != cutover.StageReverted {
				return st, fmt.Errorf("rolled back, yet stage %q is %s", s.Name, s.Status)
			}
		case cutover.PhaseCompleted:
			if s.Status != cutover.StageBaked {
				return st, fmt.Errorf("completed, yet stage %q is %s", s.Name, s.Status)
			}
		}
	}
	return st, nil
}

// checkTickets reports a stage whose change ticket was opened more than
// once, and, for a completed cutover, a stage that opened none.
func checkTickets(l ledger, st cutover.State) error {
	t, err := l.Tickets()
	if err != nil {
		return err
	}
	for _, s := range st.Stages {
		n := len(t[s.Name])
		if n > 1 {
			return fmt.Errorf("stage %q opened %d change tickets (%v): a non-idempotent effect happened twice", s.Name, n, t[s.Name])
		}
		if st.Phase == cutover.PhaseCompleted && n != 1 {
			return fmt.Errorf("completed, yet stage %q opened %d change tickets", s.Name, n)
		}
	}
	return nil
}

// expectOf maps a final phase to where it should leave the cloud.
func expectOf(ph cutover.Phase) (expect, bool) {
	switch ph {
	case cutover.PhaseCompleted:
		return expCompleted, true
	case cutover.PhaseRolledBack:
		return expRolledBack, true
	case cutover.PhaseWaiting:
		return expWaiting, true
	}
	return 0, false
}

// verify checks a cutover of scenario sc that a runner left in a final
// state: the journal is sound, the phase is final and the one wanted (if
// want is not empty), the cloud matches it, and no ticket was opened twice.
func verify(sc scenario, c *fake.Cloud, l ledger, recs []cutover.Record, p cutover.Plan, want cutover.Phase) error {
	st, err := checkJournal(recs, p)
	if err != nil {
		return err
	}
	e, ok := expectOf(st.Phase)
	if !ok {
		return fmt.Errorf("ended %s (%s), want completed, rolled back or waiting", st.Phase, st.Cause)
	}
	if want != "" && st.Phase != want {
		return fmt.Errorf("ended %s (%s), want %s", st.Phase, st.Cause, want)
	}
	if err := checkCloud(c, sc, e); err != nil {
		return err
	}
	if err := checkFreshPNR(recs, p); err != nil {
		return err
	}
	return checkTickets(l, st)
}

// checkFreshPNR checks that no stage that cannot be undone was applied on
// stale or failing evidence: before each apply intent of such a stage, the
// last round of verdicts (the verdicts journaled at the last verdict's
// time) has no Fail and came after the last approval before the intent.
func checkFreshPNR(recs []cutover.Record, p cutover.Plan) error {
	var round []cutover.Record
	var approved time.Time
	for _, r := range recs {
		switch {
		case r.Type == cutover.RecVerdict:
			if len(round) > 0 && !round[0].Time.Equal(r.Time) {
				round = round[:0]
			}
			round = append(round, r)
		case r.Type == cutover.RecCommand && r.Command == cutover.CmdApprove:
			approved = r.Time
		case r.Type == cutover.RecIntent && r.Action == "apply" && r.Index < len(p.Stages) &&
			p.Stages[r.Index].Reversibility.Kind != cutover.KindReversible:
			if len(round) == 0 {
				return fmt.Errorf("record %d: stage %q applied with no verdict journaled before it", r.Seq, r.Stage)
			}
			if round[0].Time.Before(approved) {
				return fmt.Errorf("record %d: stage %q applied on verdicts of %s, older than the approval of %s", r.Seq, r.Stage, round[0].Time, approved)
			}
			for _, v := range round {
				if v.Verdict.Decision == cutover.Fail {
					return fmt.Errorf("record %d: stage %q applied while gate %q's last verdict (record %d) was a Fail", r.Seq, r.Stage, v.Gate, v.Seq)
				}
			}
		}
	}
	return nil
}

// runnerOptions are the options of every runner of the suite.
func runnerOptions(t timing, clock cutover.Clock) cutover.RunnerOptions {
	return cutover.RunnerOptions{
		Actor:        initiator,
		Clock:        clock,
		PollInterval: t.poll,
		Grace:        20 * time.Minute,
		RetryBackoff: t.poll,
		TwoPerson:    true,
	}
}

// drive runs the cutover to an end as an operator would: Run; at the PNR
// check the cloud with atPNR (if set), approve as approver, and Run again
// with a new runner. It gives up after a few rounds.
func drive(ctx context.Context, j cutover.Journal, opts cutover.RunnerOptions, p cutover.Plan, k *killSwitch, atPNR func() error) (cutover.State, error) {
	var (
		st  cutover.State
		err error
	)
	for round := 1; round <= 4; round++ {
		if k != nil {
			k.run.Store(int64(round))
		}
		st, err = cutover.MustNewRunner(j, opts).Run(ctx, cutoverID, p)
		if !errors.Is(err, cutover.ErrPNRNotApproved) {
			return st, err
		}
		if ctx.Err() != nil {
			// Stopped (a SIGTERM's ErrSuspended) between the runs: the
			// next Run journals the suspension rather than Send failing
			// with the cause and nothing journaled.
			continue
		}
		if atPNR != nil {
			if cerr := atPNR(); cerr != nil {
				return st, cerr
			}
		}
		if serr := cutover.Send(ctx, j, cutoverID, cutover.CmdApprove, approver, "green healthy at 100% for the whole bake; blue kept warm", ""); serr != nil {
			if ctx.Err() != nil {
				continue // stopped during the Send: as above
			}
			return st, serr
		}
	}
	return st, fmt.Errorf("no end after 4 rounds: %w", err)
}
