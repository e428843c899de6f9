package awsprovider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	eb "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// BeanstalkDescribeAPI is the call every Beanstalk client of this package
// makes: reading environments.
type BeanstalkDescribeAPI interface {
	DescribeEnvironments(ctx context.Context, in *eb.DescribeEnvironmentsInput, optFns ...func(*eb.Options)) (*eb.DescribeEnvironmentsOutput, error)
}

// BeanstalkAPI is the part of *elasticbeanstalk.Client a BeanstalkSwitcher
// uses.
type BeanstalkAPI interface {
	BeanstalkDescribeAPI
	SwapEnvironmentCNAMEs(ctx context.Context, in *eb.SwapEnvironmentCNAMEsInput, optFns ...func(*eb.Options)) (*eb.SwapEnvironmentCNAMEsOutput, error)
}

var _ BeanstalkAPI = (*eb.Client)(nil)

// checkEnvName checks the name of a Beanstalk environment, which Elastic
// Beanstalk allows 4 to 40 characters long; field names it in the error.
func checkEnvName(field, name string) error {
	if len(name) < 4 || len(name) > 40 {
		return fmt.Errorf("%s: %q: want 4–40 characters", field, name)
	}
	return nil
}

// BeanstalkOptions configures a BeanstalkSwitcher. The zero value is valid.
type BeanstalkOptions struct {
	// Logger receives debug and info logs; nil means none.
	Logger *zap.Logger
	// Clock paces the waits; nil means the wall clock.
	Clock cutover.Clock
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
	// CallTimeout bounds each attempt of each API call; a timed-out
	// attempt is retried by the client's retryer. ≥ 0; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// Timeout bounds how long Switch waits for both environments to be
	// Ready (before and after the swap) and for the CNAMEs to show the
	// swap. Zero means 10 minutes.
	Timeout time.Duration
	// PollInterval is the time between DescribeEnvironments calls while
	// waiting. Zero means 10s.
	PollInterval time.Duration
	// CNAMETTL is how long resolvers may keep answering the production
	// CNAME with the environment it named before a swap: the DNS TTL of
	// the record, which the Beanstalk API does not report. ≥ 0; 0 means
	// DefaultBeanstalkCNAMETTL. When a domain of your own points at the
	// Beanstalk CNAME, set the longer of its TTL and this.
	CNAMETTL time.Duration
}

// DefaultBeanstalkCNAMETTL is the TTL of the elasticbeanstalk.com CNAME
// records an environment's CNAME is served with: after a swap, clients
// may follow the old answer this long.
const DefaultBeanstalkCNAMETTL = 60 * time.Second

// BeanstalkSwitcher is a providers.Switcher that moves all traffic between
// two Elastic Beanstalk environments by swapping their CNAMEs. The targets
// are the environment names; the active one is the environment that holds
// the production CNAME.
//
// Switch is idempotent: when the target already holds the CNAME it only
// waits for both environments to be Ready. Otherwise it waits for both to
// be Ready (Beanstalk refuses a swap while either is updating), calls
// SwapEnvironmentCNAMEs once, and waits, within Timeout, until both are
// Ready again and the target holds the CNAME; CNAMEs that do not show the
// swap by then are an error wrapping ErrReadBackMismatch. A resumed Switch
// after a crash mid-swap finds the swap done (or not) and converges.
//
// DNS caches still send clients to the old environment for the CNAME's TTL
// (CNAMETTL, 60s by default): Propagation reports it (providers.Propagator),
// so that the bluegreen strategy holds its gates that long after a swap,
// and refuses a warm window (the old environment kept running) shorter
// than it.
//
// A BeanstalkSwitcher is safe for concurrent use.
type BeanstalkSwitcher struct {
	awsBase
	mu      sync.Mutex // serialises Switch: two swaps would swap back
	client  BeanstalkAPI
	cname   string
	envs    [2]string
	timeout time.Duration
	poll    time.Duration
	ttl     time.Duration
}

var (
	_ providers.Switcher   = (*BeanstalkSwitcher)(nil)
	_ providers.Propagator = (*BeanstalkSwitcher)(nil)
)

// NewBeanstalkSwitcher returns a switcher between the two environments
// envs (by name) of one application, for the production CNAME cname: the
// full "myapp.us-east-1.elasticbeanstalk.com" or its prefix "myapp". The
// client is usually an *elasticbeanstalk.Client.
func NewBeanstalkSwitcher(client BeanstalkAPI, cname string, envs [2]string, opts BeanstalkOptions) (*BeanstalkSwitcher, error) {
	if client == nil {
		return nil, fmt.Errorf("beanstalk switcher: nil client")
	}
	cname = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(cname), "."))
	if cname == "" {
		return nil, fmt.Errorf("beanstalk switcher: cname is empty")
	}
	for i, e := range envs {
		if err := checkEnvName(fmt.Sprintf("beanstalk switcher: envs[%d]", i), e); err != nil {
			return nil, err
		}
	}
	if envs[0] == envs[1] {
		return nil, fmt.Errorf("beanstalk switcher: both environments are %q; want two", envs[0])
	}
	timeout, err := durationOr("beanstalk switcher: Timeout", opts.Timeout, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	poll, err := durationOr("beanstalk switcher: PollInterval", opts.PollInterval, 10*time.Second)
	if err != nil {
		return nil, err
	}
	ttl, err := durationOr("beanstalk switcher: CNAMETTL", opts.CNAMETTL, DefaultBeanstalkCNAMETTL)
	if err != nil {
		return nil, fmt.Errorf("%w; want ≥ 0 (0: %s)", err, DefaultBeanstalkCNAMETTL)
	}
	s := &BeanstalkSwitcher{
		awsBase: newAWSBase(opts.Logger, opts.Clock, opts.Pacer),
		client:  client, cname: cname, envs: envs, timeout: timeout, poll: poll, ttl: ttl,
	}
	if err := s.setCallTimeout("beanstalk switcher: CallTimeout", opts.CallTimeout); err != nil {
		return nil, err
	}
	s.log = s.log.With(zap.String("cname", cname), zap.Strings("environments", envs[:]))
	return s, nil
}

// Propagation is the CNAME's TTL (BeanstalkOptions.CNAMETTL): how long
// after a swap clients may still reach the environment that held the
// CNAME before. It makes no call.
func (s *BeanstalkSwitcher) Propagation(context.Context) (time.Duration, error) { return s.ttl, nil }

// beanstalkView is what one DescribeEnvironments call showed.
type beanstalkView struct {
	active string // environment holding the CNAME, "" if neither
	status [2]ebtypes.EnvironmentStatus
	cnames [2]string
}

func (v beanstalkView) ready() bool {
	return v.status[0] == ebtypes.EnvironmentStatusReady && v.status[1] == ebtypes.EnvironmentStatusReady
}

func (s *BeanstalkSwitcher) statusString(v beanstalkView) string {
	return fmt.Sprintf("%s %s (%s), %s %s (%s)", s.envs[0], v.status[0], v.cnames[0], s.envs[1], v.status[1], v.cnames[1])
}

// Active returns the environment that holds the production CNAME. Neither
// holding it is an error.
func (s *BeanstalkSwitcher) Active(ctx context.Context) (string, error) {
	v, err := s.describe(ctx)
	if err != nil {
		return "", err
	}
	if v.active == "" {
		return "", fmt.Errorf("beanstalk %s: neither environment holds the CNAME %q: %s", s.cname, s.cname, s.statusString(v))
	}
	return v.active, nil
}

// Switch makes target (one of the two environment names) hold the
// production CNAME, swapping if needed, and returns when both
// environments are Ready and the swap shows, or the Timeout has passed.
func (s *BeanstalkSwitcher) Switch(ctx context.Context, target string) error {
	if target != s.envs[0] && target != s.envs[1] {
		return fmt.Errorf("beanstalk %s: switch to %q: not one of the environments %q and %q", s.cname, target, s.envs[0], s.envs[1])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := s.clock.Now().Add(s.timeout)
	what := fmt.Sprintf("beanstalk %s: switch to %s: wait for both environments Ready", s.cname, target)
	var v beanstalkView
	err := s.pollUntil(ctx, what, s.timeout, s.poll, func(ctx context.Context) (bool, string, error) {
		var err error
		v, err = s.describe(ctx)
		return err == nil && v.ready(), s.statusString(v), err
	})
	if err != nil {
		return err
	}
	if v.active == "" {
		return fmt.Errorf("beanstalk %s: switch to %s: neither environment holds the CNAME: %s", s.cname, target, s.statusString(v))
	}
	if v.active == target {
		s.log.Debug("already active", zap.String("target", target))
		return nil
	}
	if err := s.pace(ctx, "SwapEnvironmentCNAMEs"); err != nil {
		return err
	}
	_, err = s.client.SwapEnvironmentCNAMEs(ctx, &eb.SwapEnvironmentCNAMEsInput{
		SourceEnvironmentName:      aws.String(s.envs[0]),
		DestinationEnvironmentName: aws.String(s.envs[1]),
	}, s.ebOpt)
	if err != nil {
		return fmt.Errorf("beanstalk %s: switch to %s: SwapEnvironmentCNAMEs: %w", s.cname, target, err)
	}
	s.log.Info("CNAMEs swap requested", zap.String("target", target))
	what = fmt.Sprintf("beanstalk %s: switch to %s: wait for the swap", s.cname, target)
	err = s.pollUntil(ctx, what, max(deadline.Sub(s.clock.Now()), 0), s.poll, func(ctx context.Context) (bool, string, error) {
		var err error
		v, err = s.describe(ctx)
		return err == nil && v.ready() && v.active == target, s.statusString(v), err
	})
	if err != nil {
		if v.ready() && v.active != target {
			return fmt.Errorf("%w (CNAMEs did not swap: %w)", err, ErrReadBackMismatch)
		}
		return err
	}
	s.log.Info("CNAMEs swapped", zap.String("active", target))
	return nil
}

// describe reads both environments.
func (s *BeanstalkSwitcher) describe(ctx context.Context) (beanstalkView, error) {
	var v beanstalkView
	if err := s.pace(ctx, "DescribeEnvironments"); err != nil {
		return v, err
	}
	out, err := s.client.DescribeEnvironments(ctx, &eb.DescribeEnvironmentsInput{
		EnvironmentNames: s.envs[:],
		IncludeDeleted:   aws.Bool(false),
	}, s.ebOpt)
	if err != nil {
		return v, fmt.Errorf("beanstalk %s: DescribeEnvironments %s, %s: %w", s.cname, s.envs[0], s.envs[1], err)
	}
	found := [2]bool{}
	for _, e := range out.Environments {
		for i, name := range s.envs {
			if aws.ToString(e.EnvironmentName) != name {
				continue
			}
			found[i] = true
			v.status[i] = e.Status
			v.cnames[i] = strings.ToLower(aws.ToString(e.CNAME))
			switch e.Status {
			case ebtypes.EnvironmentStatusTerminated, ebtypes.EnvironmentStatusTerminating:
				return v, fmt.Errorf("beanstalk %s: environment %s is %s", s.cname, name, e.Status)
			}
			if s.holds(v.cnames[i]) {
				v.active = name
			}
		}
	}
	for i, ok := range found {
		if !ok {
			return v, fmt.Errorf("beanstalk %s: environment %q not found", s.cname, s.envs[i])
		}
	}
	return v, nil
}

// holds reports whether an environment's CNAME is the production CNAME.
func (s *BeanstalkSwitcher) holds(cname string) bool {
	return cname == s.cname || strings.HasPrefix(cname, s.cname+".")
}

// ebOpt bounds each attempt of a Beanstalk call by CallTimeout.
func (s *BeanstalkSwitcher) ebOpt(o *eb.Options) { o.HTTPClient = s.bound(o.HTTPClient) }
