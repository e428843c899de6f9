package awsprovider

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// elbKind is the kind of Elastic Load Balancing resource an ARN names.
type elbKind int

const (
	elbTargetGroup elbKind = iota + 1
	elbLoadBalancer
	elbListener
	elbRule
)

func (k elbKind) String() string {
	switch k {
	case elbTargetGroup:
		return "target group"
	case elbLoadBalancer:
		return "load balancer"
	case elbListener:
		return "listener"
	case elbRule:
		return "listener rule"
	}
	return "unknown"
}

// elbARN is a parsed Elastic Load Balancing v2 ARN.
type elbARN struct {
	raw    string
	kind   elbKind
	region string
	// lbType is "app", "net" or "gwy" (not set for target groups).
	lbType string
	// suffix is the CloudWatch dimension value: "targetgroup/name/id" for
	// a target group, "app/name/id" (the load balancer's) for the others.
	suffix string
}

// parseELBARN parses an ELBv2 ARN:
//
//	arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID
//	arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID
//	arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/LBID/ID
//	arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/LBID/LID/ID
func parseELBARN(s string) (elbARN, error) {
	bad := func(why string) (elbARN, error) {
		return elbARN{}, fmt.Errorf("malformed ELB ARN %q: %s", s, why)
	}
	a, err := arn.Parse(s)
	if err != nil {
		return bad(err.Error())
	}
	if !strings.HasPrefix(a.Partition, "aws") {
		return bad(fmt.Sprintf("partition %q is not an AWS partition", a.Partition))
	}
	if a.Service != "elasticloadbalancing" {
		return bad(fmt.Sprintf("service is %q, want elasticloadbalancing", a.Service))
	}
	if !validToken(a.Region) {
		return bad("missing or invalid region")
	}
	if len(a.AccountID) != 12 || strings.Trim(a.AccountID, "0123456789") != "" {
		return bad("account must be 12 digits")
	}
	parts := strings.Split(a.Resource, "/")
	for _, p := range parts {
		if !validToken(p) {
			return bad(fmt.Sprintf("resource %q has an empty or invalid part", a.Resource))
		}
	}
	out := elbARN{raw: s, region: a.Region}
	want := 0
	switch parts[0] {
	case "targetgroup":
		out.kind, want = elbTargetGroup, 3
	case "loadbalancer":
		out.kind, want = elbLoadBalancer, 4
	case "listener":
		out.kind, want = elbListener, 5
	case "listener-rule":
		out.kind, want = elbRule, 6
	default:
		return bad(fmt.Sprintf("resource type %q is not targetgroup, loadbalancer, listener or listener-rule", parts[0]))
	}
	if len(parts) != want {
		return bad(fmt.Sprintf("a %s resource has %d parts separated by '/', got %d", out.kind, want, len(parts)))
	}
	if out.kind == elbTargetGroup {
		out.suffix = a.Resource
		return out, nil
	}
	out.lbType = parts[1]
	switch out.lbType {
	case "app", "net", "gwy":
	default:
		return bad(fmt.Sprintf("load balancer type %q is not app, net or gwy", out.lbType))
	}
	out.suffix = strings.Join(parts[1:4], "/")
	return out, nil
}

// validToken reports whether s is non-empty and made of letters, digits,
// '-', '_' and '.' only.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// parseTargetGroups checks a map of target names to target group ARNs:
// at least one, at most max (0: no limit), names non-empty, ARNs well-formed
// target group ARNs, no ARN twice. It returns the parsed ARNs by name.
func parseTargetGroups(what string, targets map[string]string, max int) (map[string]elbARN, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("%s: targets: need at least one target group", what)
	}
	if max > 0 && len(targets) > max {
		return nil, fmt.Errorf("%s: targets: %d target groups, at most %d allowed in one forward action", what, len(targets), max)
	}
	out := make(map[string]elbARN, len(targets))
	seen := make(map[string]string, len(targets))
	for _, name := range sortedKeys(targets) {
		raw := targets[name]
		if name == "" {
			return nil, fmt.Errorf("%s: targets: empty target name for %q", what, raw)
		}
		a, err := parseELBARN(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: target %q: %w", what, name, err)
		}
		if a.kind != elbTargetGroup {
			return nil, fmt.Errorf("%s: target %q: %s is a %s ARN, want a target group ARN", what, name, raw, a.kind)
		}
		if other, dup := seen[raw]; dup {
			return nil, fmt.Errorf("%s: targets %q and %q name the same target group %s", what, other, name, raw)
		}
		seen[raw] = name
		out[name] = a
	}
	return out, nil
}
