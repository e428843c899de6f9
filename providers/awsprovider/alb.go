package awsprovider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// elbOpt bounds each attempt of an ELB call by the router's CallTimeout.
func (r *ALBRouter) elbOpt(o *elbv2.Options) { o.HTTPClient = r.bound(o.HTTPClient) }

// albMaxTargetGroups is how many target groups one ALB forward action holds.
const albMaxTargetGroups = 5

// ALBListenerAPI is the part of *elasticloadbalancingv2.Client an ALBRouter
// on a listener's default action uses.
type ALBListenerAPI interface {
	DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
}

// ALBRuleAPI is the part of *elasticloadbalancingv2.Client an ALBRouter on
// a listener rule uses.
type ALBRuleAPI interface {
	DescribeRules(ctx context.Context, in *elbv2.DescribeRulesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	ModifyRule(ctx context.Context, in *elbv2.ModifyRuleInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
}

// ALBAPI is both: what NewALBRouter needs to serve either kind of ARN.
type ALBAPI interface {
	ALBListenerAPI
	ALBRuleAPI
}

var _ ALBAPI = (*elbv2.Client)(nil)

// Stickiness is an ALB target-group stickiness setting of a forward action.
type Stickiness struct {
	// Enabled turns stickiness on.
	Enabled bool
	// Duration is how long a client stays pinned, 1s to 7 days; required
	// when Enabled, ignored otherwise. Whole seconds.
	Duration time.Duration
}

func (s Stickiness) validate(field string) error {
	if !s.Enabled {
		return nil
	}
	if s.Duration < time.Second || s.Duration > 7*24*time.Hour {
		return fmt.Errorf("%s: duration %s outside 1s–168h", field, s.Duration)
	}
	if s.Duration%time.Second != 0 {
		return fmt.Errorf("%s: duration %s is not whole seconds", field, s.Duration)
	}
	return nil
}

func (s Stickiness) config() *elbtypes.TargetGroupStickinessConfig {
	c := &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(s.Enabled)}
	if s.Enabled {
		c.DurationSeconds = aws.Int32(int32(s.Duration / time.Second))
	}
	return c
}

// ALBOptions configures an ALBRouter. The zero value is valid.
type ALBOptions struct {
	// Logger receives debug and info logs; nil means none.
	Logger *zap.Logger
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
	// Clock tells when a rollback's stickiness override may end. Default
	// cutover.RealClock.
	Clock cutover.Clock
	// CallTimeout bounds each attempt of each API call; a timed-out
	// attempt is retried by the client's retryer. ≥ 0; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// ReadBack makes every SetWeights describe the action after writing it
	// and verify the weights from that read, instead of from the write's own
	// response (the listener or rule as the service stored it).
	ReadBack bool
	// RollbackStickiness is the target-group stickiness written with a
	// rollback: a SetWeights that sets to 0 a target group that had weight
	// 0 when the router first described the action and has a positive
	// weight now (green, after a failed canary step). Nil means
	// Stickiness{} (off).
	//
	// Why: with target-group stickiness on, the ALB pins each client to
	// the target group it first reached (the AWSALBTG cookie) for the
	// stickiness duration, and keeps sending it there even after that
	// group's weight drops to 0. A rollback that kept it would leave every
	// client pinned to green on green for up to the duration (up to 7
	// days). Writing stickiness off, or a short duration, in the same call
	// moves them back at once; the rollback stays one API call. The
	// stickiness the action had is written back by the first SetWeights
	// after the action's own stickiness duration has passed since the
	// rollback (by then no cookie can still pin a client to green); a
	// cutover that ends with the rollback leaves it off, and says so in
	// its log. A rollback never turns stickiness on where it was off.
	RollbackStickiness *Stickiness
}

// ALBRouter is a providers.TrafficRouter over the forward action of an
// Application Load Balancer listener's default actions or of a listener
// rule. Target names map to target groups; percentages are written as ALB
// weights (the same numbers, 0–100 of the 0–999 ALB allows), so a read
// maps back exactly.
//
// Every SetWeights describes the action, then writes it with one
// ModifyListener or ModifyRule call (those calls replace whole lists),
// changing only the weights of the router's target groups: other actions,
// authenticate configs, stickiness, conditions and transforms of a rule,
// and other target groups (which must have weight 0) stay as the describe
// found them. ALB has no conditional write, so the describe comes
// immediately before the write, and it is compared with what the router
// last saw:
//
//   - another writer changed what the router does not own (other actions,
//     stickiness, other target groups): the write keeps that change, and
//     a drift note naming it is journaled under DataDrift and logged;
//   - another writer changed the router's own target groups (one removed,
//     a weight the router did not write): the step is refused with an
//     error wrapping ErrConcurrentChange that names the target group and
//     the weights, and the decision is left to the gates and the rollback
//     path. A rollback (back to the weights of the first describe) is
//     never refused.
//
// When the weights already are what is asked, nothing is written. The
// write's response is checked against the weights asked for; a difference
// is an error that wraps ErrReadBackMismatch. A rollback turns
// target-group stickiness off in the same write (see
// ALBOptions.RollbackStickiness).
//
// An ALBRouter is safe for concurrent use; calls are serialised.
type ALBRouter struct {
	awsBase
	arn     elbARN
	opts    ALBOptions
	names   []string          // sorted target names
	tgs     map[string]string // name → target group ARN
	byARN   map[string]string // target group ARN → name
	read    func(ctx context.Context) ([]elbtypes.Action, error)
	write   func(ctx context.Context, actions []elbtypes.Action) ([]elbtypes.Action, error)
	apiRead string // operation names, for errors and logs
	apiMod  string

	mu         sync.Mutex
	seen       []elbtypes.Action // the action list as last read or written; nil: never
	pending    map[string]int64  // raw weights of a write whose outcome is unknown
	baseline   map[string]int64  // raw weights at the first describe
	overridden bool              // stickiness is off (or short) since a rollback
	baseStick  *elbtypes.TargetGroupStickinessConfig
	overAt     time.Time // when the rollback wrote the override
}

// DataDrift is the key under which an ALBRouter journals (with
// cutover.Remember) what another writer changed on the listener or rule
// during the cutover.
const DataDrift = "drift"

var _ providers.TrafficRouter = (*ALBRouter)(nil)

// NewALBRouter returns a router on the forward action named by arn: a
// listener ARN (its default actions) or a listener rule ARN. targets maps
// target names (as used in providers.Weights) to target group ARNs, 1 to 5
// of them. The client is usually an *elasticloadbalancingv2.Client.
func NewALBRouter(client ALBAPI, arn string, targets map[string]string, opts ALBOptions) (*ALBRouter, error) {
	a, err := parseELBARN(arn)
	if err != nil {
		return nil, fmt.Errorf("alb router: %w", err)
	}
	switch a.kind {
	case elbListener:
		return newALBListenerRouter(client, arn, targets, opts)
	case elbRule:
		return newALBRuleRouter(client, arn, targets, opts)
	}
	return nil, fmt.Errorf("alb router: %s is a %s ARN, want a listener or listener rule ARN", arn, a.kind)
}

// newALBListenerRouter returns a router on the forward action of the
// default actions of the listener listenerARN.
func newALBListenerRouter(client ALBListenerAPI, listenerARN string, targets map[string]string, opts ALBOptions) (*ALBRouter, error) {
	r, err := newALBRouter(client, listenerARN, elbListener, targets, opts)
	if err != nil {
		return nil, err
	}
	r.apiRead, r.apiMod = "DescribeListeners", "ModifyListener"
	r.read = func(ctx context.Context) ([]elbtypes.Action, error) {
		out, err := client.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{listenerARN}}, r.elbOpt)
		if err != nil {
			return nil, err
		}
		if len(out.Listeners) != 1 {
			return nil, fmt.Errorf("listener not found")
		}
		return out.Listeners[0].DefaultActions, nil
	}
	r.write = func(ctx context.Context, actions []elbtypes.Action) ([]elbtypes.Action, error) {
		out, err := client.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(listenerARN), DefaultActions: actions}, r.elbOpt)
		if err != nil {
			return nil, err
		}
		if len(out.Listeners) != 1 {
			return nil, nil
		}
		return out.Listeners[0].DefaultActions, nil
	}
	return r, nil
}

// newALBRuleRouter returns a router on the forward action of the listener
// rule ruleARN. The rule's conditions are never sent, so they stay as they
// are. A listener's default rule cannot be modified as a rule: use the
// listener's ARN for it.
func newALBRuleRouter(client ALBRuleAPI, ruleARN string, targets map[string]string, opts ALBOptions) (*ALBRouter, error) {
	r, err := newALBRouter(client, ruleARN, elbRule, targets, opts)
	if err != nil {
		return nil, err
	}
	r.apiRead, r.apiMod = "DescribeRules", "ModifyRule"
	r.read = func(ctx context.Context) ([]elbtypes.Action, error) {
		out, err := client.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{ruleARN}}, r.elbOpt)
		if err != nil {
			return nil, err
		}
		if len(out.Rules) != 1 {
			return nil, fmt.Errorf("rule not found")
		}
		if aws.ToBool(out.Rules[0].IsDefault) {
			return nil, fmt.Errorf("it is the listener's default rule, which ModifyRule cannot change: use the listener ARN")
		}
		return out.Rules[0].Actions, nil
	}
	r.write = func(ctx context.Context, actions []elbtypes.Action) ([]elbtypes.Action, error) {
		out, err := client.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(ruleARN), Actions: actions}, r.elbOpt)
		if err != nil {
			return nil, err
		}
		if len(out.Rules) != 1 {
			return nil, nil
		}
		return out.Rules[0].Actions, nil
	}
	return r, nil
}

func newALBRouter(client any, raw string, kind elbKind, targets map[string]string, opts ALBOptions) (*ALBRouter, error) {
	if client == nil {
		return nil, fmt.Errorf("alb router %s: nil client", raw)
	}
	a, err := parseELBARN(raw)
	if err != nil {
		return nil, fmt.Errorf("alb router: %w", err)
	}
	if a.kind != kind {
		return nil, fmt.Errorf("alb router: %s is a %s ARN, want a %s ARN", raw, a.kind, kind)
	}
	if a.lbType != "app" {
		return nil, fmt.Errorf("alb router: %s belongs to a %q load balancer, not an Application Load Balancer (\"app\"): only ALB forward actions split traffic by weight", raw, a.lbType)
	}
	what := "alb router " + raw
	tgs, err := parseTargetGroups(what, targets, albMaxTargetGroups)
	if err != nil {
		return nil, err
	}
	for name, tg := range tgs {
		if tg.region != a.region {
			return nil, fmt.Errorf("%s: target %q: target group is in region %s, the load balancer in %s", what, name, tg.region, a.region)
		}
	}
	if opts.RollbackStickiness != nil {
		if err := opts.RollbackStickiness.validate("alb router: RollbackStickiness"); err != nil {
			return nil, err
		}
	}
	timeout, err := callTimeoutOr("alb router: CallTimeout", opts.CallTimeout)
	if err != nil {
		return nil, err
	}
	r := &ALBRouter{
		awsBase: newAWSBase(opts.Logger, opts.Clock, opts.Pacer),
		arn:     a,
		opts:    opts,
		names:   sortedKeys(targets),
		tgs:     make(map[string]string, len(targets)),
		byARN:   make(map[string]string, len(targets)),
	}
	for name, arn := range targets {
		r.tgs[name] = arn
		r.byARN[arn] = name
	}
	r.callTimeout = timeout
	r.log = r.log.With(zap.String("alb", raw))
	return r, nil
}

// ARN returns the listener or rule ARN the router writes.
func (r *ALBRouter) ARN() string { return r.arn.raw }

// Targets returns the router's target names mapped to their target group
// ARNs (a copy).
func (r *ALBRouter) Targets() map[string]string {
	out := make(map[string]string, len(r.tgs))
	for k, v := range r.tgs {
		out[k] = v
	}
	return out
}

// Weights describes the action and returns the weights of the router's
// targets. A target group of the action that is not one of the router's
// targets and has a positive weight is an error: the percentages would
// not be the shares of traffic.
func (r *ALBRouter) Weights(ctx context.Context) (providers.Weights, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	actions, err := r.describe(ctx)
	if err != nil {
		return nil, err
	}
	w, err := r.weightsOf(actions)
	if err != nil {
		return nil, fmt.Errorf("read weights of %s: %w", r.arn.raw, err)
	}
	return w, nil
}

// SetWeights describes the action, checks it against what the router
// last saw (see ALBRouter), and writes w as the weights of the forward
// action's target groups in one ModifyListener or ModifyRule call, unless
// they already are w. It then checks the written weights.
func (r *ALBRouter) SetWeights(ctx context.Context, w providers.Weights) error {
	want, err := checkWeights(w, r.names)
	if err != nil {
		return fmt.Errorf("set weights on %s: %w", r.arn.raw, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	last := r.seen
	fresh, err := r.describe(ctx)
	if err != nil {
		return err
	}
	cur, err := r.rawWeights(fresh)
	if err != nil {
		return fmt.Errorf("set weights %s on %s: %w", w, r.arn.raw, err)
	}
	if last != nil {
		if drift := r.foreignDrift(last, fresh); len(drift) > 0 {
			r.noteDrift(ctx, drift)
		}
		if err := r.checkOwn(last, fresh); err != nil {
			if !r.isRollback(want) {
				r.seen = last // a retried step is refused again
				return fmt.Errorf("set weights %s on %s: %w", w, r.arn.raw, err)
			}
			r.noteDrift(ctx, []string{err.Error() + "; rolling back over it"})
		}
	}
	r.seen, r.pending = fresh, nil
	next, stick, err := r.withWeights(fresh, cur, want)
	if err != nil {
		return fmt.Errorf("set weights %s on %s: %w", w, r.arn.raw, err)
	}
	if rawEqual(cur, want) && stickEqual(stick.config, forwardStickiness(fresh)) {
		r.log.Debug("weights already set", zap.Stringer("weights", w))
		return nil
	}
	if err := r.pace(ctx, r.apiMod); err != nil {
		return err
	}
	r.pending = make(map[string]int64, len(want))
	for n, v := range want {
		r.pending[n] = int64(v)
	}
	got, err := r.write(ctx, next)
	if err != nil {
		return fmt.Errorf("set weights %s on %s: %s: %w", w, r.arn.raw, r.apiMod, err)
	}
	r.applyStick(stick)
	if got == nil || r.opts.ReadBack {
		if got, err = r.describe(ctx); err != nil {
			return fmt.Errorf("set weights %s on %s: read back: %w", w, r.arn.raw, err)
		}
	}
	have, err := r.weightsOf(got)
	if err != nil {
		return fmt.Errorf("set weights %s on %s: read back: %w", w, r.arn.raw, err)
	}
	if !have.Equal(w) {
		return fmt.Errorf("set weights %s on %s: wrote them but read back %s: %w", w, r.arn.raw, have, ErrReadBackMismatch)
	}
	r.seen, r.pending = got, nil
	r.log.Info("weights set", zap.Stringer("weights", w), zap.String("stickiness", stick.why))
	return nil
}

// VerifiesWrites reports that SetWeights returns only after checking the
// weights in the service's own answer to the write (or a describe after
// it): a caller need not read them back. See providers.WriteVerifier.
func (r *ALBRouter) VerifiesWrites() bool { return true }

// describe reads the action list and records the baseline weights the
// first time. What the router compares a write with (seen) is set only by
// SetWeights, so a read between steps cannot hide another writer's change.
func (r *ALBRouter) describe(ctx context.Context) ([]elbtypes.Action, error) {
	if err := r.pace(ctx, r.apiRead); err != nil {
		return nil, err
	}
	actions, err := r.read(ctx)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %s: %w", r.arn.raw, r.apiRead, err)
	}
	if _, err := forwardIndex(actions); err != nil {
		return nil, fmt.Errorf("describe %s: %w", r.arn.raw, err)
	}
	if r.baseline == nil {
		raw, err := r.rawWeights(actions)
		if err == nil {
			r.baseline = raw
		}
	}
	return actions, nil
}

// forwardIndex finds the forward action of a list. An action list without
// one (a redirect, a fixed response) is an error naming what is there.
func forwardIndex(actions []elbtypes.Action) (int, error) {
	var kinds []string
	for i, a := range actions {
		if a.Type == elbtypes.ActionTypeEnumForward {
			return i, nil
		}
		kinds = append(kinds, string(a.Type))
	}
	if len(kinds) == 0 {
		return -1, fmt.Errorf("no actions: want a forward action")
	}
	return -1, fmt.Errorf("action is %s, not forward: only a forward action's target group weights can be set", strings.Join(kinds, " then "))
}

// tuples returns the target groups of a forward action, a single
// TargetGroupArn counting as weight 1.
func tuples(a elbtypes.Action) []elbtypes.TargetGroupTuple {
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		return a.ForwardConfig.TargetGroups
	}
	if a.TargetGroupArn != nil {
		return []elbtypes.TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn, Weight: aws.Int32(1)}}
	}
	return nil
}

func forwardStickiness(actions []elbtypes.Action) *elbtypes.TargetGroupStickinessConfig {
	i, err := forwardIndex(actions)
	if err != nil || actions[i].ForwardConfig == nil {
		return nil
	}
	return actions[i].ForwardConfig.TargetGroupStickinessConfig
}

// rawWeights returns the ALB weight of every target of the router (0 for
// one absent from the action). Another target group with a positive
// weight is an error.
func (r *ALBRouter) rawWeights(actions []elbtypes.Action) (map[string]int64, error) {
	i, err := forwardIndex(actions)
	if err != nil {
		return nil, err
	}
	raw := make(map[string]int64, len(r.names))
	for _, n := range r.names {
		raw[n] = 0
	}
	for _, t := range tuples(actions[i]) {
		arn := aws.ToString(t.TargetGroupArn)
		wt := int64(aws.ToInt32(t.Weight))
		if name, ok := r.byARN[arn]; ok {
			raw[name] = wt
		} else if wt > 0 {
			return nil, fmt.Errorf("target group %s has weight %d but is not one of the router's targets; add it to the targets or set its weight to 0", arn, wt)
		}
	}
	return raw, nil
}

func (r *ALBRouter) weightsOf(actions []elbtypes.Action) (providers.Weights, error) {
	raw, err := r.rawWeights(actions)
	if err != nil {
		return nil, err
	}
	return percentages(raw)
}
