package awsprovider_test

// A stateful fake of Elastic Load Balancing v2 over awsQuery (form-encoded
// POST, XML answers): listeners with default actions, rules with conditions
// and actions, target groups with registered members. It enforces what the
// real service enforces for the calls the provider makes: whole action
// lists replaced, at most 5 target groups per forward action, weights
// 0–999, known target groups, stickiness duration when enabled, an OIDC
// client secret or UseExistingClientSecret.

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

const (
	elbNS        = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
	testAccount  = "123456789012"
	testLBARN    = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/front/50dc6c495c0c9188"
	testListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2"
	testRule     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	testDefRule  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2/0000000000000001"
	testBlueTG   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067"
	testGreenTG  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/4b8d2f4e9c1a7d35"
)

// testTG returns the ARN of a target group called name.
func testTG(name string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:%s:targetgroup/%s/%016x", testAccount, name, len(name)*7919)
}

type xTuple struct {
	TargetGroupArn string
	Weight         int
}

type xStick struct {
	Enabled         bool
	DurationSeconds int `xml:",omitempty"`
}

type xForward struct {
	TargetGroups                []xTuple `xml:"TargetGroups>member"`
	TargetGroupStickinessConfig *xStick  `xml:",omitempty"`
}

type xFixed struct {
	StatusCode  string
	ContentType string `xml:",omitempty"`
}

type xOidc struct {
	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	UserInfoEndpoint      string
	ClientId              string
	clientSecret          string // never returned, as AWS does
}

type xAction struct {
	Type                   string
	Order                  int       `xml:",omitempty"`
	TargetGroupArn         string    `xml:",omitempty"`
	ForwardConfig          *xForward `xml:",omitempty"`
	FixedResponseConfig    *xFixed   `xml:",omitempty"`
	AuthenticateOidcConfig *xOidc    `xml:",omitempty"`
}

type xCondition struct {
	Field  string
	Values []string `xml:"Values>member"`
}

type xListener struct {
	ListenerArn     string
	LoadBalancerArn string
	Port            int
	Protocol        string
	DefaultActions  []xAction `xml:"DefaultActions>member"`
}

type xRule struct {
	RuleArn    string
	Priority   string
	IsDefault  bool
	Conditions []xCondition `xml:"Conditions>member"`
	Actions    []xAction    `xml:"Actions>member"`
}

type xMember struct {
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

// fakeELB is the fake service.
type fakeELB struct {
	wireCalls
	mu        sync.Mutex
	listeners map[string]*xListener
	rules     map[string]*xRule
	tgs       map[string][]xMember // target group ARN → members
	// tamper, if set, changes an action list after a Modify and before the
	// answer (another writer, a service that ignores a field).
	tamper func(actions []xAction)
}

// newFakeELB returns a service with one listener forwarding to blue (100)
// and green (0) with stickiness on for an hour, a rule on it doing the
// same for /api/*, and the blue and green target groups.
func newFakeELB() *fakeELB {
	fwd := func() []xAction {
		return []xAction{{Type: "forward", Order: 1, ForwardConfig: &xForward{
			TargetGroups:                []xTuple{{testBlueTG, 100}, {testGreenTG, 0}},
			TargetGroupStickinessConfig: &xStick{Enabled: true, DurationSeconds: 3600},
		}}}
	}
	f := &fakeELB{
		listeners: map[string]*xListener{testListener: {ListenerArn: testListener, LoadBalancerArn: testLBARN, Port: 443, Protocol: "HTTPS", DefaultActions: fwd()}},
		rules: map[string]*xRule{
			testRule:    {RuleArn: testRule, Priority: "10", Conditions: []xCondition{{Field: "path-pattern", Values: []string{"/api/*"}}}, Actions: fwd()},
			testDefRule: {RuleArn: testDefRule, Priority: "default", IsDefault: true, Actions: fwd()},
		},
		tgs: map[string][]xMember{testBlueTG: nil, testGreenTG: nil},
	}
	return f
}

// addTG registers a target group with members in the given states.
func (f *fakeELB) addTG(arn string, states ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ms []xMember
	for i, st := range states {
		var m xMember
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

// setActions replaces the default actions of the listener or the actions
// of a rule.
func (f *fakeELB) setActions(arn string, actions []xAction) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.listeners[arn]; ok {
		l.DefaultActions = actions
	} else if r, ok := f.rules[arn]; ok {
		r.Actions = actions
	}
}

// actions returns a copy of the action list of a listener or rule.
func (f *fakeELB) actions(arn string) []xAction {
	f.mu.Lock()
	defer f.mu.Unlock()
	var src []xAction
	if l, ok := f.listeners[arn]; ok {
		src = l.DefaultActions
	} else if r, ok := f.rules[arn]; ok {
		src = r.Actions
	}
	return cloneActions(src)
}

func (f *fakeELB) rule(arn string) xRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := *f.rules[arn]
	r.Actions = cloneActions(r.Actions)
	return r
}

func cloneActions(src []xAction) []xAction {
	out := make([]xAction, len(src))
	for i, a := range src {
		if a.ForwardConfig != nil {
			fc := *a.ForwardConfig
			fc.TargetGroups = append([]xTuple(nil), fc.TargetGroups...)
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

func (f *fakeELB) client(h wireHTTP) *elbv2.Client {
	o := elbv2.Options{BaseEndpoint: &h.url, Region: "us-east-1", Credentials: wireCreds, Retryer: wireRetryer()}
	if h.client != nil {
		o.HTTPClient = h.client
	}
	return elbv2.New(o)
}

func (f *fakeELB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		writeQueryError(w, wireFault{http.StatusBadRequest, "MalformedQueryString", "want a form POST"})
		return
	}
	form := r.PostForm
	op := formGet(form, "Action")
	if formGet(form, "Version") != "2015-12-01" {
		writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidAction", "bad version"})
		return
	}
	if fault, ok := f.hit(op); ok {
		writeQueryError(w, fault)
		return
	}
	if f.held(op, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	result, fault := f.serve(op, form)
	if fault != nil {
		writeQueryError(w, *fault)
		return
	}
	writeQueryResult(w, op, elbNS, result)
}

func notFound(code, what string) *wireFault {
	return &wireFault{http.StatusBadRequest, code, what + " not found"}
}

func invalid(msg string, args ...any) *wireFault {
	return &wireFault{http.StatusBadRequest, "ValidationError", fmt.Sprintf(msg, args...)}
}

func (f *fakeELB) serve(op string, form map[string][]string) (any, *wireFault) {
	type listenersResult struct {
		XMLName   xml.Name
		Listeners []xListener `xml:"Listeners>member"`
	}
	type rulesResult struct {
		XMLName xml.Name
		Rules   []xRule `xml:"Rules>member"`
	}
	name := xml.Name{Local: op + "Result"}
	switch op {
	case "DescribeListeners":
		res := listenersResult{XMLName: name}
		for _, arn := range formList(form, "ListenerArns") {
			l, ok := f.listeners[arn]
			if !ok {
				return nil, notFound("ListenerNotFound", "listener "+arn)
			}
			res.Listeners = append(res.Listeners, *l)
		}
		return res, nil
	case "ModifyListener":
		arn := formGet(form, "ListenerArn")
		l, ok := f.listeners[arn]
		if !ok {
			return nil, notFound("ListenerNotFound", "listener "+arn)
		}
		if fault := f.replaceActions(form, "DefaultActions", &l.DefaultActions); fault != nil {
			return nil, fault
		}
		return listenersResult{XMLName: name, Listeners: []xListener{*l}}, nil
	case "DescribeRules":
		res := rulesResult{XMLName: name}
		for _, arn := range formList(form, "RuleArns") {
			r, ok := f.rules[arn]
			if !ok {
				return nil, notFound("RuleNotFound", "rule "+arn)
			}
			res.Rules = append(res.Rules, *r)
		}
		return res, nil
	case "ModifyRule":
		arn := formGet(form, "RuleArn")
		r, ok := f.rules[arn]
		if !ok {
			return nil, notFound("RuleNotFound", "rule "+arn)
		}
		if r.IsDefault {
			return nil, &wireFault{http.StatusBadRequest, "OperationNotPermitted", "default rule cannot be modified"}
		}
		if fault := f.replaceActions(form, "Actions", &r.Actions); fault != nil {
			return nil, fault
		}
		if n := formMembers(form, "Conditions"); len(n) > 0 {
			var cs []xCondition
			for _, i := range n {
				p := fmt.Sprintf("Conditions.member.%d", i)
				cs = append(cs, xCondition{Field: formGet(form, p+".Field"), Values: formList(form, p+".Values")})
			}
			r.Conditions = cs
		}
		return rulesResult{XMLName: name, Rules: []xRule{*r}}, nil
	case "DescribeTargetHealth":
		arn := formGet(form, "TargetGroupArn")
		ms, ok := f.tgs[arn]
		if !ok {
			return nil, notFound("TargetGroupNotFound", "target group "+arn)
		}
		return struct {
			XMLName xml.Name
			Members []xMember `xml:"TargetHealthDescriptions>member"`
		}{name, ms}, nil
	}
	return nil, &wireFault{http.StatusBadRequest, "InvalidAction", "unknown action " + op}
}

// replaceActions replaces *list with the prefix.member.N actions of the
// form, if it has any (ModifyListener and ModifyRule replace whole lists).
func (f *fakeELB) replaceActions(form map[string][]string, prefix string, list *[]xAction) *wireFault {
	if len(formMembers(form, prefix)) == 0 {
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
	return nil
}

// parseActions reads prefix.member.N actions and validates them as the
// service does. old is the list being replaced (for OIDC secrets).
func (f *fakeELB) parseActions(form map[string][]string, prefix string, old []xAction) ([]xAction, *wireFault) {
	var out []xAction
	for _, n := range formMembers(form, prefix) {
		p := fmt.Sprintf("%s.member.%d.", prefix, n)
		a := xAction{Type: formGet(form, p+"Type"), TargetGroupArn: formGet(form, p+"TargetGroupArn")}
		a.Order, _ = strconv.Atoi(formGet(form, p+"Order"))
		switch a.Type {
		case "forward":
			fc := &xForward{}
			for _, m := range formMembers(form, p+"ForwardConfig.TargetGroups") {
				q := fmt.Sprintf("%sForwardConfig.TargetGroups.member.%d.", p, m)
				w := 1
				if s := formGet(form, q+"Weight"); s != "" {
					w, _ = strconv.Atoi(s)
				}
				fc.TargetGroups = append(fc.TargetGroups, xTuple{formGet(form, q+"TargetGroupArn"), w})
			}
			if en := formGet(form, p+"ForwardConfig.TargetGroupStickinessConfig.Enabled"); en != "" {
				d, _ := strconv.Atoi(formGet(form, p+"ForwardConfig.TargetGroupStickinessConfig.DurationSeconds"))
				fc.TargetGroupStickinessConfig = &xStick{Enabled: en == "true", DurationSeconds: d}
				if en == "true" && (d < 1 || d > 604800) {
					return nil, invalid("stickiness duration %d outside 1–604800", d)
				}
			}
			if len(fc.TargetGroups) == 0 {
				if a.TargetGroupArn == "" {
					return nil, invalid("forward action without target groups")
				}
				fc.TargetGroups = []xTuple{{a.TargetGroupArn, 1}}
			} else if a.TargetGroupArn != "" && (len(fc.TargetGroups) != 1 || fc.TargetGroups[0].TargetGroupArn != a.TargetGroupArn) {
				return nil, invalid("TargetGroupArn and ForwardConfig name different target groups")
			}
			if len(fc.TargetGroups) > 5 {
				return nil, &wireFault{http.StatusBadRequest, "TooManyTargetGroups", "at most 5 target groups per action"}
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
			a.FixedResponseConfig = &xFixed{StatusCode: formGet(form, p+"FixedResponseConfig.StatusCode"), ContentType: formGet(form, p+"FixedResponseConfig.ContentType")}
		case "authenticate-oidc":
			q := p + "AuthenticateOidcConfig."
			c := &xOidc{Issuer: formGet(form, q+"Issuer"), AuthorizationEndpoint: formGet(form, q+"AuthorizationEndpoint"),
				TokenEndpoint: formGet(form, q+"TokenEndpoint"), UserInfoEndpoint: formGet(form, q+"UserInfoEndpoint"),
				ClientId: formGet(form, q+"ClientId"), clientSecret: formGet(form, q+"ClientSecret")}
			if c.clientSecret == "" {
				if formGet(form, q+"UseExistingClientSecret") != "true" {
					return nil, invalid("authenticate-oidc: ClientSecret is required unless UseExistingClientSecret is true")
				}
				for _, o := range old {
					if o.AuthenticateOidcConfig != nil {
						c.clientSecret = o.AuthenticateOidcConfig.clientSecret
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

// forward returns the forward config of the action list of arn.
func (f *fakeELB) forward(arn string) xForward {
	for _, a := range f.actions(arn) {
		if a.Type == "forward" {
			return *a.ForwardConfig
		}
	}
	return xForward{}
}
