package awsprovider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	eb "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// BeanstalkEnvAPI is the part of *elasticbeanstalk.Client a
// BeanstalkFleet uses.
type BeanstalkEnvAPI interface {
	BeanstalkDescribeAPI
	DescribeConfigurationSettings(ctx context.Context, in *eb.DescribeConfigurationSettingsInput, optFns ...func(*eb.Options)) (*eb.DescribeConfigurationSettingsOutput, error)
	DescribeEnvironmentResources(ctx context.Context, in *eb.DescribeEnvironmentResourcesInput, optFns ...func(*eb.Options)) (*eb.DescribeEnvironmentResourcesOutput, error)
	UpdateEnvironment(ctx context.Context, in *eb.UpdateEnvironmentInput, optFns ...func(*eb.Options)) (*eb.UpdateEnvironmentOutput, error)
}

var _ BeanstalkEnvAPI = (*eb.Client)(nil)

// The option namespace and names of an environment's capacity.
const (
	ebASGNamespace = "aws:autoscaling:asg"
	ebMinSize      = "MinSize"
	ebMaxSize      = "MaxSize"
)

// BeanstalkFleetOptions configures a BeanstalkFleet. The zero value is
// valid.
type BeanstalkFleetOptions struct {
	// Logger receives debug and info logs; nil means none.
	Logger *zap.Logger
	// Clock paces the waits; nil means the wall clock.
	Clock cutover.Clock
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
	// Timeout bounds how long SetDesired waits for the environment to be
	// Ready before updating it (Beanstalk refuses an update while the
	// environment is updating), and how long WaitReady waits. Zero means
	// 20 minutes.
	Timeout time.Duration
	// PollInterval is the time between DescribeEnvironments calls while
	// waiting. Zero means 15s.
	PollInterval time.Duration
}

// BeanstalkFleet is a providers.Fleet over the capacity of an Elastic
// Beanstalk environment: the MinSize and MaxSize option settings of the
// aws:autoscaling:asg namespace.
//
// SetDesired(n) pins the environment at n instances (MinSize = MaxSize =
// n, as "eb scale n" does) with one UpdateEnvironment call, once the
// environment is Ready; setting the capacity it already has changes
// nothing. Setting it back to the capacity the fleet first saw restores
// the maximum it first saw, with MinSize at that capacity: an environment
// that ran 4 instances scaling between 2 and 6 runs 4 and scales up to 6
// again after a revert (its minimum stays 4, so that the capacity the
// revert asked for is kept; lower it by hand once the cutover is over).
// What was first seen is remembered by this value: a new BeanstalkFleet
// (a resumed process) takes what it finds as the original. Scaling to 0
// keeps the
// environment, its configuration and its CNAME — it is how a blue
// environment is retired by default; terminating the environment is a
// separate, explicit stage (TerminateEnvironmentStage).
//
// Capacity reads the environment: Desired is MinSize when MinSize equals
// MaxSize, and otherwise the running count held within [MinSize, MaxSize]
// (what the environment's own scaling keeps); Running counts the
// environment's instances; Healthy is Running while the environment is
// Ready and its health Green, and 0 otherwise, because until then
// Beanstalk has not confirmed the instances healthy.
//
// A BeanstalkFleet is safe for concurrent use.
type BeanstalkFleet struct {
	awsBase
	client  BeanstalkEnvAPI
	env     string
	timeout time.Duration
	poll    time.Duration

	mu   sync.Mutex
	orig *ebCapacity // first seen; nil until then
}

var _ providers.Fleet = (*BeanstalkFleet)(nil)

// ebCapacity is what one read of the environment showed.
type ebCapacity struct {
	app              string
	status           ebtypes.EnvironmentStatus
	health           ebtypes.EnvironmentHealth
	minSize, maxSize int
	running          int
}

// desired is the capacity the environment keeps; see BeanstalkFleet.
func (c ebCapacity) desired() int {
	if c.minSize == c.maxSize {
		return c.minSize
	}
	return min(max(c.running, c.minSize), c.maxSize)
}

// NewBeanstalkFleet returns the fleet of the Elastic Beanstalk
// environment env (by name). The client is usually an
// *elasticbeanstalk.Client.
func NewBeanstalkFleet(client BeanstalkEnvAPI, env string, opts BeanstalkFleetOptions) (*BeanstalkFleet, error) {
	if client == nil {
		return nil, fmt.Errorf("beanstalk fleet: nil client")
	}
	if err := checkEnvName("beanstalk fleet: env", env); err != nil {
		return nil, err
	}
	timeout, err := durationOr("beanstalk fleet: Timeout", opts.Timeout, 20*time.Minute)
	if err != nil {
		return nil, err
	}
	poll, err := durationOr("beanstalk fleet: PollInterval", opts.PollInterval, 15*time.Second)
	if err != nil {
		return nil, err
	}
	f := &BeanstalkFleet{
		awsBase: newAWSBase(opts.Logger, opts.Clock, opts.Pacer),
		client:  client, env: env, timeout: timeout, poll: poll,
	}
	f.log = f.log.With(zap.String("environment", env))
	return f, nil
}

// String names the environment: "beanstalk environment shop-blue".
func (f *BeanstalkFleet) String() string { return "beanstalk environment " + f.env }

// SetDesired pins the environment at n instances, or restores the maximum
// first seen when n is the capacity first seen; see BeanstalkFleet.
func (f *BeanstalkFleet) SetDesired(ctx context.Context, n int) error {
	if n < 0 || n > 10000 {
		return fmt.Errorf("%s: set desired %d: want 0–10000 (0 scales the environment to no instances)", f, n)
	}
	var c ebCapacity
	what := fmt.Sprintf("%s: set desired %d: wait for the environment to be Ready", f, n)
	err := f.pollUntil(ctx, what, f.timeout, f.poll, func(ctx context.Context) (bool, string, error) {
		var err error
		c, err = f.read(ctx)
		return err == nil && c.status == ebtypes.EnvironmentStatusReady, fmt.Sprintf("%s, health %s", c.status, c.health), err
	})
	if err != nil {
		return err
	}
	lo, hi := n, n
	f.mu.Lock()
	if o := f.orig; o != nil && o.desired() == n {
		hi = max(o.maxSize, n)
	}
	f.mu.Unlock()
	if c.minSize == lo && c.maxSize == hi {
		f.log.Debug("capacity already set", zap.Int("min", lo), zap.Int("max", hi))
		return nil
	}
	if err := f.pace(ctx, "UpdateEnvironment"); err != nil {
		return err
	}
	_, err = f.client.UpdateEnvironment(ctx, &eb.UpdateEnvironmentInput{
		EnvironmentName: aws.String(f.env),
		OptionSettings: []ebtypes.ConfigurationOptionSetting{
			// MaxSize first: Beanstalk checks MinSize ≤ MaxSize on the result.
			{Namespace: aws.String(ebASGNamespace), OptionName: aws.String(ebMaxSize), Value: aws.String(strconv.Itoa(hi))},
			{Namespace: aws.String(ebASGNamespace), OptionName: aws.String(ebMinSize), Value: aws.String(strconv.Itoa(lo))},
		},
	})
	if err != nil {
		return fmt.Errorf("%s: set desired %d (MinSize %d, MaxSize %d): UpdateEnvironment: %w", f, n, lo, hi, err)
	}
	f.log.Info("capacity set", zap.Int("desired", n), zap.Int("min", lo), zap.Int("max", hi))
	return nil
}

// Capacity reads the environment (DescribeEnvironments,
// DescribeConfigurationSettings, DescribeEnvironmentResources).
func (f *BeanstalkFleet) Capacity(ctx context.Context) (providers.Capacity, error) {
	c, err := f.read(ctx)
	if err != nil {
		return providers.Capacity{}, err
	}
	out := providers.Capacity{Desired: c.desired(), Running: c.running}
	if c.status == ebtypes.EnvironmentStatusReady && c.health == ebtypes.EnvironmentHealthGreen {
		out.Healthy = c.running
	}
	return out, nil
}

// WaitReady polls the environment until it is Ready and Green and runs
// the capacity it keeps, within Timeout; it returns the last capacity
// seen.
func (f *BeanstalkFleet) WaitReady(ctx context.Context) (providers.Capacity, error) {
	var c providers.Capacity
	what := f.String() + ": wait for Ready and Green"
	err := f.pollUntil(ctx, what, f.timeout, f.poll, func(ctx context.Context) (bool, string, error) {
		var err error
		c, err = f.Capacity(ctx)
		status := fmt.Sprintf("desired %d running %d healthy %d", c.Desired, c.Running, c.Healthy)
		return err == nil && c.Healthy == c.Desired && c.Running == c.Desired, status, err
	})
	return c, err
}

// read reads the environment's status, health, bounds and instances, and
// remembers the first capacity seen.
func (f *BeanstalkFleet) read(ctx context.Context) (ebCapacity, error) {
	var c ebCapacity
	e, err := describeEnvironment(ctx, f.awsBase, f.client, f.env)
	if err != nil {
		return c, fmt.Errorf("%s: %w", f, err)
	}
	c.app, c.status, c.health = aws.ToString(e.ApplicationName), e.Status, e.Health
	if err := f.pace(ctx, "DescribeConfigurationSettings"); err != nil {
		return c, err
	}
	cs, err := f.client.DescribeConfigurationSettings(ctx, &eb.DescribeConfigurationSettingsInput{
		ApplicationName: aws.String(c.app), EnvironmentName: aws.String(f.env),
	})
	if err != nil {
		return c, fmt.Errorf("%s: DescribeConfigurationSettings: %w", f, err)
	}
	found := 0
	for _, s := range cs.ConfigurationSettings {
		for _, o := range s.OptionSettings {
			if aws.ToString(o.Namespace) != ebASGNamespace {
				continue
			}
			var dst *int
			switch aws.ToString(o.OptionName) {
			case ebMinSize:
				dst = &c.minSize
			case ebMaxSize:
				dst = &c.maxSize
			default:
				continue
			}
			v, err := strconv.Atoi(aws.ToString(o.Value))
			if err != nil || v < 0 || v > math.MaxInt32 {
				return c, fmt.Errorf("%s: option %s %s = %q: want a count", f, ebASGNamespace, aws.ToString(o.OptionName), aws.ToString(o.Value))
			}
			*dst = v
			found++
		}
	}
	if found != 2 {
		return c, fmt.Errorf("%s: no %s MinSize and MaxSize settings: a single-instance environment has no capacity to set", f, ebASGNamespace)
	}
	if err := f.pace(ctx, "DescribeEnvironmentResources"); err != nil {
		return c, err
	}
	res, err := f.client.DescribeEnvironmentResources(ctx, &eb.DescribeEnvironmentResourcesInput{EnvironmentName: aws.String(f.env)})
	if err != nil {
		return c, fmt.Errorf("%s: DescribeEnvironmentResources: %w", f, err)
	}
	if res.EnvironmentResources != nil {
		c.running = len(res.EnvironmentResources.Instances)
	}
	f.mu.Lock()
	if f.orig == nil {
		o := c
		f.orig = &o
	}
	f.mu.Unlock()
	return c, nil
}

// errEnvironmentGone: the environment is terminating or terminated.
var errEnvironmentGone = errors.New("environment gone")

// describeEnvironment reads one environment by name; a missing or
// terminated environment is an error.
func describeEnvironment(ctx context.Context, b awsBase, client BeanstalkDescribeAPI, env string) (ebtypes.EnvironmentDescription, error) {
	if err := b.pace(ctx, "DescribeEnvironments"); err != nil {
		return ebtypes.EnvironmentDescription{}, err
	}
	out, err := client.DescribeEnvironments(ctx, &eb.DescribeEnvironmentsInput{EnvironmentNames: []string{env}, IncludeDeleted: aws.Bool(false)})
	if err != nil {
		return ebtypes.EnvironmentDescription{}, fmt.Errorf("DescribeEnvironments: %w", err)
	}
	for _, e := range out.Environments {
		if aws.ToString(e.EnvironmentName) != env {
			continue
		}
		switch e.Status {
		case ebtypes.EnvironmentStatusTerminated, ebtypes.EnvironmentStatusTerminating:
			return e, fmt.Errorf("environment is %s: %w", e.Status, errEnvironmentGone)
		}
		return e, nil
	}
	return ebtypes.EnvironmentDescription{}, fmt.Errorf("DescribeEnvironments: environment not found")
}

// BeanstalkTerminateAPI is the part of *elasticbeanstalk.Client
// TerminateEnvironmentStage uses.
type BeanstalkTerminateAPI interface {
	BeanstalkDescribeAPI
	TerminateEnvironment(ctx context.Context, in *eb.TerminateEnvironmentInput, optFns ...func(*eb.Options)) (*eb.TerminateEnvironmentOutput, error)
}

var _ BeanstalkTerminateAPI = (*eb.Client)(nil)

// TerminateEnvironmentStage returns a stage that terminates the Elastic
// Beanstalk environment env: irreversible — the environment, its
// configuration and its instances are gone — so it always waits for an
// approval of its own. Nothing terminates an environment by default; a
// plan that wants it adds this stage explicitly, after blue has been
// scaled to 0 and kept so long enough to be sure. Apply is idempotent: an
// environment already terminating or terminated is left alone. The stage
// is named "terminate environment ENV".
func TerminateEnvironmentStage(client BeanstalkTerminateAPI, env string, opts BeanstalkFleetOptions) (cutover.Stage, error) {
	if client == nil {
		return cutover.Stage{}, fmt.Errorf("terminate environment stage: nil client")
	}
	if err := checkEnvName("terminate environment stage: env", env); err != nil {
		return cutover.Stage{}, err
	}
	b := newAWSBase(opts.Logger, opts.Clock, opts.Pacer)
	name := "terminate environment " + env
	return cutover.Stage{
		Name:          name,
		Reversibility: cutover.Irreversible(),
		Approval:      true,
		Apply: func(ctx context.Context) error {
			_, err := describeEnvironment(ctx, b, client, env)
			if errors.Is(err, errEnvironmentGone) {
				return nil // done before: a resumed runner applies again
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if err := b.pace(ctx, "TerminateEnvironment"); err != nil {
				return err
			}
			if _, err := client.TerminateEnvironment(ctx, &eb.TerminateEnvironmentInput{EnvironmentName: aws.String(env)}); err != nil {
				return fmt.Errorf("%s: TerminateEnvironment: %w", name, err)
			}
			b.log.Info("environment termination requested", zap.String("environment", env))
			return nil
		},
	}, nil
}
