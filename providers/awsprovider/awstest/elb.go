package awstest

// A stateful fake of Elastic Load Balancing v2 over awsQuery (form-encoded
// POST, XML answers): listeners with default actions, rules with conditions
// and actions, target groups with registered members. It enforces what the
// real service enforces for the calls the providers make: whole action
// lists replaced, at most 5 target groups per forward action, weights
// 0–999, known target groups, stickiness duration when enabled, an OIDC
// client secret or UseExistingClientSecret.

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// The ELBv2 resources of NewELB (and of Cloud).
const (
	LBARN          = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/front/50dc6c495c0c9188"
	ListenerARN    = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2"
	RuleARN        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	DefaultRuleARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2/0000000000000001"
	BlueTG         = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067"
	GreenTG        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/4b8d2f4e9c1a7d35"

	elbNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// TargetGroupARN returns the ARN of a target group called name.
func TargetGroupARN(name string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:%s:targetgroup/%s/%016x", Account, name, len(name)*7919)
}

// Tuple is a target group of a forward action and its weight.
type Tuple struct {
	TargetGroupArn string
	Weight         int
}

// Stickiness is a forward action's target group stickiness.
type Stickiness struct {
	Enabled         bool
	DurationSeconds int `xml:",omitempty"`
}

// ForwardConfig is a forward action's target groups and stickiness.
type ForwardConfig struct {
	TargetGroups                []Tuple     `xml:"TargetGroups>member"`
	TargetGroupStickinessConfig *Stickiness `xml:",omitempty"`
}

// FixedResponseConfig is a fixed-response action's answer.
type FixedResponseConfig struct {
	StatusCode  string
	ContentType string `xml:",omitempty"`
}

// OIDCConfig is an authenticate-oidc action's settings; the client
// secret is kept but never returned, as AWS does.
type OIDCConfig struct {
	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	UserInfoEndpoint      string
	ClientId              string
	ClientSecret          string `xml:"-"` // kept, never returned, as AWS does
}

// Action is a listener's default action or a rule's action.
type Action struct {
	Type                   string
	Order                  int                  `xml:",omitempty"`
	TargetGroupArn         string               `xml:",omitempty"`
	ForwardConfig          *ForwardConfig       `xml:",omitempty"`
	FixedResponseConfig    *FixedResponseConfig `xml:",omitempty"`
	AuthenticateOidcConfig *OIDCConfig          `xml:",omitempty"`
}

// Condition is a rule's condition.
type Condition struct {
	Field  string
	Values []string `xml:"Values>member"`
}

// Listener is a listener as DescribeListeners returns it.
type Listener struct {
	ListenerArn     string
	LoadBalancerArn string
	Port            int
	Protocol        string
	DefaultActions  []Action `xml:"DefaultActions>member"`
}

// Rule is a listener rule as DescribeRules returns it.
type Rule struct {
	RuleArn    string
	Priority   string
	IsDefault  bool
	Conditions []Condition `xml:"Conditions>member"`
	Actions    []Action    `xml:"Actions>member"`
}

// Member is a registered target and its health, as DescribeTargetHealth
// returns it.
type Member struct {
	Target struct {
		Id   string
		Port int `xml:",omitempty"`
	}
	TargetHealth struct {
		State       string
		Reason      string `xml:",omitempty"`
		Description string `xml:",omitempty"`
	}
}

// ELB is a fake Elastic Load Balancing v2 service. It remembers every
// change of an action list with the time it was made (WeightAt), so that
// metrics can follow the weights. Safe for concurrent use.
type ELB struct {
	*Faults
	mu        sync.Mutex
	listeners map[string]*Listener
	rules     map[string]*Rule
	tgs       map[string][]Member // target group ARN → members
	history   map[string][]change // listener or rule ARN → its forward weights over time
	// tamper, if set, changes an action list after a Modify and before the
	// answer (another writer, a service that ignores a field).
	tamper func(actions []Action)
	// members, if set, answers DescribeTargetHealth instead of tgs.
	members func(tg string) ([]Member, bool)
}

// change is an action list's forward weights from a time on.
type change struct {
	at      time.Time
	weights map[string]int // target group ARN → weight
}

// NewELB returns a service with one listener forwarding to blue (100)
// and green (0) with stickiness on for an hour, a rule on it doing the
// same for /api/*, and the blue and green target groups.
func NewELB() *ELB {
	fwd := func() []Action {
		return []Action{{Type: "forward", Order: 1, ForwardConfig: &ForwardConfig{
			TargetGroups:                []Tuple{{BlueTG, 100}, {GreenTG, 0}},
			TargetGroupStickinessConfig: &Stickiness{Enabled: true, DurationSeconds: 3600},
		}}}
	}
	f := &ELB{
		listeners: map[string]*Listener{ListenerARN: {ListenerArn: ListenerARN, LoadBalancerArn: LBARN, Port: 443, Protocol: "HTTPS", DefaultActions: fwd()}},
		rules: map[string]*Rule{
			RuleARN:        {RuleArn: RuleARN, Priority: "10", Conditions: []Condition{{Field: "path-pattern", Values: []string{"/api/*"}}}, Actions: fwd()},
			DefaultRuleARN: {RuleArn: DefaultRuleARN, Priority: "default", IsDefault: true, Actions: fwd()},
		},
		tgs:     map[string][]Member{BlueTG: nil, GreenTG: nil},
		history: map[string][]change{},
		Faults:  &Faults{},
	}
	for arn, l := range f.listeners {
		f.history[arn] = []change{{weights: forwardWeights(l.DefaultActions)}}
	}
	for arn, r := range f.rules {
		f.history[arn] = []change{{weights: forwardWeights(r.Actions)}}
	}
	return f
}

// AddTargetGroup registers a target group with members in the given
// states (healthy, unhealthy, initial, draining, ...), replacing any it had.
func (f *ELB) AddTargetGroup(arn string, states ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ms []Member
	for i, st := range states {
		var m Member
		m.Target.Id = fmt.Sprintf("i-%017x", i+1)
		m.Target.Port = 8080
		m.TargetHealth.State = st
		if st == "unhealthy" {
			m.TargetHealth.Reason = "Target.ResponseCodeMismatch"
			m.TargetHealth.Description = "Health checks failed with these codes: [502]"
		}
		ms = append(ms, m)
	}
	f.tgs[arn] = ms
}

// SetMembers sets the members of a target group, registering it if new.
func (f *ELB) SetMembers(tg string, ms []Member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tgs[tg] = ms
}

// RemoveTargetGroup deletes a target group.
func (f *ELB) RemoveTargetGroup(tg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.tgs, tg)
}

// SetTamper makes every Modify call pass the new action list to fn before
// it is stored and answered (another writer, a service that ignores a
// field); nil stops it.
func (f *ELB) SetTamper(fn func(actions []Action)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tamper = fn
}

// SetActions replaces the default actions of the listener or the actions
// of a rule, as another writer would, behind the client's back.
func (f *ELB) SetActions(arn string, actions []Action) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.listeners[arn]; ok {
		l.DefaultActions = actions
	} else if r, ok := f.rules[arn]; ok {
		r.Actions = actions
	}
	f.record(arn, actions)
}

// record notes the forward weights of arn's new action list.
func (f *ELB) record(arn string, actions []Action) {
	f.history[arn] = append(f.history[arn], change{time.Now(), forwardWeights(actions)})
}

// WeightAt returns the share (percent, rounded down) of arn's traffic
// that its forward action sent to target group tg at time t, by the
// action lists it had then.
func (f *ELB) WeightAt(arn, tg string, t time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var w map[string]int
	for _, c := range f.history[arn] {
		if c.at.After(t) {
			break
		}
		w = c.weights
	}
	sum := 0
	for _, v := range w {
		sum += v
	}
	if sum == 0 {
		return 0
	}
	return w[tg] * 100 / sum
}

func forwardWeights(actions []Action) map[string]int {
	w := map[string]int{}
	for _, a := range actions {
		if a.Type == "forward" && a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				w[t.TargetGroupArn] = t.Weight
			}
		}
	}
	return w
}

// Actions returns a copy of the action list of a listener or rule.
func (f *ELB) Actions(arn string) []Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	var src []Action
	if l, ok := f.listeners[arn]; ok {
		src = l.DefaultActions
	} else if r, ok := f.rules[arn]; ok {
		src = r.Actions
	}
	return cloneActions(src)
}

// Rule returns a copy of a rule.
func (f *ELB) Rule(arn string) Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := *f.rules[arn]
	r.Actions = cloneActions(r.Actions)
	return r
}

func cloneActions(src []Action) []Action {
	out := make([]Action, len(src))
	for i, a := range src {
		if a.ForwardConfig != nil {
			fc := *a.ForwardConfig
			fc.TargetGroups = append([]Tuple(nil), fc.TargetGroups...)
			if fc.TargetGroupStickinessConfig != nil {
				st := *fc.TargetGroupStickinessConfig
				fc.TargetGroupStickinessConfig = &st
			}
			a.ForwardConfig = &fc
		}
		out[i] = a
	}
	return out
}

// Client returns an SDK client of f at e.
func (f *ELB) Client(e Endpoint) *elbv2.Client { return elbv2.NewFromConfig(e.Config()) }

// ServeHTTP serves one awsQuery call.
func (f *ELB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, op, ok := QueryCall(w, r, "2015-12-01", f.Faults)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	result, fault := f.serve(op, form)
	if fault != nil {
		WriteQueryError(w, *fault)
		return
	}
	WriteQueryResult(w, op, elbNS, result)
}

func notFound(code, what string) *Fault {
	return &Fault{http.StatusBadRequest, code, what + " not found"}
}

func invalid(msg string, args ...any) *Fault {
	return &Fault{http.StatusBadRequest, "ValidationError", fmt.Sprintf(msg, args...)}
}

func (f *ELB) serve(op string, form url.Values) (any, *Fault) {
	type listenersResult struct {
		XMLName   xml.Name
		Listeners []Listener `xml:"Listeners>member"`
	}
	type rulesResult struct {
		XMLName xml.Name
		Rules   []Rule `xml:"Rules>member"`
	}
	name := xml.Name{Local: op + "Result"}
	switch op {
	case "DescribeListeners":
		res := listenersResult{XMLName: name}
		for _, arn := range FormList(form, "ListenerArns") {
			l, ok := f.listeners[arn]
			if !ok {
				return nil, notFound("ListenerNotFound", "listener "+arn)
			}
			res.Listeners = append(res.Listeners, *l)
		}
		return res, nil
	case "ModifyListener":
		arn := FormGet(form, "ListenerArn")
		l, ok := f.listeners[arn]
		if !ok {
			return nil, notFound("ListenerNotFound", "listener "+arn)
		}
		if fault := f.replaceActions(form, arn, "DefaultActions", &l.DefaultActions); fault != nil {
			return nil, fault
		}
		return listenersResult{XMLName: name, Listeners: []Listener{*l}}, nil
	case "DescribeRules":
		res := rulesResult{XMLName: name}
		for _, arn := range FormList(form, "RuleArns") {
			r, ok := f.rules[arn]
			if !ok {
				return nil, notFound("RuleNotFound", "rule "+arn)
			}
			res.Rules = append(res.Rules, *r)
		}
		return res, nil
	case "ModifyRule":
		arn := FormGet(form, "RuleArn")
		r, ok := f.rules[arn]
		if !ok {
			return nil, notFound("RuleNotFound", "rule "+arn)
		}
		if r.IsDefault {
			return nil, &Fault{http.StatusBadRequest, "OperationNotPermitted", "default rule cannot be modified"}
		}
		if fault := f.replaceActions(form, arn, "Actions", &r.Actions); fault != nil {
			return nil, fault
		}
		if n := FormMembers(form, "Conditions"); len(n) > 0 {
			var cs []Condition
			for _, i := range n {
				p := fmt.Sprintf("Conditions.member.%d", i)
				cs = append(cs, Condition{Field: FormGet(form, p+".Field"), Values: FormList(form, p+".Values")})
			}
			r.Conditions = cs
		}
		return rulesResult{XMLName: name, Rules: []Rule{*r}}, nil
	case "DescribeTargetHealth":
		arn := FormGet(form, "TargetGroupArn")
		ms, ok := f.tgs[arn]
		if f.members != nil {
			ms, ok = f.members(arn)
		}
		if !ok {
			return nil, notFound("TargetGroupNotFound", "target group "+arn)
		}
		return struct {
			XMLName xml.Name
			Members []Member `xml:"TargetHealthDescriptions>member"`
		}{name, ms}, nil
	}
	return nil, &Fault{http.StatusBadRequest, "InvalidAction", "unknown action " + op}
}

// replaceActions replaces *list with the prefix.member.N actions of the
// form, if it has any (ModifyListener and ModifyRule replace whole lists).
func (f *ELB) replaceActions(form url.Values, arn, prefix string, list *[]Action) *Fault {
	if len(FormMembers(form, prefix)) == 0 {
		return nil
	}
	actions, fault := f.parseActions(form, prefix, *list)
	if fault != nil {
		return fault
	}
	if f.tamper != nil {
		f.tamper(actions)
	}
	*list = actions
	f.record(arn, actions)
	return nil
}

// parseActions reads prefix.member.N actions and validates them as the
// service does. old is the list being replaced (for OIDC secrets).
func (f *ELB) parseActions(form url.Values, prefix string, old []Action) ([]Action, *Fault) {
	var out []Action
	for _, n := range FormMembers(form, prefix) {
		p := fmt.Sprintf("%s.member.%d.", prefix, n)
		a := Action{Type: FormGet(form, p+"Type"), TargetGroupArn: FormGet(form, p+"TargetGroupArn")}
		a.Order, _ = strconv.Atoi(FormGet(form, p+"Order"))
		switch a.Type {
		case "forward":
			fc := &ForwardConfig{}
			for _, m := range FormMembers(form, p+"ForwardConfig.TargetGroups") {
				q := fmt.Sprintf("%sForwardConfig.TargetGroups.member.%d.", p, m)
				w := 1
				if s := FormGet(form, q+"Weight"); s != "" {
					w, _ = strconv.Atoi(s)
				}
				fc.TargetGroups = append(fc.TargetGroups, Tuple{FormGet(form, q+"TargetGroupArn"), w})
			}
			if en := FormGet(form, p+"ForwardConfig.TargetGroupStickinessConfig.Enabled"); en != "" {
				d, _ := strconv.Atoi(FormGet(form, p+"ForwardConfig.TargetGroupStickinessConfig.DurationSeconds"))
				fc.TargetGroupStickinessConfig = &Stickiness{Enabled: en == "true", DurationSeconds: d}
				if en == "true" && (d < 1 || d > 604800) {
					return nil, invalid("stickiness duration %d outside 1–604800", d)
				}
			}
			if len(fc.TargetGroups) == 0 {
				if a.TargetGroupArn == "" {
					return nil, invalid("forward action without target groups")
				}
				fc.TargetGroups = []Tuple{{a.TargetGroupArn, 1}}
			} else if a.TargetGroupArn != "" && (len(fc.TargetGroups) != 1 || fc.TargetGroups[0].TargetGroupArn != a.TargetGroupArn) {
				return nil, invalid("TargetGroupArn and ForwardConfig name different target groups")
			}
			if len(fc.TargetGroups) > 5 {
				return nil, &Fault{http.StatusBadRequest, "TooManyTargetGroups", "at most 5 target groups per action"}
			}
			for _, t := range fc.TargetGroups {
				if _, ok := f.tgs[t.TargetGroupArn]; !ok {
					return nil, notFound("TargetGroupNotFound", "target group "+t.TargetGroupArn)
				}
				if t.Weight < 0 || t.Weight > 999 {
					return nil, invalid("weight %d outside 0–999", t.Weight)
				}
			}
			a.ForwardConfig = fc
			if len(fc.TargetGroups) == 1 {
				a.TargetGroupArn = fc.TargetGroups[0].TargetGroupArn
			} else {
				a.TargetGroupArn = ""
			}
		case "fixed-response":
			a.FixedResponseConfig = &FixedResponseConfig{StatusCode: FormGet(form, p+"FixedResponseConfig.StatusCode"), ContentType: FormGet(form, p+"FixedResponseConfig.ContentType")}
		case "authenticate-oidc":
			q := p + "AuthenticateOidcConfig."
			c := &OIDCConfig{Issuer: FormGet(form, q+"Issuer"), AuthorizationEndpoint: FormGet(form, q+"AuthorizationEndpoint"),
				TokenEndpoint: FormGet(form, q+"TokenEndpoint"), UserInfoEndpoint: FormGet(form, q+"UserInfoEndpoint"),
				ClientId: FormGet(form, q+"ClientId"), ClientSecret: FormGet(form, q+"ClientSecret")}
			if c.ClientSecret == "" {
				if FormGet(form, q+"UseExistingClientSecret") != "true" {
					return nil, invalid("authenticate-oidc: ClientSecret is required unless UseExistingClientSecret is true")
				}
				for _, o := range old {
					if o.AuthenticateOidcConfig != nil {
						c.ClientSecret = o.AuthenticateOidcConfig.ClientSecret
					}
				}
			}
			a.AuthenticateOidcConfig = c
		default:
			return nil, invalid("action type %q not supported by the fake", a.Type)
		}
		out = append(out, a)
	}
	return out, nil
}

// Forward returns the forward config of the action list of arn.
func (f *ELB) Forward(arn string) ForwardConfig {
	for _, a := range f.Actions(arn) {
		if a.Type == "forward" {
			return *a.ForwardConfig
		}
	}
	return ForwardConfig{}
}
