package awsprovider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/providers"
)

// TargetHealthAPI is the part of *elasticloadbalancingv2.Client a
// TargetHealthSource uses (the SDK's own DescribeTargetHealthAPIClient).
type TargetHealthAPI = elbv2.DescribeTargetHealthAPIClient

var _ TargetHealthAPI = (*elbv2.Client)(nil)

// TargetHealthOptions configures a TargetHealthSource. The zero value is
// valid.
type TargetHealthOptions struct {
	// Logger receives debug logs; nil means none.
	Logger *zap.Logger
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
	// CallTimeout bounds each attempt of each API call; a timed-out
	// attempt is retried by the client's retryer. ≥ 0; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
}

// TargetHealthSource is a providers.TargetHealthSource over ELB
// DescribeTargetHealth: the members of a target group and their health
// states (healthy, unhealthy, initial, draining, unused, unavailable), one
// call a query. Safe for concurrent use.
type TargetHealthSource struct {
	awsBase
	client TargetHealthAPI
	tgs    map[string]string // name → target group ARN
}

var _ providers.TargetHealthSource = (*TargetHealthSource)(nil)

// NewTargetHealthSource returns a source for the target groups targets
// (target name → target group ARN). The client is usually an
// *elasticloadbalancingv2.Client.
func NewTargetHealthSource(client TargetHealthAPI, targets map[string]string, opts TargetHealthOptions) (*TargetHealthSource, error) {
	if client == nil {
		return nil, fmt.Errorf("target health source: nil client")
	}
	if _, err := parseTargetGroups("target health source", targets, 0); err != nil {
		return nil, err
	}
	s := &TargetHealthSource{awsBase: newAWSBase(opts.Logger, nil, opts.Pacer), client: client, tgs: make(map[string]string, len(targets))}
	if err := s.setCallTimeout("target health source: CallTimeout", opts.CallTimeout); err != nil {
		return nil, err
	}
	for k, v := range targets {
		s.tgs[k] = v
	}
	return s, nil
}

// TargetHealth returns the health of every registered member of the
// target's target group. A member's ID is its instance ID, IP address or
// Lambda ARN, with ":port" when the target group registered it with one.
func (s *TargetHealthSource) TargetHealth(ctx context.Context, target string) ([]providers.TargetHealth, error) {
	arn, ok := s.tgs[target]
	if !ok {
		return nil, fmt.Errorf("target health: unknown target %q (known: %s)", target, strings.Join(sortedKeys(s.tgs), ", "))
	}
	if err := s.pace(ctx, "DescribeTargetHealth"); err != nil {
		return nil, err
	}
	out, err := s.client.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)}, func(o *elbv2.Options) { o.HTTPClient = s.bound(o.HTTPClient) })
	if err != nil {
		return nil, fmt.Errorf("target health of %q (%s): DescribeTargetHealth: %w", target, arn, err)
	}
	res := make([]providers.TargetHealth, 0, len(out.TargetHealthDescriptions))
	for _, d := range out.TargetHealthDescriptions {
		var th providers.TargetHealth
		if d.Target != nil {
			th.ID = aws.ToString(d.Target.Id)
			if d.Target.Port != nil {
				th.ID = fmt.Sprintf("%s:%d", th.ID, *d.Target.Port)
			}
		}
		if h := d.TargetHealth; h != nil {
			th.State = string(h.State)
			th.Reason = string(h.Reason)
			if desc := aws.ToString(h.Description); desc != "" {
				if th.Reason != "" {
					th.Reason += ": "
				}
				th.Reason += desc
			}
		}
		res = append(res, th)
	}
	s.log.Debug("target health", zap.String("target", target), zap.Int("members", len(res)))
	return res, nil
}
