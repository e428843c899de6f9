package reliability_test

// Two controllers, one cutover: two child processes are started at once on
// the same cutover, with the file journal and lease or with the DynamoDB
// journal and lease (against dynalite). Exactly one drives; the other
// waits for the lease (bounded) and keeps trying. The parent SIGKILLs the one driving at a
// random point; the other takes over once the lease has expired and
// finishes. Every Apply call is recorded in a side file, so the parent sees
// whether a stage was applied by both.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/reliability"
)

// controllerTiming: stages bake long enough for the parent to kill the
// driver in the middle of the plan.
var controllerTiming = timing{bake: 120 * time.Millisecond, warm: 120 * time.Millisecond, poll: 20 * time.Millisecond, verify: 10 * time.Millisecond}

// controllerLeaseTTL is the lease's time to live; the runner renews it every
// third of that.
const controllerLeaseTTL = 3 * time.Second

// dynamoClient returns an SDK client for the local DynamoDB-compatible
// server awstest.LocalDynamoDB names, or the reason there is none.
func dynamoClient() (*dynamodb.Client, string) {
	ep, err := awstest.LocalDynamoDB()
	if err != nil {
		return nil, err.Error()
	}
	return awstest.DynamoDBClient(ep), ""
}

// requireDynamo returns the client or skips t (fails it under
// awstest.EnvRequireDynamoDB).
func requireDynamo(t testing.TB) *dynamodb.Client {
	t.Helper()
	return awstest.DynamoDBClient(awstest.DynamoDBEndpoint(t))
}

// newDynamoTable creates a journal table of its own for t and deletes it
// when t ends.
func newDynamoTable(t testing.TB, c *dynamodb.Client) string {
	t.Helper()
	table := "safecutover-reliability-" + strings.ToLower(strconv.FormatUint(rand.Uint64(), 36))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := awsprovider.CreateJournalTable(ctx, c, table, awsprovider.DynamoDBTableOptions{MaxWait: 20 * time.Second}); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return table
}

// openStore returns the journal and lease of store ("file" or "dynamodb").
func openStore(store string, paths childPaths, table string) (cutover.Journal, cutover.Lease, error) {
	switch store {
	case "file":
		j, err := cutover.NewFileJournal(paths.journal(), cutover.FileJournalOptions{})
		if err != nil {
			return nil, nil, err
		}
		l, err := cutover.NewFileLease(paths.lease(), cutover.FileLeaseOptions{})
		return j, l, err
	case "dynamodb":
		c, why := dynamoClient()
		if c == nil {
			return nil, nil, errors.New(why)
		}
		j, err := awsprovider.NewDynamoDBJournal(c, table, awsprovider.DynamoDBJournalOptions{})
		if err != nil {
			return nil, nil, err
		}
		l, err := awsprovider.NewDynamoDBLease(c, table, awsprovider.DynamoDBLeaseOptions{})
		return j, l, err
	}
	return nil, nil, fmt.Errorf("%s=%q: want file or dynamodb", envStore, store)
}

// lazyCloud opens the fake cloud's state file at its first use: a
// controller that waits for the lease must see the cloud as the previous
// owner left it, not as it was when the waiting began.
type lazyCloud struct {
	path string
	once sync.Once
	c    *fake.Cloud
	err  error
}

func (l *lazyCloud) get() (*fake.Cloud, error) {
	l.once.Do(func() {
		l.c, l.err = fake.Open(l.path, fake.Options{Seed: 1, MaxCalls: -1})
		if l.err == nil {
			provision(l.c)
		}
	})
	return l.c, l.err
}

type lazyRouter struct{ l *lazyCloud }

func (x lazyRouter) SetWeights(ctx context.Context, w providers.Weights) error {
	c, err := x.l.get()
	if err != nil {
		return err
	}
	return c.Router("alb").SetWeights(ctx, w)
}

func (x lazyRouter) Weights(ctx context.Context) (providers.Weights, error) {
	c, err := x.l.get()
	if err != nil {
		return nil, err
	}
	return c.Router("alb").Weights(ctx)
}

type lazySwitcher struct{ l *lazyCloud }

func (x lazySwitcher) Switch(ctx context.Context, target string) error {
	c, err := x.l.get()
	if err != nil {
		return err
	}
	return c.Switcher("cname").Switch(ctx, target)
}

func (x lazySwitcher) Active(ctx context.Context) (string, error) {
	c, err := x.l.get()
	if err != nil {
		return "", err
	}
	return c.Switcher("cname").Active(ctx)
}

type lazyFleet struct {
	l    *lazyCloud
	name string
}

func (x lazyFleet) SetDesired(ctx context.Context, n int) error {
	c, err := x.l.get()
	if err != nil {
		return err
	}
	return c.Fleet(x.name, 0).SetDesired(ctx, n)
}

func (x lazyFleet) Capacity(ctx context.Context) (providers.Capacity, error) {
	c, err := x.l.get()
	if err != nil {
		return providers.Capacity{}, err
	}
	return c.Fleet(x.name, 0).Capacity(ctx)
}

// lazyWorld is the world of a controller whose cloud is opened lazily.
func lazyWorld(paths childPaths) *world {
	l := &lazyCloud{path: paths.cloud()}
	pid := os.Getpid()
	return &world{
		router:   lazyRouter{l},
		switcher: lazySwitcher{l},
		blue:     lazyFleet{l, "blue"},
		green:    lazyFleet{l, "green"},
		ledger:   fileLedger{paths.tickets()},
		share: func(sc scenario) int {
			c, err := l.get()
			if err != nil {
				return 100 // no evidence: a bad green fails, a good one passes
			}
			return greenShare(c, sc)
		},
		applies: func(stage string) {
			f, err := os.OpenFile(paths.applies(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				return
			}
			fmt.Fprintf(f, "%d\t%s\n", pid, stage)
			f.Sync()
			f.Close()
		},
	}
}

// controllerChild is one of two controller processes on one cutover: it
// runs the migration until it ends, trying again while another holds the
// lease, and approves the PNR when the cutover waits for it.
func controllerChild() (childResult, error) {
	var res childResult
	paths := childPaths{os.Getenv(envDir)}
	j, lease, err := openStore(os.Getenv(envStore), paths, os.Getenv(envTable))
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The approver: once the cutover waits at the PNR, approve it.
	approved := make(chan struct{})
	go func() {
		defer close(approved)
		for ctx.Err() == nil {
			time.Sleep(controllerTiming.poll)
			recs, err := j.Read(ctx, cutoverID, 0)
			if err != nil || len(recs) == 0 {
				continue
			}
			if st, err := cutover.Fold(cutoverID, recs); err == nil && st.Phase == cutover.PhaseWaiting {
				if cutover.Send(ctx, j, cutoverID, cutover.CmdApprove, approver, "green took all traffic for the whole bake", "") == nil {
					return
				}
			}
		}
	}()

	opts := runnerOptions(controllerTiming, nil)
	opts.Lease, opts.LeaseTTL, opts.Owner = lease, controllerLeaseTTL, os.Getenv(envOwner)
	opts.WaitForApproval = true
	// A runner waits (bounded) for a held lease before it returns
	// ErrLeaseHeld; either shows the lease kept this controller out.
	opts.Observer = cutover.ObserverFunc(func(e cutover.Event) {
		if e.Type == cutover.EvLeaseWait {
			res.LeaseHeld++
		}
	})
	sc := scenario(os.Getenv(envScenario))
	for {
		p, err := buildPlan(planConfig{sc: sc, timing: controllerTiming}, lazyWorld(paths))
		if err != nil {
			return res, err
		}
		st, err := cutover.MustNewRunner(j, opts).Run(ctx, cutoverID, p)
		if errors.Is(err, cutover.ErrLeaseHeld) && ctx.Err() == nil {
			res.LeaseHeld++
			time.Sleep(50 * time.Millisecond)
			continue
		}
		res.Phase = string(st.Phase)
		if err != nil {
			res.Err = err.Error()
		}
		cancel()
		<-approved
		return res, nil
	}
}

// applyLine is one Apply call: which process, which stage.
type applyLine struct {
	pid   int
	stage string
}

func readApplies(path string) ([]applyLine, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []applyLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pid, stage, ok := strings.Cut(sc.Text(), "\t")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil {
			continue // torn by the kill
		}
		out = append(out, applyLine{n, stage})
	}
	return out, sc.Err()
}

// twoControllers runs one two-controller run and returns what is wrong,
// whether the processes drove the cutover at once (double), and figures.
func twoControllers(t *testing.T, store, table string, rng *rand.Rand) (double bool, bad error) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	paths := childPaths{t.TempDir()}
	c := crashCase{sc: scMigration}
	env := func(owner string) map[string]string {
		return map[string]string{envDir: paths.dir, envScenario: string(c.sc), envStore: store, envTable: table, envOwner: owner}
	}
	a, err := startChild(ctx, "controller", env("controller-a"))
	if err != nil {
		return false, err
	}
	b, err := startChild(ctx, "controller", env("controller-b"))
	if err != nil {
		return false, err
	}
	byPid := map[int]*child{a.cmd.Process.Pid: a, b.cmd.Process.Pid: b}

	// Wait until k stages have been applied, then kill the one driving.
	k := 1 + rng.IntN(6)
	var lines []applyLine
	for len(lines) < k {
		if ctx.Err() != nil {
			return false, fmt.Errorf("only %d of %d stages applied before the deadline", len(lines), k)
		}
		time.Sleep(5 * time.Millisecond)
		if lines, err = readApplies(paths.applies()); err != nil {
			return false, err
		}
	}
	time.Sleep(time.Duration(rng.Int64N(int64(controllerTiming.bake))))
	lines, err = readApplies(paths.applies())
	if err != nil {
		return false, err
	}
	owner := byPid[lines[len(lines)-1].pid]
	survivor := a
	if owner == a {
		survivor = b
	}
	// What was being applied when the owner was chosen and when it died,
	// as the journal says. Both count: on a loaded machine the owner can
	// stall inside an Apply past its lease, and the other process then
	// takes over and applies that stage again — as it must, for its
	// outcome is not journaled — before the kill lands.
	j, _, err := openStore(store, paths, table)
	if err != nil {
		return false, err
	}
	inFlight := map[string]bool{}
	applying := func() ([]cutover.Record, error) {
		recs, err := j.Read(ctx, cutoverID, 0)
		if err != nil {
			return nil, err
		}
		st, err := cutover.Fold(cutoverID, recs)
		if err != nil {
			return nil, err
		}
		for _, s := range st.Stages {
			if s.Status == cutover.StageApplying || s.Status == cutover.StageFailed {
				inFlight[s.Name] = true
			}
		}
		return recs, nil
	}
	if _, err := applying(); err != nil {
		return false, err
	}
	owner.cmd.Process.Kill() // SIGKILL
	if _, killed, err := owner.wait(); !killed {
		return false, fmt.Errorf("the owner was not killed: %v", err)
	}
	recs, err := applying()
	if err != nil {
		return false, err
	}
	// What the owner applied up to its death: it may have applied another
	// stage between the read that chose it and the kill.
	if lines, err = readApplies(paths.applies()); err != nil {
		return false, err
	}
	ownerLines := len(lines)

	res, killed, err := survivor.wait()
	if err != nil || killed {
		return false, fmt.Errorf("the survivor: %v (killed %v)", err, killed)
	}
	if res.LeaseHeld == 0 {
		bad = errors.Join(bad, fmt.Errorf("the survivor never waited for the lease nor got ErrLeaseHeld: both drove"))
		double = true
	}

	// No stage applied by both, but the one in flight at the kill.
	lines, err = readApplies(paths.applies())
	if err != nil {
		return false, err
	}
	by := map[string]map[int]bool{}
	for _, l := range lines {
		if by[l.stage] == nil {
			by[l.stage] = map[int]bool{}
		}
		by[l.stage][l.pid] = true
	}
	for stage, pids := range by {
		if len(pids) > 1 && !inFlight[stage] {
			double = true
			bad = errors.Join(bad, fmt.Errorf("stage %q applied by both processes (not in flight when the owner was chosen or died: %v); applies %v (owner %d, %d lines at its death); journal at its death: %s",
				stage, inFlight, lines, owner.cmd.Process.Pid, ownerLines, journalStory(recs)))
		}
	}
	for _, l := range lines[ownerLines:] {
		if l.pid == owner.cmd.Process.Pid {
			double = true
			bad = errors.Join(bad, fmt.Errorf("the killed owner applied %q after its death", l.stage))
		}
	}

	// The end: completed, the cloud and the journal agree.
	cloud, err := fake.Load(paths.cloud(), fake.Options{MaxCalls: -1})
	if err != nil {
		return double, errors.Join(bad, err)
	}
	if recs, err = j.Read(ctx, cutoverID, 0); err != nil {
		return double, errors.Join(bad, err)
	}
	p, err := buildPlan(planConfig{sc: c.sc, timing: controllerTiming}, newWorld(fake.MustNew(fake.Options{}), newMemLedger()))
	if err != nil {
		return double, errors.Join(bad, err)
	}
	if err := verify(c.sc, cloud, fileLedger{paths.tickets()}, recs, p, cutover.PhaseCompleted); err != nil {
		bad = errors.Join(bad, fmt.Errorf("%w (survivor: %s %s)", err, res.Phase, res.Err))
	}
	return double, bad
}

// TestTwoControllers runs two controller processes on one cutover, with
// the file journal and lease and with the DynamoDB ones.
func TestTwoControllers(t *testing.T) {
	runs := pick(2, 12)
	for _, store := range []string{"file", "dynamodb"} {
		t.Run(store, func(t *testing.T) {
			var table string
			if store == "dynamodb" {
				table = newDynamoTable(t, requireDynamo(t))
			}
			var (
				fails failures
				s     reliability.Summary
			)
			rng := rand.New(rand.NewPCG(uint64(len(store)), 3))
			start := time.Now()
			for i := 0; i < runs; i++ {
				tbl := table
				if store == "dynamodb" && i > 0 {
					tbl = newDynamoTable(t, requireDynamo(t))
				}
				double, err := twoControllers(t, store, tbl, rng)
				s.SplitBrainRuns++
				if double {
					s.DoubleDriven++
				}
				if err != nil {
					fails.add("%s run %d: %v", store, i+1, err)
				}
			}
			collected.add(s)
			collected.count("two_controllers_"+store+"_runs", float64(s.SplitBrainRuns))
			collected.count("two_controllers_"+store+"_double_driven", float64(s.DoubleDriven))
			t.Logf("%s: %d runs of two controllers in %v; double driven %d", store, s.SplitBrainRuns, time.Since(start).Round(time.Millisecond), s.DoubleDriven)
			fails.report(t, "two controllers on "+store)
		})
	}
}

// TestDynamoDBSurvivesAbortedRequest: a controller killed while a request
// to the DynamoDB server is on the wire must not take the server down for
// the other controllers (dynalite threw on such a request and exited; see
// tools/dynalite/guard.js).
func TestDynamoDBSurvivesAbortedRequest(t *testing.T) {
	client := requireDynamo(t)
	u, err := url.Parse(awstest.DynamoDBEndpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		body := `{"Limit": 10}`
		// Announce more body than is sent, wait until the server is reading
		// it, then reset the connection as a killed process's kernel does.
		fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: %d\r\n\r\n%s",
			u.Host, len(body)+5, body)
		time.Sleep(200 * time.Millisecond)
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	}
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("the DynamoDB server no longer answers after clients went away mid-request: %v", err)
	}
}

// journalStory is a short account of recs for a failure message.
func journalStory(recs []cutover.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "%d:%s", r.Seq, r.Type)
		if r.Stage != "" {
			fmt.Fprintf(&b, "(%s%s)", r.Action, r.Stage)
		}
		if r.Key != "" {
			fmt.Fprintf(&b, "[%s]", r.Key)
		}
		b.WriteByte(' ')
	}
	return b.String()
}
