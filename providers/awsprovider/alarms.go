package awsprovider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/providers"
)

// CloudWatchAlarmsAPI is the part of *cloudwatch.Client an AlarmSource
// uses.
type CloudWatchAlarmsAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

var _ CloudWatchAlarmsAPI = (*cloudwatch.Client)(nil)

// AlarmSourceOptions configures an AlarmSource. The zero value is valid.
type AlarmSourceOptions struct {
	// Logger receives debug logs; nil means none.
	Logger *zap.Logger
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
	// CallTimeout bounds each attempt of each API call; a timed-out
	// attempt is retried by the client's retryer. ≥ 0; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
}

// AlarmSource is a providers.AlarmSource over CloudWatch DescribeAlarms.
// It asks for every alarm type — metric, composite and log alarms; without
// AlarmTypes CloudWatch returns metric alarms only, and a composite alarm
// would look unknown — up to 100 names a call. A name CloudWatch does not
// know is an error, never a silent OK. Safe for concurrent use.
type AlarmSource struct {
	awsBase
	client CloudWatchAlarmsAPI
}

var _ providers.AlarmSource = (*AlarmSource)(nil)

// NewAlarmSource returns an AlarmSource. The client is usually a
// *cloudwatch.Client.
func NewAlarmSource(client CloudWatchAlarmsAPI, opts AlarmSourceOptions) (*AlarmSource, error) {
	if client == nil {
		return nil, fmt.Errorf("alarm source: nil client")
	}
	b := newAWSBase(opts.Logger, nil, opts.Pacer)
	if err := b.setCallTimeout("alarm source: CallTimeout", opts.CallTimeout); err != nil {
		return nil, err
	}
	return &AlarmSource{awsBase: b, client: client}, nil
}

const describeAlarmsMaxNames = 100

// Alarms returns the state of each named alarm, in the order of names.
func (s *AlarmSource) Alarms(ctx context.Context, names []string) ([]providers.Alarm, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var uniq []string
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || len(n) > 255 {
			return nil, fmt.Errorf("alarms: name %q must be 1–255 characters", n)
		}
		if !seen[n] {
			seen[n] = true
			uniq = append(uniq, n)
		}
	}
	found := make(map[string]providers.Alarm, len(uniq))
	for start := 0; start < len(uniq); start += describeAlarmsMaxNames {
		chunk := uniq[start:min(start+describeAlarmsMaxNames, len(uniq))]
		if err := s.describe(ctx, chunk, found); err != nil {
			return nil, err
		}
	}
	var missing []string
	out := make([]providers.Alarm, 0, len(names))
	for _, n := range names {
		a, ok := found[n]
		if !ok {
			missing = append(missing, fmt.Sprintf("%q", n))
			continue
		}
		out = append(out, a)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("alarms: CloudWatch has no alarm named %s", strings.Join(missing, ", "))
	}
	return out, nil
}

func (s *AlarmSource) describe(ctx context.Context, names []string, found map[string]providers.Alarm) error {
	in := &cloudwatch.DescribeAlarmsInput{
		AlarmNames: names,
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm, cwtypes.AlarmTypeLogAlarm},
		MaxRecords: aws.Int32(describeAlarmsMaxNames),
	}
	const maxPages = 10
	for page := 0; page < maxPages; page++ {
		if err := s.pace(ctx, "DescribeAlarms"); err != nil {
			return err
		}
		out, err := s.client.DescribeAlarms(ctx, in, s.cwOpt)
		if err != nil {
			return fmt.Errorf("alarms %s: DescribeAlarms: %w", strings.Join(names, ", "), err)
		}
		add := func(name *string, state cwtypes.StateValue, reason *string, updated providers.Alarm) {
			a := updated
			a.Name, a.State, a.Reason = aws.ToString(name), providers.AlarmState(state), aws.ToString(reason)
			found[a.Name] = a
		}
		for _, a := range out.MetricAlarms {
			add(a.AlarmName, a.StateValue, a.StateReason, providers.Alarm{Updated: aws.ToTime(a.StateUpdatedTimestamp)})
		}
		for _, a := range out.CompositeAlarms {
			add(a.AlarmName, a.StateValue, a.StateReason, providers.Alarm{Updated: aws.ToTime(a.StateUpdatedTimestamp)})
		}
		for _, a := range out.LogAlarms {
			add(a.AlarmName, a.StateValue, a.StateReason, providers.Alarm{Updated: aws.ToTime(a.StateUpdatedTimestamp)})
		}
		if aws.ToString(out.NextToken) == "" {
			s.log.Debug("alarms described", zap.Strings("names", names))
			return nil
		}
		in.NextToken = out.NextToken
	}
	return fmt.Errorf("alarms %s: DescribeAlarms: more than %d pages", strings.Join(names, ", "), maxPages)
}
