package reliability_test

// Hostile input: canary schedules, rolling options, ELB ARNs given to the
// AWS provider's constructors, ALB weight maps read from and written to a
// listener, DynamoDB journal items, and journals whose records were
// reordered, duplicated, dropped or altered. TestHostileInputs runs every
// check over inputs from a seeded generator, counting the inputs and the
// panics. The checks no other package fuzzes — weight mapping, DynamoDB
// journal items, damaged journals — are also fuzz targets here (seed corpus
// in testdata/fuzz); plan validation and file journal decoding (cutover),
// schedules (canary), rolling options (rolling) and ARN parsing
// (awsprovider) are fuzzed in their own packages, and the command
// reliability/cmd/reliability runs all of them.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/reliability"
	"github.com/safecutover/safecutover/rolling"
)

// hostileCloud provides routers and fleets the checks construct
// strategies over; no check calls them.
var hostileCloud = fake.MustNew(fake.Options{})

// nameOK reports whether err says what is wrong: it starts with the
// component and mentions one of the words.
func nameOK(err error, prefix string, words ...string) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return fmt.Errorf("error %q does not start with %q", msg, prefix)
	}
	for _, w := range words {
		if strings.Contains(msg, w) {
			return nil
		}
	}
	return fmt.Errorf("error %q names none of %q", msg, words)
}

// checkSchedule builds a canary from hostile options: either New fails
// with an error naming the option, or the schedule is sound — weights in
// 1–100, strictly increasing, within the cap, a generated ramp ending at the
// cap — and makes a valid plan.
func checkSchedule(steps []byte, linear, start, capW int, factor float64, pauseAt int, bake, deadline int64) error {
	opts := canary.Options{Linear: linear, Factor: factor, Start: start, Cap: capW,
		Bake: time.Duration(bake), Deadline: time.Duration(deadline), VerifyAttempts: 1}
	for _, b := range steps {
		opts.Steps = append(opts.Steps, canary.Step{Weight: int(int8(b))})
	}
	if pauseAt != 0 {
		opts.PauseAt = []int{pauseAt}
	}
	c, err := canary.New(hostileCloud.Router("alb", "blue", "green"), opts)
	if err != nil {
		return nameOK(err, "canary: ", "Options.")
	}
	s := c.Schedule()
	top := capW
	if top == 0 {
		top = 100
	}
	if len(s) == 0 {
		return errors.New("empty schedule accepted")
	}
	for i, w := range s {
		if w < 1 || w > top || i > 0 && w <= s[i-1] {
			return fmt.Errorf("schedule %v (cap %d) accepted: weight %d at step %d", s, top, w, i)
		}
	}
	if (linear != 0 || factor != 0) && s[len(s)-1] != top {
		return fmt.Errorf("generated schedule %v does not end at the cap %d", s, top)
	}
	if len(steps) > 0 {
		for i, b := range steps {
			if s[i] != int(int8(b)) {
				return fmt.Errorf("schedule %v is not the steps %v", s, steps)
			}
		}
	}
	p, err := cutover.Sequence("fuzz", c)
	if err != nil {
		return fmt.Errorf("a canary New accepted makes an invalid plan: %w", err)
	}
	if len(p.Stages) != len(s) {
		return fmt.Errorf("%d stages for schedule %v", len(p.Stages), s)
	}
	return nil
}

// checkRolling builds a rolling cutover from hostile options: either New
// fails naming the option, or the batches grow to desired in steps of at
// most the batch size and make a valid plan.
func checkRolling(desired, size, pct, surge, unavail int) error {
	r, err := rolling.New(hostileCloud.Fleet("blue", 0), hostileCloud.Fleet("green", 0), desired,
		rolling.Options{BatchSize: size, BatchPercent: pct, MaxSurge: surge, MaxUnavailable: unavail})
	if err != nil {
		return nameOK(err, "rolling: ", "Options.", "desired")
	}
	b := r.Batches()
	if len(b) == 0 || b[len(b)-1] != desired {
		return fmt.Errorf("batches %v do not end at desired %d", b, desired)
	}
	for i, g := range b {
		if g < 1 || i > 0 && g <= b[i-1] {
			return fmt.Errorf("batches %v: batch %d does not grow", b, i)
		}
	}
	p, err := cutover.Sequence("fuzz", r)
	if err != nil {
		return fmt.Errorf("a rolling cutover New accepted makes an invalid plan: %w", err)
	}
	if len(p.Stages) != len(b) {
		return fmt.Errorf("%d stages for %d batches", len(p.Stages), len(b))
	}
	return nil
}

// A sound listener and target groups, the starting point of the ARN
// mutations.
const (
	listenerARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
	ruleARN     = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	lbARN       = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188"
	blueTG      = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue/73e2d6bc24d8a067"
	greenTG     = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/green/4e2d6bc24d8a0673"
	otherTG     = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/other/2d6bc24d8a06734e"
)

// stubELB is an ALB API that serves one listener's or rule's actions and
// records what is written. It serves the rule on DescribeRules.
type stubELB struct {
	actions []elbtypes.Action
	written []elbtypes.Action
}

func (s *stubELB) DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	return &elbv2.DescribeListenersOutput{Listeners: []elbtypes.Listener{{ListenerArn: aws.String(listenerARN), DefaultActions: s.actions}}}, nil
}

func (s *stubELB) ModifyListener(_ context.Context, in *elbv2.ModifyListenerInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	s.written = in.DefaultActions
	return &elbv2.ModifyListenerOutput{Listeners: []elbtypes.Listener{{ListenerArn: in.ListenerArn, DefaultActions: in.DefaultActions}}}, nil
}

func (s *stubELB) DescribeRules(context.Context, *elbv2.DescribeRulesInput, ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error) {
	return &elbv2.DescribeRulesOutput{Rules: []elbtypes.Rule{{RuleArn: aws.String(ruleARN), Actions: s.actions, IsDefault: aws.Bool(false)}}}, nil
}

func (s *stubELB) ModifyRule(_ context.Context, in *elbv2.ModifyRuleInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error) {
	s.written = in.Actions
	return &elbv2.ModifyRuleOutput{Rules: []elbtypes.Rule{{RuleArn: in.RuleArn, Actions: in.Actions}}}, nil
}

// checkARNs builds an ALB router and an ALB metric source from hostile
// ARNs: either the constructor fails naming the ARN at fault, or the ARNs
// are what they must be.
func checkARNs(arn, tg1, tg2 string) error {
	targets := map[string]string{"blue": tg1, "green": tg2}
	r, err := awsprovider.NewALBRouter(&stubELB{}, arn, targets, awsprovider.ALBOptions{})
	if err != nil {
		// It names the ARN at fault, or says which kind of ARN it wants.
		if err := nameOK(err, "alb router", "ARN", "target", arn, fmt.Sprintf("%q", arn)); err != nil {
			return err
		}
	} else {
		if r.ARN() != arn {
			return fmt.Errorf("router ARN %q, built from %q", r.ARN(), arn)
		}
		if !strings.HasPrefix(arn, "arn:aws") || !strings.Contains(arn, ":elasticloadbalancing:") ||
			!strings.Contains(arn, ":listener/app/") && !strings.Contains(arn, ":listener-rule/app/") {
			return fmt.Errorf("NewALBRouter accepted %q, which is not an ALB listener or rule ARN", arn)
		}
		for _, tg := range []string{tg1, tg2} {
			if !strings.Contains(tg, ":targetgroup/") {
				return fmt.Errorf("NewALBRouter accepted target group %q", tg)
			}
		}
		if tg1 == tg2 {
			return fmt.Errorf("NewALBRouter accepted the same target group %q for two targets", tg1)
		}
	}
	if _, err := awsprovider.NewALBMetricSource(nil, arn, targets, awsprovider.ALBMetricsOptions{}); err != nil {
		if !strings.Contains(err.Error(), "ARN") && !strings.Contains(err.Error(), "target") && !strings.Contains(err.Error(), "client") {
			return fmt.Errorf("metric source error %q names no ARN or target", err)
		}
	}
	return nil
}

// checkALBWeights serves a forward action with hostile target groups and
// weights: Weights either fails naming the listener or returns shares that
// are exactly the ALB weights' proportions; SetWeights of a hostile map
// either fails naming the weights or writes exactly them, leaving other
// target groups as they were.
func checkALBWeights(raw []int32, which []byte, blue, green int) error {
	tgs := []string{blueTG, greenTG, otherTG, ""}
	var tuples []elbtypes.TargetGroupTuple
	for i, w := range raw {
		k := 0
		if i < len(which) {
			k = int(which[i]) % len(tgs)
		}
		t := elbtypes.TargetGroupTuple{Weight: aws.Int32(w)}
		if tgs[k] != "" {
			t.TargetGroupArn = aws.String(tgs[k])
		}
		tuples = append(tuples, t)
	}
	stub := &stubELB{actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: tuples}}}}
	r, err := awsprovider.NewALBRouter(stub, listenerARN, map[string]string{"blue": blueTG, "green": greenTG}, awsprovider.ALBOptions{})
	if err != nil {
		return fmt.Errorf("sound router refused: %w", err)
	}
	ctx := context.Background()
	w, err := r.Weights(ctx)
	if err != nil {
		if !strings.Contains(err.Error(), listenerARN) {
			return fmt.Errorf("Weights error %q does not name the listener", err)
		}
	} else {
		if err := w.Validate(); err != nil {
			return fmt.Errorf("Weights returned %s: %w", w, err)
		}
		// Exactly the proportions: the last tuple for a target group wins
		// in neither SDK nor ALB, so only claim it with one tuple each.
		var sum int64
		rw := map[string]int64{}
		count := map[string]int{}
		// Other target groups' weights are 0 or less here, or Weights
		// would have failed; the shares are those of blue and green.
		for _, t := range tuples {
			wt := int64(aws.ToInt32(t.Weight))
			switch aws.ToString(t.TargetGroupArn) {
			case blueTG:
				rw["blue"] = wt
				count["blue"]++
			case greenTG:
				rw["green"] = wt
				count["green"]++
			}
		}
		sum = rw["blue"] + rw["green"]
		if count["blue"] <= 1 && count["green"] <= 1 {
			for _, n := range []string{"blue", "green"} {
				if int64(w[n])*sum != rw[n]*100 {
					return fmt.Errorf("weights %v read from tuples %v: %s is %d%%, its ALB weight %d of %d", w, raw, n, w[n], rw[n], sum)
				}
			}
		}
	}
	want := providers.Weights{"blue": blue, "green": green}
	err = r.SetWeights(ctx, want)
	if err != nil {
		if want.Validate() == nil && !strings.Contains(err.Error(), listenerARN) {
			return fmt.Errorf("SetWeights(%s) error %q does not name the listener", want, err)
		}
		return nil
	}
	if want.Validate() != nil {
		return fmt.Errorf("SetWeights accepted %s", want)
	}
	if len(stub.written) == 0 {
		// The router writes nothing when the listener already forwards
		// with these weights (it describes it before every write).
		if cur, err := r.Weights(ctx); err == nil && cur.Equal(want) {
			return nil
		}
	}
	if len(stub.written) != 1 || stub.written[0].ForwardConfig == nil {
		return fmt.Errorf("SetWeights wrote %d actions", len(stub.written))
	}
	got := map[string]int32{}
	for _, t := range stub.written[0].ForwardConfig.TargetGroups {
		got[aws.ToString(t.TargetGroupArn)] = aws.ToInt32(t.Weight)
	}
	if got[blueTG] != int32(blue) || got[greenTG] != int32(green) {
		return fmt.Errorf("SetWeights(%s) wrote blue %d green %d", want, got[blueTG], got[greenTG])
	}
	return nil
}

// stubDynamo serves one page of hostile items to Query.
type stubDynamo struct {
	items []map[string]ddbtypes.AttributeValue
}

func (s *stubDynamo) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

func (s *stubDynamo) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}

func (s *stubDynamo) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{Items: s.items}, nil
}

// checkDynamoRead reads hostile items through the DynamoDB journal:
// either Read fails with ErrCorruptJournal naming the table, or it returns
// every item as a record, in sequence. seqs and bodies make the items: a
// seq as text (or no attribute when it is "-") and a record body.
func checkDynamoRead(seqs []string, bodies []string) error {
	stub := &stubDynamo{}
	for i, s := range seqs {
		item := map[string]ddbtypes.AttributeValue{awsprovider.JournalPartitionKey: &ddbtypes.AttributeValueMemberS{Value: "c"}}
		if s != "-" {
			item[awsprovider.JournalSortKey] = &ddbtypes.AttributeValueMemberN{Value: s}
		}
		if i < len(bodies) {
			item["record"] = &ddbtypes.AttributeValueMemberS{Value: bodies[i]}
		}
		stub.items = append(stub.items, item)
	}
	j, err := awsprovider.NewDynamoDBJournal(stub, "journal", awsprovider.DynamoDBJournalOptions{})
	if err != nil {
		return err
	}
	recs, err := j.Read(context.Background(), "c", 0)
	if err != nil {
		if !errors.Is(err, cutover.ErrCorruptJournal) || !strings.Contains(err.Error(), "journal") {
			return fmt.Errorf("Read error %q is not a corrupt-journal error naming the journal", err)
		}
		return nil
	}
	if len(recs) != len(stub.items) {
		return fmt.Errorf("Read returned %d records from %d items: one was dropped", len(recs), len(stub.items))
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			return fmt.Errorf("record %d has seq %d", i, r.Seq)
		}
	}
	if _, err := cutover.Fold("c", recs); err != nil && !errors.Is(err, cutover.ErrCorruptJournal) {
		return fmt.Errorf("Fold of what Read returned: %w", err)
	}
	return nil
}

// soundJournal is the journal of a completed two-stage cutover.
func soundJournal() []cutover.Record {
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	recs := []cutover.Record{
		{Type: cutover.RecStart, Plan: "p", Stages: []string{"a", "b"}, Actor: initiator},
		{Type: cutover.RecIntent, Stage: "a", Index: 0, Action: "apply"},
		{Type: cutover.RecData, Stage: "a", Index: 0, Key: "k", Value: "v"},
		{Type: cutover.RecApplied, Stage: "a", Index: 0},
		{Type: cutover.RecVerdict, Stage: "a", Index: 0, Gate: "g", Verdict: &cutover.Verdict{Decision: cutover.Pass, Reason: "ok"}},
		{Type: cutover.RecBaked, Stage: "a", Index: 0},
		{Type: cutover.RecCommand, Command: cutover.CmdApprove, Actor: approver, Reason: "fine"},
		{Type: cutover.RecIntent, Stage: "b", Index: 1, Action: "apply"},
		{Type: cutover.RecApplied, Stage: "b", Index: 1},
		{Type: cutover.RecBaked, Stage: "b", Index: 1},
		{Type: cutover.RecCompleted},
	}
	for i := range recs {
		recs[i].Seq = uint64(i + 1)
		recs[i].Time = t0.Add(time.Duration(i) * time.Minute)
	}
	return recs
}

// checkFold damages a sound journal — op 0 swaps records i and k, 1
// duplicates i, 2 drops i, 3 changes i's stage index to k, 4 its stage
// name, 5 its type, 6 its action, 7 its command, 8 its seq — and folds it:
// either Fold fails with ErrCorruptJournal naming the seq, or the journal
// is still sound and Fold kept every record.
func checkFold(op uint8, i, k uint8, s string) error {
	recs := soundJournal()
	n := len(recs)
	a, b := int(i)%n, int(k)%n
	switch op % 9 {
	case 0:
		recs[a], recs[b] = recs[b], recs[a]
	case 1:
		recs = slices.Insert(recs, a, recs[a])
	case 2:
		recs = slices.Delete(recs, a, a+1)
	case 3:
		recs[a].Index = int(int8(k))
	case 4:
		recs[a].Stage = s
	case 5:
		recs[a].Type = cutover.RecordType(s)
	case 6:
		recs[a].Action = s
	case 7:
		recs[a].Command = cutover.Command(s)
	case 8:
		recs[a].Seq = uint64(k)
	}
	st, err := cutover.Fold("c", recs)
	if err != nil {
		if !errors.Is(err, cutover.ErrCorruptJournal) || !strings.Contains(err.Error(), "seq ") {
			return fmt.Errorf("Fold error %q is not a corrupt-journal error naming the seq", err)
		}
		return nil
	}
	if st.LastSeq != uint64(len(recs)) {
		return fmt.Errorf("Fold kept %d of %d records", st.LastSeq, len(recs))
	}
	return nil
}

// Fuzz targets: each runs one check.

// rollingDomain keeps the generated rolling cutovers to at most 2000
// batches of an explicit size, so that one input takes microseconds;
// percentages are tried over any desired count (TestRollingHugeDesired
// covers huge counts with a small batch size).
func rollingDomain(desired, size int) bool {
	return size <= 0 || desired/size <= 2000
}

func FuzzALBWeights(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 100, 0, 0, 0}, []byte{0, 1}, 90, 10)
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 2}, []byte{0, 1}, 100, 0)
	f.Add([]byte{0, 0, 3, 231, 0, 0, 0, 0, 0, 0, 0, 5}, []byte{0, 1, 2}, 50, 50)
	f.Add([]byte{255, 255, 255, 255}, []byte{3}, 101, -1)
	f.Add([]byte{}, []byte{}, 0, 0)
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, []byte{0, 0, 1}, 33, 67)
	f.Fuzz(func(t *testing.T, raw []byte, which []byte, blue, green int) {
		if len(raw) > 64 {
			return
		}
		var ws []int32
		for i := 0; i+4 <= len(raw); i += 4 {
			ws = append(ws, int32(uint32(raw[i])<<24|uint32(raw[i+1])<<16|uint32(raw[i+2])<<8|uint32(raw[i+3])))
		}
		if err := checkALBWeights(ws, which, blue, green); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDynamoDBJournalItems(f *testing.F) {
	f.Add("1,2", `{"seq":1,"type":"start","stages":["a"]}`+"\n"+`{"seq":2,"type":"completed"}`)
	f.Add("1,3", `{"seq":1,"type":"start"}`+"\n"+`{"seq":3,"type":"completed"}`)
	f.Add("-", `{}`)
	f.Add("1", `{"seq":2,"type":"start"}`)
	f.Add("1", `{"seq":1,"type":"bogus"}`)
	f.Add("x,1", "\n")
	f.Add("18446744073709551616", `{"seq":1}`)
	f.Add("1,1", `{"seq":1,"type":"start"}`+"\n"+`{"seq":1,"type":"start"}`)
	f.Fuzz(func(t *testing.T, seqs, bodies string) {
		ss := strings.Split(seqs, ",")
		if len(ss) > 50 {
			return
		}
		if err := checkDynamoRead(ss, strings.Split(bodies, "\n")); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzJournalFold(f *testing.F) {
	for op := range uint8(9) {
		f.Add(op, uint8(1), uint8(3), "b")
	}
	f.Add(uint8(5), uint8(4), uint8(0), "verdicts")
	f.Add(uint8(3), uint8(7), uint8(200), "")
	f.Add(uint8(8), uint8(10), uint8(11), "")
	f.Fuzz(func(t *testing.T, op, i, k uint8, s string) {
		if err := checkFold(op, i, k, s); err != nil {
			t.Fatal(err)
		}
	})
}

// The seeded generator behind TestHostileInputs.

// hostileInt returns an int at an edge or anywhere.
func hostileInt(r *rand.Rand, lo, hi int) int {
	switch r.IntN(6) {
	case 0:
		return []int{0, 1, -1, 99, 100, 101, 255, 999, 1000, math.MaxInt32, math.MinInt32}[r.IntN(11)]
	case 1:
		return lo + r.IntN(hi-lo+1)
	default:
		return lo + r.IntN(min(hi-lo+1, 130))
	}
}

// mutate damages s: a byte changed, removed or inserted, a cut, a
// separator doubled, or s unchanged.
func mutate(r *rand.Rand, s string) string {
	if s == "" || r.IntN(5) == 0 {
		return s
	}
	b := []byte(s)
	i := r.IntN(len(b))
	switch r.IntN(6) {
	case 0:
		const alphabet = "/:-_.aZ0 \xff\x00é"
		b[i] = alphabet[r.IntN(len(alphabet))]
	case 1:
		b = append(b[:i], b[i+1:]...)
	case 2:
		b = append(b[:i], append([]byte{":/"[r.IntN(2)]}, b[i:]...)...)
	case 3:
		b = b[:i]
	case 4:
		b = []byte(strings.Replace(string(b), "/", "//", 1))
	case 5:
		b = []byte(strings.ToUpper(string(b)))
	}
	return string(b)
}

// hostileTargets are the checks with a generator of their inputs.
var hostileTargets = []struct {
	name string
	run  func(r *rand.Rand) error
}{
	{"canary schedule", func(r *rand.Rand) error {
		var steps []byte
		if r.IntN(2) == 0 {
			for n := r.IntN(8); n > 0; n-- {
				steps = append(steps, byte(hostileInt(r, -5, 110)))
			}
		}
		var lin, fac int
		var factor float64
		switch r.IntN(3) {
		case 0:
			lin = hostileInt(r, -5, 110)
		case 1:
			fac = 1
			factor = []float64{0, 1, 1.5, 2, 10, -1, math.Inf(1), math.NaN(), 1e-9, 1.0000001}[r.IntN(10)]
		}
		_ = fac
		return checkSchedule(steps, lin, hostileInt(r, -5, 110), hostileInt(r, -5, 110), factor,
			hostileInt(r, -5, 110)*r.IntN(2), int64(hostileInt(r, -2, 2))*int64(time.Minute), int64(hostileInt(r, -2, 2))*int64(time.Minute))
	}},
	{"rolling options", func(r *rand.Rand) error {
		d, s := hostileInt(r, -3, 200), hostileInt(r, -3, 50)
		if r.IntN(8) == 0 {
			d = []int{math.MaxInt, math.MaxInt / 50, math.MaxInt/3 + 1, 1 << 40, 1000000, 1000001}[r.IntN(6)]
		}
		if !rollingDomain(d, s) {
			return nil
		}
		return checkRolling(d, s, hostileInt(r, -3, 110), hostileInt(r, -3, 20), hostileInt(r, -3, 20))
	}},
	{"ELB ARNs", func(r *rand.Rand) error {
		arns := []string{listenerARN, ruleARN, lbARN, blueTG}
		return checkARNs(mutate(r, arns[r.IntN(len(arns))]), mutate(r, blueTG), mutate(r, []string{greenTG, blueTG, otherTG}[r.IntN(3)]))
	}},
	{"ALB weights", func(r *rand.Rand) error {
		var ws []int32
		var which []byte
		for n := r.IntN(7); n > 0; n-- {
			ws = append(ws, int32(hostileInt(r, -2, 1000)))
			which = append(which, byte(r.IntN(4)))
		}
		b := hostileInt(r, -2, 102)
		g := 100 - b
		if r.IntN(4) == 0 {
			g = hostileInt(r, -2, 102)
		}
		return checkALBWeights(ws, which, b, g)
	}},
	{"DynamoDB journal items", func(r *rand.Rand) error {
		sound := soundJournal()
		n := r.IntN(len(sound) + 1)
		var seqs, bodies []string
		for i := 0; i < n; i++ {
			seq := strconv.Itoa(i + 1)
			body := fmt.Sprintf(`{"seq":%d,"type":%q}`, i+1, sound[i].Type)
			if r.IntN(4) == 0 {
				seq = mutate(r, []string{seq, "-", "0", "18446744073709551616"}[r.IntN(4)])
			}
			if r.IntN(4) == 0 {
				body = mutate(r, body)
			}
			seqs, bodies = append(seqs, seq), append(bodies, body)
		}
		return checkDynamoRead(seqs, bodies)
	}},
	{"journal fold", func(r *rand.Rand) error {
		return checkFold(uint8(r.IntN(9)), uint8(r.IntN(256)), uint8(r.IntN(256)),
			mutate(r, []string{"a", "b", "start", "apply", "revert", "approve", "baked", ""}[r.IntN(8)]))
	}},
}

// runHostile runs n generated inputs of every target and returns how many
// it ran and how many panicked.
func runHostile(t *testing.T, n int) (execs, panics int64) {
	var fails failures
	var pn atomic.Int64
	for ti, h := range hostileTargets {
		r := rand.New(rand.NewPCG(uint64(ti)+1, 11))
		for i := 0; i < n; i++ {
			func() {
				defer func() {
					if p := recover(); p != nil {
						pn.Add(1)
						fails.add("%s: input %d: panic: %v", h.name, i, p)
					}
				}()
				execs++
				if err := h.run(r); err != nil {
					fails.add("%s: input %d: %v", h.name, i, err)
				}
			}()
		}
	}
	fails.report(t, "hostile inputs")
	return execs, pn.Load()
}

// TestHostileInputs runs every check over generated inputs.
func TestHostileInputs(t *testing.T) {
	execs, panics := runHostile(t, pick(500, 25000))
	collected.add(reliability.Summary{FuzzExecs: execs, Panics: panics})
	collected.count("hostile_generated_inputs", float64(execs))
	t.Logf("%d hostile inputs over %d checks, %d panics", execs, len(hostileTargets), panics)
}
