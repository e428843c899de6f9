package managed_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
)

// shopAppSpec is an AppSpec of newTaskDef, as another process of the same
// cutover would have created the deployment with.
const shopAppSpec = `{"version":0.0,"Resources":[{"TargetService":{"Type":"AWS::ECS::Service","Properties":{"TaskDefinition":"` +
	newTaskDef + `","LoadBalancerInfo":{"ContainerName":"web","ContainerPort":8080}}}}]}`

// deploymentGate returns the gate that reports the deployment's own
// progress, from a CodeDeploy that did not create the deployment (so it
// finds it as a resumed process does).
func deploymentGate(t *testing.T, cd managed.CodeDeployAPI) cutover.Gate {
	t.Helper()
	s, err := newCodeDeploy(t.Context(), cd, shopSpec(), managed.Options{})
	must(t, err)
	st, err := s.Stages()
	must(t, err)
	for i, g := range st[0].Gates {
		if cutover.GateName(g, i) == "codedeploy deployment" {
			return g
		}
	}
	t.Fatal("no codedeploy deployment gate")
	return nil
}

// TestCodeDeployGatePerState reads a deployment through the SDK in each
// state the simulation reaches — installing, Ready, shifting, in its
// termination wait, Succeeded, Stopped, Failed — with the termination
// wait flag set as documented and left false as reported for ECS: only
// the termination wait passes, the end states fail, the rest are pending.
func TestCodeDeployGatePerState(t *testing.T) {
	type step struct {
		name string
		do   func(t *testing.T, e *env, cd *codedeploy.Client, id string)
		want cutover.Decision
		says string
	}
	sleep := func(d time.Duration) func(*testing.T, *env, *codedeploy.Client, string) {
		return func(*testing.T, *env, *codedeploy.Client, string) { time.Sleep(d) }
	}
	reroute := func(t *testing.T, _ *env, cd *codedeploy.Client, id string) {
		_, err := cd.ContinueDeployment(t.Context(), &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(id), DeploymentWaitType: cdtypes.DeploymentWaitTypeReadyWait})
		must(t, err)
	}
	pending, pass, fail := cutover.Pending, cutover.Pass, cutover.Fail
	common := []step{
		{"installing", sleep(0), pending, "InProgress: shifting"},
		{"Ready", sleep(2 * time.Minute), pending, "Ready: shifting"},
		{"shifting", reroute, pending, "InProgress: shifting"},
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"to the end", append(common[:len(common):len(common)],
			step{"termination wait", sleep(11 * time.Minute), pass, "original kept for the termination wait"},
			step{"Succeeded", sleep(time.Hour), fail, "succeeded"})},
		{"stopped", append(common[:len(common):len(common)],
			step{"Stopped", func(t *testing.T, _ *env, cd *codedeploy.Client, id string) {
				_, err := cd.StopDeployment(t.Context(), &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(true)})
				must(t, err)
			}, fail, "stopped"})},
		{"failed", append(common[:len(common):len(common)],
			step{"Failed", func(t *testing.T, e *env, _ *codedeploy.Client, id string) {
				e.clock.Set(time.Now())
				must(t, e.sim.FailDeployment(id, "5xx alarm"))
			}, fail, "failed"})},
	} {
		for _, flagOff := range []bool{false, true} {
			name := tc.name
			if flagOff {
				name += ", wait flag left false"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				g := shopGroup(e, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
				g.ManualReroute, g.TerminationWaitFlagOff = true, flagOff
				must(t, e.sim.AddDeploymentGroup(g))
				synctest.Test(t, func(t *testing.T) {
					cd, _ := e.clients()
					out, err := cd.CreateDeployment(t.Context(), &codedeploy.CreateDeploymentInput{
						ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("shop-prod"),
						Description: aws.String("safecutover 946684800-test"),
						Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
							AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(shopAppSpec)}},
					})
					must(t, err)
					id := aws.ToString(out.DeploymentId)
					gate := deploymentGate(t, cd)
					reads := func() int { return e.sim.Calls("GetDeployment") + e.sim.Calls("GetDeploymentTarget") }
					for k, s := range tc.steps {
						s.do(t, e, cd, id)
						before := reads()
						v, err := gate.Evaluate(t.Context())
						// One GetDeployment a poll; the target is read too
						// only while the deployment is InProgress.
						wantReads := 1
						if v.Decision == pending && s.name != "Ready" || v.Decision == pass {
							wantReads = 2
						}
						if n := reads() - before; k > 0 && n != wantReads {
							t.Errorf("%s: %d reads for one evaluation, want %d", s.name, n, wantReads)
						}
						if k > 0 {
							t.Logf("%s: %d reads", s.name, reads()-before)
						}
						if err != nil {
							t.Fatalf("%s: Evaluate: %v", s.name, err)
						}
						says := strings.ReplaceAll(s.says, ": shifting", "")
						if v.Decision != s.want || !strings.Contains(strings.ToLower(v.Reason), strings.ToLower(says)) {
							t.Errorf("%s: verdict %s %q, want %s saying %q", s.name, v.Decision, v.Reason, s.want, says)
						}
						info, err := cd.GetDeployment(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
						must(t, err)
						waited := s.name == "termination wait" || s.name == "Succeeded"
						if flag := info.DeploymentInfo.InstanceTerminationWaitTimeStarted; flag != (waited && !flagOff) {
							t.Errorf("%s: instanceTerminationWaitTimeStarted %t on the wire", s.name, flag)
						}
					}
				})
			})
		}
	}
}

// TestCodeDeployWaitFlagLeftFalse: with instanceTerminationWaitTimeStarted
// left false, as CodeDeploy is reported to for ECS, the termination wait
// and when it began are read from the ECS target's lifecycle events: the
// runner declares the window and stops for want of an approval, and a
// runner resumed 20 minutes into the wait refuses to vouch for it.
func TestCodeDeployWaitFlagLeftFalse(t *testing.T) {
	for _, resumedLate := range []bool{false, true} {
		t.Run(map[bool]string{false: "declared", true: "resumed late"}[resumedLate], func(t *testing.T) {
			e := newEnv(t)
			g := shopGroup(e, "CodeDeployDefault.ECSAllAtOnce")
			g.TerminationWaitFlagOff = true
			must(t, e.sim.AddDeploymentGroup(g))
			synctest.Test(t, func(t *testing.T) {
				cd, _ := e.clients()
				plan := cdPlan(t, cd, shopSpec(weightGate{r: e.router}))
				if !resumedLate {
					j := cutover.NewMemJournal()
					st, err := cutover.MustNewRunner(j, approvingOpts(t, j, "shop-2")).Run(t.Context(), "shop-2", plan)
					if err != nil || st.Phase != cutover.PhaseCompleted {
						t.Fatalf("run: %s, %v; want completed with the window declared and approved", st.Phase, err)
					}
					if d := e.latest(t); d.BlueGone {
						t.Errorf("deployment %+v, want the original kept until the wait runs out", d)
					}
					return
				}
				j := killedAt(t, plan, cutover.RecIntent, "codedeploy termination wait")
				time.Sleep(20 * time.Minute)
				_, err := cutover.MustNewRunner(j, runnerOpts()).Run(t.Context(), "shop-2", plan)
				if !errors.Is(err, cutover.ErrRolledBack) || !errors.Is(err, managed.ErrWindowUnknown) {
					t.Fatalf("resumed run: %v, want rolled back for an unknown window", err)
				}
			})
		})
	}
}

// holding serves the simulation in process, holding the first n calls
// of op until the caller gives up on them.
type holding struct {
	e  *env
	mu sync.Mutex
	op string
	n  int
}

func (h *holding) Do(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	hold := strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+h.op) && h.n > 0
	if hold {
		h.n--
	}
	h.mu.Unlock()
	if hold {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	h.e.clock.Set(time.Now())
	rec := httptest.NewRecorder()
	h.e.sim.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestManagedCallTimeout: a CodeDeploy call held by the service is
// abandoned after Options.CallTimeout and retried by the SDK's retryer,
// so NewCodeDeploy returns after about one timeout; a negative
// CallTimeout is refused naming the field.
func TestManagedCallTimeout(t *testing.T) {
	e := shopEnv(t, "")
	synctest.Test(t, func(t *testing.T) {
		h := &holding{e: e, op: "GetDeploymentGroup", n: 1}
		cd := codedeploy.New(codedeploy.Options{
			Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), Credentials: aws.AnonymousCredentials{},
			HTTPClient: h, Retryer: testRetryer(),
		})
		start := time.Now()
		if _, err := newCodeDeploy(context.Background(), cd, shopSpec(), managed.Options{CallTimeout: 5 * time.Second}); err != nil {
			t.Fatalf("NewCodeDeploy with a held GetDeploymentGroup: %v", err)
		}
		if el := time.Since(start); el < 5*time.Second || el > 6*time.Second {
			t.Errorf("NewCodeDeploy took %s, want one call timeout (5s)", el)
		}
		if n := e.sim.Calls("GetDeploymentGroup"); n != 1 {
			t.Errorf("GetDeploymentGroup answered %d times, want 1 (the held attempt retried)", n)
		}
		// The default bounds an attempt too.
		h.n = 1
		start = time.Now()
		if _, err := newCodeDeploy(context.Background(), cd, shopSpec(), managed.Options{}); err != nil {
			t.Fatalf("NewCodeDeploy with a held GetDeploymentGroup: %v", err)
		}
		if el := time.Since(start); el < managed.DefaultCallTimeout || el > managed.DefaultCallTimeout+time.Second {
			t.Errorf("NewCodeDeploy took %s, want DefaultCallTimeout %s", el, managed.DefaultCallTimeout)
		}
	})
	_, err := newCodeDeploy(t.Context(), nil, shopSpec(), managed.Options{CallTimeout: -time.Second})
	if err == nil {
		t.Fatal("nil client accepted")
	}
	cd, _ := e.clients()
	_, err = newCodeDeploy(t.Context(), cd, shopSpec(), managed.Options{CallTimeout: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "Options.CallTimeout: -1s is negative, want ≥ 0 (0 means the default)") {
		t.Errorf("negative CallTimeout: %v", err)
	}
}
