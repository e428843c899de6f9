package managed_test

// The tests drive the real SDK clients against the simulated managed
// deployment services of awstest (awstest.Managed), served over HTTP on
// 127.0.0.1 by httptest in the awsJson1_1 wire protocol.
//
// Most tests run in a testing/synctest bubble. The server runs outside it
// (a listener inside would keep the bubble from ever being idle), so the
// client stamps each request with the bubble's time and the server moves
// the simulation's clock to it: the simulated services live in the test's
// fake time. Keep-alives are off so that no idle connection goroutine stays
// in the bubble.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
	"github.com/safecutover/safecutover/providers/providertest"
)

const simTimeHeader = "X-Sim-Time"

// env is one simulated AWS region for a test.
type env struct {
	sim    *awstest.Managed
	clock  *cutover.ManualClock
	url    string
	router *providertest.Router
}

// newEnv serves a new simulation on 127.0.0.1. Call it outside the
// synctest bubble.
func newEnv(t *testing.T) *env {
	t.Helper()
	clock := cutover.NewManualClock(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	e := &env{clock: clock, router: providertest.NewRouter(t, "blue", "green")}
	sim, err := awstest.NewManaged(awstest.ManagedOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	e.sim = sim
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(simTimeHeader); v != "" {
			if ts, err := time.Parse(time.RFC3339Nano, v); err == nil {
				clock.Set(ts)
			}
		}
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// stamp adds the caller's clock time to each request.
type stamp struct{ base http.RoundTripper }

func (s stamp) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(simTimeHeader, time.Now().UTC().Format(time.RFC3339Nano))
	return s.base.RoundTrip(r)
}

// testRetryer is the SDK's standard retryer with a tiny backoff and no
// retry quota, so that throttling tests are quick and deterministic.
func testRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 4
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		o.RateLimiter = ratelimit.None
	})
}

// clients returns real SDK clients for e. Call it inside the bubble, if
// there is one.
func (e *env) clients() (*codedeploy.Client, *ecs.Client) {
	hc := &http.Client{Transport: stamp{&http.Transport{DisableKeepAlives: true}}}
	cd := codedeploy.New(codedeploy.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: aws.AnonymousCredentials{},
		HTTPClient: hc, Retryer: testRetryer(),
	})
	ec := ecs.New(ecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: aws.AnonymousCredentials{},
		HTTPClient: hc, Retryer: testRetryer(),
	})
	return cd, ec
}

// latest returns the newest simulated deployment that is not a CodeDeploy
// rollback deployment, brought up to the caller's time.
func (e *env) latest(t *testing.T) awstest.ManagedDeployment {
	t.Helper()
	e.clock.Set(time.Now())
	var last awstest.ManagedDeployment
	for _, d := range e.sim.Deployments() {
		if d.RollbackOf == "" {
			last = d
		}
	}
	if last.ID == "" {
		t.Fatal("no deployment in the simulation")
	}
	return last
}

// maxGreen is a gate that fails once the router gives green more than max
// percent of the traffic while fail is set, and passes otherwise.
type weightGate struct {
	r    *providertest.Router
	fail int // fail at or above this green share; 0 never fails
}

func (g weightGate) Name() string { return "green error rate" }

func (g weightGate) Evaluate(context.Context) (cutover.Verdict, error) {
	if gr := g.r.Share("green"); g.fail > 0 && gr >= g.fail {
		return cutover.Verdict{Decision: cutover.Fail, Reason: "green 5xx rate 4.2% > 1%"}, nil
	}
	return cutover.Verdict{Decision: cutover.Pass, Reason: "green 5xx rate 0.1% ≤ 1%"}, nil
}

// dying is a journal that stops working once die returns true for a record
// it is asked to append — as if the process had been killed just then.
type dying struct {
	cutover.Journal
	mu   sync.Mutex
	dead bool
	die  func(cutover.Record) bool
}

var errKilled = errors.New("process killed")

func (j *dying) Append(ctx context.Context, id string, rec cutover.Record) error {
	j.mu.Lock()
	if !j.dead && j.die(rec) {
		j.dead = true
	}
	dead := j.dead
	j.mu.Unlock()
	if dead {
		return errKilled
	}
	return j.Journal.Append(ctx, id, rec)
}

func (j *dying) Read(ctx context.Context, id string, after uint64) ([]cutover.Record, error) {
	j.mu.Lock()
	dead := j.dead
	j.mu.Unlock()
	if dead {
		return nil, errKilled
	}
	return j.Journal.Read(ctx, id, after)
}

// runnerOpts are the runner options of the tests.
func runnerOpts() cutover.RunnerOptions {
	return cutover.RunnerOptions{PollInterval: 10 * time.Second, Actor: "deployer", RetryBackoff: time.Second}
}

// approve journals an approval of the next PNR for cutover id.
func approve(t *testing.T, j cutover.Journal, id string) {
	t.Helper()
	if err := cutover.Send(context.Background(), j, id, cutover.CmdApprove, "oncall", "healthy for an hour", ""); err != nil {
		t.Fatal(err)
	}
}

// approvingOpts returns runnerOpts with an observer that approves cutover
// id in j when the runner waits for an approval: a runner does not return
// with a reversibility window open, so the approval comes while it waits.
func approvingOpts(t *testing.T, j cutover.Journal, id string) cutover.RunnerOptions {
	o := runnerOpts()
	o.Observer = cutover.ObserverFunc(func(e cutover.Event) {
		if e.Type == cutover.EvWaitingApproval {
			approve(t, j, id)
		}
	})
	return o
}

// killedAt runs plan as cutover shop-2 on a new memory journal, kills the
// runner as it journals a record of type typ for stage, and returns the
// journal.
func killedAt(t *testing.T, plan cutover.Plan, typ cutover.RecordType, stage string) cutover.Journal {
	t.Helper()
	j := cutover.NewMemJournal()
	die := func(r cutover.Record) bool { return r.Type == typ && r.Stage == stage }
	if _, err := cutover.MustNewRunner(&dying{Journal: j, die: die}, runnerOpts()).Run(t.Context(), "shop-2", plan); !errors.Is(err, errKilled) {
		t.Fatalf("first run: %v, want it killed", err)
	}
	return j
}

// stageNames returns the names of p's stages.
func stageNames(p cutover.Plan) []string {
	var names []string
	for _, s := range p.Stages {
		names = append(names, s.Name)
	}
	return names
}

// data returns the value the stage named remembered under key.
func data(st cutover.State, stage, key string) string {
	for _, s := range st.Stages {
		if s.Name == stage {
			return s.Data[key]
		}
	}
	return ""
}

// shopEnv serves a new simulation (newEnv) with the shop deployment group
// of shopGroup under config. Call it outside the synctest bubble.
func shopEnv(t *testing.T, config string) *env {
	t.Helper()
	e := newEnv(t)
	must(t, e.sim.AddDeploymentGroup(shopGroup(e, config)))
	return e
}

// webEnv serves a new simulation (newEnv) with the web service of
// webService. Call it outside the synctest bubble.
func webEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	must(t, e.sim.AddService(webService(e)))
	return e
}

// cdStrategy returns the prepared CodeDeploy strategy of spec and its plan.
func cdStrategy(t *testing.T, cd managed.CodeDeployAPI, spec managed.CodeDeploySpec) (*managed.CodeDeploy, cutover.Plan) {
	t.Helper()
	s, err := newCodeDeploy(t.Context(), cd, spec, managed.Options{})
	return s, planOf(t, "shop release 2", s, err)
}

// cdPlan returns the plan of a CodeDeploy deployment of spec.
func cdPlan(t *testing.T, cd managed.CodeDeployAPI, spec managed.CodeDeploySpec) cutover.Plan {
	t.Helper()
	_, p := cdStrategy(t, cd, spec)
	return p
}

// ecsPlan returns the plan of an ECS native deployment of spec.
func ecsPlan(t *testing.T, ec managed.ECSDeploymentAPI, spec managed.ECSSpec) cutover.Plan {
	t.Helper()
	s, err := newECS(t.Context(), ec, spec, managed.Options{})
	return planOf(t, "web release 2", s, err)
}

// planOf returns the plan called name of strategy s, which was built with
// err; an error fails t.
func planOf(t *testing.T, name string, s cutover.Strategy, err error) cutover.Plan {
	t.Helper()
	must(t, err)
	p, err := cutover.Sequence(name, s)
	must(t, err)
	return p
}

// shopPlan returns the plan of the shop's CodeDeploy deployment, over
// real SDK clients for e, judged by a weightGate that fails at a green
// share of fail percent (0: never). Call it inside the bubble, if any.
func (e *env) shopPlan(t *testing.T, fail int) cutover.Plan {
	t.Helper()
	cd, _ := e.clients()
	return cdPlan(t, cd, shopSpec(weightGate{r: e.router, fail: fail}))
}

// webPlan returns the plan of the web service's ECS native deployment by
// strategy, as shopPlan does for CodeDeploy.
func (e *env) webPlan(t *testing.T, strategy ecstypes.DeploymentStrategy, fail int) cutover.Plan {
	t.Helper()
	_, ec := e.clients()
	return ecsPlan(t, ec, webSpec(strategy, weightGate{r: e.router, fail: fail}))
}

// calls fails t for each operation of want the simulation did not answer
// the number of times want says.
func (e *env) calls(t *testing.T, want map[string]int) {
	t.Helper()
	for op, n := range want {
		if got := e.sim.Calls(op); got != n {
			t.Errorf("%s called %d times, want %d", op, got, n)
		}
	}
}

// rolledBackKept fails t unless the newest CodeDeploy deployment was
// rolled back onto the original task set, kept, with no traffic on green.
func (e *env) rolledBackKept(t *testing.T) {
	t.Helper()
	if d := e.latest(t); d.BlueGone || !d.RolledBack || e.router.Share("green") != 0 {
		t.Errorf("deployment %+v, green %d%%; want rolled back onto the kept original", d, e.router.Share("green"))
	}
}

// newCodeDeploy builds a CodeDeploy strategy and prepares it, as a program
// does before it builds the plan.
func newCodeDeploy(ctx context.Context, client managed.CodeDeployAPI, spec managed.CodeDeploySpec, opts managed.Options) (*managed.CodeDeploy, error) {
	s, err := managed.NewCodeDeploy(client, spec, opts)
	return prepare(ctx, s, err)
}

// newECS builds an ECS native deployment strategy and prepares it.
func newECS(ctx context.Context, client managed.ECSDeploymentAPI, spec managed.ECSSpec, opts managed.Options) (*managed.ECS, error) {
	s, err := managed.NewECS(client, spec, opts)
	return prepare(ctx, s, err)
}

// prepare prepares s, which its constructor returned with err.
func prepare[S interface{ Prepare(context.Context) error }](ctx context.Context, s S, err error) (S, error) {
	if err == nil {
		err = s.Prepare(ctx)
	}
	if err != nil {
		var none S
		return none, err
	}
	return s, nil
}

// rejected fails t unless err is a constructor's or Prepare's refusal
// that says want, and is a *managed.SetupError (wrapping
// managed.ErrInvalidSetup) exactly when setup is set: the resources are
// not set up for the deployment, rather than the spec being bad.
func rejected(t *testing.T, err error, setup bool, want string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var se *managed.SetupError
	if errors.As(err, &se) != setup || errors.Is(err, managed.ErrInvalidSetup) != setup {
		t.Errorf("error %q: SetupError %v, want %v", err, !setup, setup)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
