package awsprovider

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/safecutover/safecutover/cutover"
	"go.uber.org/zap"
)

// stickPlan is the stickiness a write carries and why.
type stickPlan struct {
	config   *elbtypes.TargetGroupStickinessConfig
	override bool // a rollback's override starts (or goes on)
	restore  bool // the user's stickiness comes back
	why      string
}

// applyStick records the stickiness a successful write carried.
func (r *ALBRouter) applyStick(p stickPlan) {
	switch {
	case p.override && !r.overridden:
		r.overridden, r.overAt = true, r.clock.Now()
	case p.override:
		r.overAt = r.clock.Now()
	case p.restore:
		r.overridden, r.baseStick = false, nil
	}
	if p.override {
		r.log.Warn("stickiness overridden for a rollback; it is written back by the first write after its duration", zap.String("stickiness", p.why))
	}
}

// planStick decides the stickiness of a write: the rollback override when
// a target group that started at 0 goes back to 0 from a positive weight,
// the user's own once the override can no longer pin anyone to green, or
// what the action has now.
func (r *ALBRouter) planStick(fresh []elbtypes.Action, cur map[string]int64, want map[string]int) stickPlan {
	now := forwardStickiness(fresh)
	rollback := false
	for _, name := range r.names {
		if r.baseline != nil && r.baseline[name] == 0 && cur[name] > 0 && want[name] == 0 {
			rollback = true
		}
	}
	if rollback && (r.overridden || (now != nil && aws.ToBool(now.Enabled))) {
		if !r.overridden {
			r.baseStick = now
		}
		over := Stickiness{}
		if r.opts.RollbackStickiness != nil {
			over = *r.opts.RollbackStickiness
		}
		return stickPlan{config: over.config(), override: true, why: fmt.Sprintf("rollback: %s", stickString(over.config()))}
	}
	if r.overridden {
		d := time.Duration(aws.ToInt32(r.baseStick.DurationSeconds)) * time.Second
		if left := d - r.clock.Now().Sub(r.overAt); left > 0 {
			return stickPlan{config: now, override: false, why: fmt.Sprintf("kept %s for %s more after a rollback", stickString(now), left)}
		}
		return stickPlan{config: r.baseStick, restore: true, why: "restored " + stickString(r.baseStick)}
	}
	return stickPlan{config: now, why: "kept " + stickString(now)}
}

func stickString(c *elbtypes.TargetGroupStickinessConfig) string {
	if c == nil || !aws.ToBool(c.Enabled) {
		return "off"
	}
	return fmt.Sprintf("on %ds", aws.ToInt32(c.DurationSeconds))
}

func stickEqual(a, b *elbtypes.TargetGroupStickinessConfig) bool {
	if a == nil || !aws.ToBool(a.Enabled) || b == nil || !aws.ToBool(b.Enabled) {
		return (a == nil || !aws.ToBool(a.Enabled)) == (b == nil || !aws.ToBool(b.Enabled))
	}
	return aws.ToInt32(a.DurationSeconds) == aws.ToInt32(b.DurationSeconds)
}

func rawEqual(cur map[string]int64, want map[string]int) bool {
	for n, v := range want {
		if cur[n] != int64(v) {
			return false
		}
	}
	return true
}

// isRollback reports whether want are the weights of the first describe.
func (r *ALBRouter) isRollback(want map[string]int) bool {
	if r.baseline == nil {
		return false
	}
	base, err := percentages(r.baseline)
	if err != nil {
		return false
	}
	for n, v := range want {
		if base[n] != v {
			return false
		}
	}
	return true
}

// ownPresence returns the router's target groups present in the forward
// action of actions.
func (r *ALBRouter) ownPresence(actions []elbtypes.Action) map[string]bool {
	out := map[string]bool{}
	i, err := forwardIndex(actions)
	if err != nil {
		return out
	}
	for _, t := range tuples(actions[i]) {
		if name, ok := r.byARN[aws.ToString(t.TargetGroupArn)]; ok {
			out[name] = true
		}
	}
	return out
}

// checkOwn returns an error wrapping ErrConcurrentChange if another writer
// changed the router's own target groups between last and fresh: one
// removed, or a weight that is neither what the router last saw nor what
// a write of unknown outcome asked for.
func (r *ALBRouter) checkOwn(last, fresh []elbtypes.Action) error {
	was, err := r.rawWeights(last)
	if err != nil {
		return nil
	}
	now, err := r.rawWeights(fresh)
	if err != nil {
		return err
	}
	wasIn, nowIn := r.ownPresence(last), r.ownPresence(fresh)
	for _, name := range r.names {
		if wasIn[name] && !nowIn[name] {
			return fmt.Errorf("target group %s (target %q) was removed from the forward action by another writer (weight was %d): %w", r.tgs[name], name, was[name], ErrConcurrentChange)
		}
	}
	if rawSame(now, was) || (r.pending != nil && rawSame(now, r.pending)) {
		return nil
	}
	for _, name := range r.names {
		if now[name] != was[name] {
			return fmt.Errorf("target group %s (target %q): weight %d, set by another writer (the cutover last saw %d; all now %s, then %s): %w",
				r.tgs[name], name, now[name], was[name], rawString(now), rawString(was), ErrConcurrentChange)
		}
	}
	return nil
}

func rawSame(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// foreignDrift lists what changed between last and fresh in the parts of
// the action list the router does not own.
func (r *ALBRouter) foreignDrift(last, fresh []elbtypes.Action) []string {
	var out []string
	li, err1 := forwardIndex(last)
	fi, err2 := forwardIndex(fresh)
	if err1 != nil || err2 != nil {
		return nil
	}
	kinds := func(as []elbtypes.Action) string {
		var ks []string
		for _, a := range as {
			ks = append(ks, string(a.Type))
		}
		return strings.Join(ks, " then ")
	}
	if kinds(last) != kinds(fresh) {
		out = append(out, fmt.Sprintf("actions: were %s, now %s", kinds(last), kinds(fresh)))
	} else {
		for i := range fresh {
			if i == fi {
				continue
			}
			if !reflect.DeepEqual(last[i], fresh[i]) {
				out = append(out, fmt.Sprintf("action %d (%s) changed", i+1, fresh[i].Type))
			}
		}
		if aws.ToInt32(last[li].Order) != aws.ToInt32(fresh[fi].Order) {
			out = append(out, fmt.Sprintf("forward action order: was %d, now %d", aws.ToInt32(last[li].Order), aws.ToInt32(fresh[fi].Order)))
		}
	}
	if a, b := forwardStickiness(last), forwardStickiness(fresh); !stickEqual(a, b) {
		out = append(out, fmt.Sprintf("stickiness: was %s, now %s", stickString(a), stickString(b)))
		if r.overridden {
			// Someone else set it during the override: theirs stands.
			r.overridden, r.baseStick = false, nil
		}
	}
	foreign := func(a elbtypes.Action) map[string]int32 {
		m := map[string]int32{}
		for _, t := range tuples(a) {
			if _, own := r.byARN[aws.ToString(t.TargetGroupArn)]; !own {
				m[aws.ToString(t.TargetGroupArn)] = aws.ToInt32(t.Weight)
			}
		}
		return m
	}
	was, now := foreign(last[li]), foreign(fresh[fi])
	for _, arn := range sortedKeys(now) {
		if w, ok := was[arn]; !ok {
			out = append(out, fmt.Sprintf("target group %s added (weight %d)", arn, now[arn]))
		} else if w != now[arn] {
			out = append(out, fmt.Sprintf("target group %s: weight was %d, now %d", arn, w, now[arn]))
		}
	}
	for _, arn := range sortedKeys(was) {
		if _, ok := now[arn]; !ok {
			out = append(out, fmt.Sprintf("target group %s removed", arn))
		}
	}
	return out
}

// noteDrift journals and logs what another writer changed.
func (r *ALBRouter) noteDrift(ctx context.Context, drift []string) {
	text := fmt.Sprintf("%s changed by another writer since the cutover last wrote it: %s", r.arn.raw, strings.Join(drift, "; "))
	r.log.Warn("drift", zap.String("what", text))
	_ = cutover.Remember(ctx, DataDrift, text) // outside a stage: logged only
}

// withWeights returns a copy of actions whose forward action gives the
// router's target groups the weights want, and the stickiness it carries.
// cur are the raw weights of actions.
func (r *ALBRouter) withWeights(actions []elbtypes.Action, cur map[string]int64, want map[string]int) ([]elbtypes.Action, stickPlan, error) {
	fi, err := forwardIndex(actions)
	if err != nil {
		return nil, stickPlan{}, err
	}
	next := make([]elbtypes.Action, len(actions))
	copy(next, actions)
	for i := range next {
		// Describe never returns an OIDC client secret, and ModifyListener
		// demands one unless told to keep the existing one.
		if c := next[i].AuthenticateOidcConfig; c != nil && c.ClientSecret == nil {
			cc := *c
			cc.UseExistingClientSecret = aws.Bool(true)
			next[i].AuthenticateOidcConfig = &cc
		}
	}
	fwd := next[fi]
	var ts []elbtypes.TargetGroupTuple
	placed := make(map[string]bool, len(r.names))
	for _, t := range tuples(fwd) {
		arn := aws.ToString(t.TargetGroupArn)
		if name, ok := r.byARN[arn]; ok {
			t.Weight = aws.Int32(int32(want[name]))
			placed[name] = true
		}
		ts = append(ts, t)
	}
	for _, name := range r.names {
		if !placed[name] && want[name] > 0 {
			ts = append(ts, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(r.tgs[name]), Weight: aws.Int32(int32(want[name]))})
		}
	}
	if len(ts) > albMaxTargetGroups {
		return nil, stickPlan{}, fmt.Errorf("the forward action would hold %d target groups; an ALB forward action holds at most %d", len(ts), albMaxTargetGroups)
	}
	stick := r.planStick(actions, cur, want)
	fwd.TargetGroupArn = nil
	fwd.ForwardConfig = &elbtypes.ForwardActionConfig{TargetGroups: ts, TargetGroupStickinessConfig: stick.config}
	next[fi] = fwd
	return next, stick, nil
}
