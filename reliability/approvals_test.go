package reliability_test

// Approvals and identity: the point of no return is never crossed without a
// journaled approval (every run of the suite checks its journal for that;
// these tests check the rules one by one), the initiator cannot approve
// under the two-person rule, approvals record who and why; and logs at
// debug level never contain the AWS credentials in the environment, with
// the AWS provider talking to a local endpoint through the real SDK.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/internal/syncbuf"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/fake"
)

// TestApprovals walks the migration to the PNR and tries to cross it every
// way it must not be crossed, then the way it may: with names typed into
// the journal, and with approvers configured, where every command is
// signed and a forged one is refused too.
func TestApprovals(t *testing.T) {
	t.Run("names", func(t *testing.T) { testApprovals(t, false) })
	t.Run("approvers", func(t *testing.T) { testApprovals(t, true) })
}

func testApprovals(t *testing.T, signed bool) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cloud, led, w, mem := bubbleWorld()
		p, err := buildPlan(planConfig{sc: scMigration, timing: bubbleTiming}, w)
		if err != nil {
			t.Fatal(err)
		}
		opts := runnerOptions(bubbleTiming, nil) // TwoPerson, initiator
		send := func(ctx context.Context, j cutover.Journal, id string, cmd cutover.Command, actor, reason, stage string) error {
			return cutover.Send(ctx, j, id, cmd, actor, reason, stage)
		}
		// sign signs a record written past Send, as another tool would.
		sign := func(rec, start cutover.Record) cutover.Record { return rec }
		if signed {
			keys := newApprovers(t)
			sign = func(rec, start cutover.Record) cutover.Record {
				if err := cutover.SignCommand(ctx, keys.signers[rec.Actor], cutoverID, cutover.PlanHash(start), &rec); err != nil {
					t.Fatal(err)
				}
				return rec
			}
			opts.Approvers, opts.Signer = keys.approvers, keys.signers[initiator]
			send = func(ctx context.Context, j cutover.Journal, id string, cmd cutover.Command, actor, reason, stage string) error {
				s := keys.signers[actor]
				if s == nil {
					return fmt.Errorf("no key for %q", actor)
				}
				_, err := cutover.SendSigned(ctx, j, id, cmd, actor, reason, stage, s)
				return err
			}
		}
		run := func() (cutover.State, error) { return cutover.MustNewRunner(mem, opts).Run(ctx, cutoverID, p) }
		stillWarm := func(when string) {
			t.Helper()
			if err := checkCloud(cloud, scMigration, expWaiting); err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			recs, err := mem.Read(ctx, cutoverID, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Type == cutover.RecIntent && r.Stage == "retire blue" {
					t.Fatalf("%s: retire blue has an apply intent at seq %d", when, r.Seq)
				}
			}
		}

		// No approval: the runner stops before the PNR.
		if _, err := run(); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("without approval: %v, want ErrPNRNotApproved", err)
		}
		stillWarm("without approval")

		// An approval must say who.
		if err := send(ctx, mem, cutoverID, cutover.CmdApprove, "", "no name", ""); err == nil {
			t.Error("Send accepted an approval without an actor")
		}
		// The initiator's own approval does not count: Send refuses it,
		// and written by another tool the runner refuses it too.
		if err := send(ctx, mem, cutoverID, cutover.CmdApprove, initiator, "looks fine to me", ""); err == nil {
			t.Error("Send accepted the initiator's approval under the two-person rule")
		}
		if recs, err := mem.Read(ctx, cutoverID, 0); err != nil {
			t.Fatal(err)
		} else if err := mem.Append(ctx, cutoverID, sign(cutover.Record{Seq: recs[len(recs)-1].Seq + 1, Type: cutover.RecCommand, Time: time.Now(),
			Command: cutover.CmdApprove, Actor: initiator, Reason: "looks fine to me"}, recs[0])); err != nil {
			t.Fatal(err)
		}
		if _, err := run(); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("approved by the initiator under the two-person rule: %v, want ErrPNRNotApproved", err)
		}
		stillWarm("approved by the initiator")
		if signed {
			// The initiator's key signing under the approver's name.
			// Send refuses it (the start's key under the two-person
			// rule); written past Send, the runner refuses it.
			if _, err := cutover.SendSigned(ctx, mem, cutoverID, cutover.CmdApprove, approver, "forged", "retire blue", opts.Signer); err == nil {
				t.Error("Send accepted an approval signed with the initiator's key")
			}
			recs, err := mem.Read(ctx, cutoverID, 0)
			if err != nil {
				t.Fatal(err)
			}
			forged := cutover.Record{Seq: recs[len(recs)-1].Seq + 1, Type: cutover.RecCommand, Time: time.Now(),
				Command: cutover.CmdApprove, Actor: approver, Reason: "forged", Stage: "retire blue"}
			if err := cutover.SignCommand(ctx, opts.Signer, cutoverID, cutover.PlanHash(recs[0]), &forged); err != nil {
				t.Fatal(err)
			}
			if err := mem.Append(ctx, cutoverID, forged); err != nil {
				t.Fatal(err)
			}
			if _, err := run(); !errors.Is(err, cutover.ErrPNRNotApproved) {
				t.Fatalf("approval forged under %s's name: %v, want ErrPNRNotApproved", approver, err)
			}
			stillWarm("approval forged under another name")
		}
		// An approval of another stage does not count.
		if err := send(ctx, mem, cutoverID, cutover.CmdApprove, approver, "for the canary only", "canary 50%"); err != nil {
			t.Fatal(err)
		}
		if _, err := run(); !errors.Is(err, cutover.ErrPNRNotApproved) {
			t.Fatalf("approved for another stage: %v, want ErrPNRNotApproved", err)
		}
		stillWarm("approved for another stage")
		// Someone else approves, saying why: the runner crosses the PNR.
		const why = "green served 100% for 30m with 0.4% 5xx; blue kept warm"
		if err := send(ctx, mem, cutoverID, cutover.CmdApprove, approver, why, "retire blue"); err != nil {
			t.Fatal(err)
		}
		st, err := run()
		if err != nil {
			t.Fatalf("approved by %s: %v", approver, err)
		}
		tr := cutover.Track(p, st, time.Now())
		if !tr.Approved || tr.ApprovedBy != approver || tr.ApprovalReason != why || !tr.Crossed {
			t.Errorf("tracker: %+v, want crossed, approved by %s because %q", tr, approver, why)
		}
		recs, err := mem.Read(ctx, cutoverID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(scMigration, cloud, led, recs, p, cutover.PhaseCompleted); err != nil {
			t.Error(err)
		}
		// The approval is in the journal with who and why, before the
		// retire's intent.
		approvedAt, retiredAt := uint64(0), uint64(0)
		for _, r := range recs {
			if r.Type == cutover.RecCommand && r.Command == cutover.CmdApprove && r.Actor == approver && r.Reason == why {
				approvedAt = r.Seq
			}
			if r.Type == cutover.RecIntent && r.Stage == "retire blue" {
				retiredAt = r.Seq
			}
		}
		if signed {
			// The initiator's approvals, own and forged, were refused
			// with the reason journaled; the approver's were taken.
			for _, r := range recs {
				if r.Type != cutover.RecAck || r.Command != cutover.CmdApprove {
					continue
				}
				cmd := recs[r.Ref-1]
				byInitiator := cmd.Signed != nil && cmd.Signed.Key == keyOf(opts.Signer)
				if refused := strings.HasPrefix(r.Error, "refused: "); refused != byInitiator {
					t.Errorf("approval seq %d by key of %s (initiator's: %v) answered %q", r.Ref, cmd.Actor, byInitiator, r.Error)
				}
			}
		}
		if approvedAt == 0 || retiredAt < approvedAt {
			t.Errorf("approval at seq %d, retire intent at seq %d: want the approval, with who and why, first", approvedAt, retiredAt)
		}
	})
}

// Marker credentials: the tests put them in the environment and look for
// them in the logs.
const (
	markerKeyID  = "AKIAMARKERKEYID0RELY"
	markerSecret = "markerSECRETdoNotLog/0123456789abcdefRELY"
	markerToken  = "markerSESSIONtokenDoNotLog0123456789RELY"
)

// authSeen records the credentials of every request to an AWS fake.
type authSeen struct {
	mu   sync.Mutex
	auth []string
	next http.Handler
}

func (s *authSeen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.auth = append(s.auth, r.Header.Get("Authorization")+" "+r.Header.Get("X-Amz-Security-Token"))
	s.mu.Unlock()
	s.next.ServeHTTP(w, r)
}

// TestLogsHoldNoCredentials runs cutovers with every logger at debug level
// and AWS credentials in the environment — the migration on the fake cloud,
// and a canary through the AWS provider's ALB router (the real SDK, signing
// with those credentials, against a local endpoint that throttles once),
// journaled to DynamoDB (dynalite) when it is there — and checks that the
// logs hold none of the credentials.
func TestLogsHoldNoCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", markerKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", markerSecret)
	t.Setenv("AWS_SESSION_TOKEN", markerToken)
	t.Setenv("AWS_REGION", "eu-west-1")
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_PROFILE", "")

	var logs syncbuf.Buffer
	enc := zap.NewProductionEncoderConfig()
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), &logs, zap.DebugLevel))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	// The SDK's usual way: credentials and region from the environment.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := cfg.Credentials.Retrieve(ctx); err != nil || c.AccessKeyID != markerKeyID {
		t.Fatalf("credentials from the environment: %v (key %q)", err, c.AccessKeyID)
	}

	// The migration on the fake cloud, every part logging at debug.
	clock, err := cutover.NewScaledClock(time.Time{}, 1e5)
	if err != nil {
		t.Fatal(err)
	}
	cloud := fake.MustNew(fake.Options{Clock: clock, Logger: log})
	w := newWorld(cloud, newMemLedger())
	p, err := buildPlan(planConfig{sc: scMigration, timing: timing{bake: time.Minute, warm: time.Minute, poll: 10 * time.Second, verify: time.Second}, clock: clock}, w)
	if err != nil {
		t.Fatal(err)
	}
	fj, err := cutover.NewFileJournal(t.TempDir(), cutover.FileJournalOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	opts := runnerOptions(timing{poll: 10 * time.Second}, clock)
	opts.Logger = log
	if _, err := drive(ctx, fj, opts, p, nil, nil); err != nil {
		t.Fatalf("migration: %v", err)
	}

	// A canary through the real SDK against a local ELB endpoint.
	fakeELB := awstest.NewELB()
	fakeELB.FailNext("ModifyListener", 1, awstest.Throttling)
	srv := &authSeen{next: fakeELB}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	elb := elbv2.NewFromConfig(cfg, func(o *elbv2.Options) { o.BaseEndpoint = aws.String(hs.URL); o.Region = awstest.Region })
	router, err := awsprovider.NewALBRouter(elb, awstest.ListenerARN, map[string]string{"blue": awstest.BlueTG, "green": awstest.GreenTG}, awsprovider.ALBOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	c, err := canary.New(router, canary.Options{Steps: canary.Weights(10, 100), Bake: time.Minute,
		Gates: []cutover.Gate{greenGate{share: func(scenario) int { return 0 }}}, VerifyInterval: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := cutover.Sequence("aws-canary", c)
	if err != nil {
		t.Fatal(err)
	}
	var j cutover.Journal = fj
	var lease cutover.Lease
	journaled := "the file journal"
	ep, err := awstest.LocalDynamoDB()
	if err != nil && !errors.Is(err, awstest.ErrNoDynamoDB) {
		t.Fatal(err)
	}
	if err == nil {
		ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ep) })
		table := newDynamoTable(t, ddb)
		if j, err = awsprovider.NewDynamoDBJournal(ddb, table, awsprovider.DynamoDBJournalOptions{Logger: log}); err != nil {
			t.Fatal(err)
		}
		if lease, err = awsprovider.NewDynamoDBLease(ddb, table, awsprovider.DynamoDBLeaseOptions{Logger: log}); err != nil {
			t.Fatal(err)
		}
		journaled = "the DynamoDB journal and lease"
	}
	copts := opts
	copts.Lease = lease
	if st, err := cutover.MustNewRunner(j, copts).Run(ctx, "aws-canary", cp); err != nil || st.Phase != cutover.PhaseCompleted {
		t.Fatalf("canary on the ALB: %s: %v", st.Phase, err)
	}
	if got := fakeELB.WeightAt(awstest.ListenerARN, awstest.GreenTG, time.Now()); got != 100 {
		t.Errorf("green's ALB weight %d, want 100", got)
	}

	// The credentials were used: the endpoint saw the key ID and token.
	srv.mu.Lock()
	seen := strings.Join(srv.auth, "\n")
	srv.mu.Unlock()
	if !strings.Contains(seen, markerKeyID) || !strings.Contains(seen, markerToken) {
		t.Fatalf("the ELB endpoint never saw the credentials; the test proves nothing")
	}
	out := logs.String()
	if fakeELB.Calls("ModifyListener") < 2 || !strings.Contains(out, `"level":"debug"`) || !strings.Contains(out, "weights set") {
		t.Fatalf("the logs lack the debug lines and the ALB router's lines the test relies on (%d bytes)", len(out))
	}
	var leaked []string
	for _, m := range []string{markerKeyID, markerSecret, markerToken} {
		if strings.Contains(out, m) {
			leaked = append(leaked, m)
		}
	}
	if len(leaked) > 0 {
		i := strings.Index(out, leaked[0])
		t.Errorf("the logs contain credentials %q, e.g. …%s…", leaked, out[max(0, i-200):min(len(out), i+100)])
	}
	lines := strings.Count(out, "\n")
	collected.figure("credential_log_lines_checked", float64(lines))
	t.Logf("%d log lines at debug level (runner, fake cloud, file journal, ALB router over the real SDK, %s): no credentials", lines, journaled)
}
