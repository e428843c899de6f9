package awsprovider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/safecutover/safecutover/providers"
)

// PreflightCheck is one check of a pre-flight: Field names what the
// resource was configured by — a command-line flag ("-listener-arn") or
// a field of the caller's configuration ("Migration.BlueGroup") — so
// that a problem points at what to fix; Check reads the resource and
// returns why it is not usable, or nil. A check only reads: it changes
// nothing in the cloud.
type PreflightCheck struct {
	Field string
	Check func(ctx context.Context) error
}

// PreflightProblem is one failed check.
type PreflightProblem struct {
	Field string
	Err   error
}

// PreflightError lists every check of a pre-flight that failed, in the
// order the checks were given.
type PreflightError struct {
	Problems []PreflightProblem
}

// Error lists the problems, one a line: "pre-flight: 2 problems:\n
// -listener-arn: ...".
func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pre-flight: %d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteByte('s')
	}
	b.WriteByte(':')
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Field, p.Err)
	}
	return b.String()
}

// Unwrap returns the problems' errors, for errors.Is and errors.As.
func (e *PreflightError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Err
	}
	return out
}

// PreflightOptions configures Preflight. The zero value is valid.
type PreflightOptions struct {
	// Timeout bounds the whole pre-flight: a check still running then is
	// a problem of its own (an unreachable endpoint retried by the SDK).
	// Zero means 30 seconds.
	Timeout time.Duration
}

// Preflight runs every check at once and returns nil when all pass, or a
// *PreflightError that lists every one that failed, each with its Field.
// Run it before a cutover journals anything: a cutover whose credentials,
// listener, fleets, alarms or metrics cannot be read would otherwise start,
// journal its first stage and spend its rollback timeout retrying. A check
// with an empty Field or a nil Check is a problem in itself.
func Preflight(ctx context.Context, opts PreflightOptions, checks ...PreflightCheck) error {
	timeout, err := durationOr("pre-flight: Timeout", opts.Timeout, 30*time.Second)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("pre-flight: no answer within %s", timeout))
	defer cancel()
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		switch {
		case c.Field == "":
			errs[i] = errors.New("a check with no field naming it")
		case c.Check == nil:
			errs[i] = errors.New("a nil check")
		default:
			wg.Go(func() { errs[i] = c.Check(ctx) })
		}
	}
	wg.Wait()
	var pe PreflightError
	for i, err := range errs {
		if err != nil {
			pe.Problems = append(pe.Problems, PreflightProblem{Field: checks[i].Field, Err: err})
		}
	}
	if len(pe.Problems) > 0 {
		return &pe
	}
	return nil
}

// CheckCredentials checks that creds (an aws.Config's Credentials)
// yields credentials.
func CheckCredentials(field string, creds aws.CredentialsProvider) PreflightCheck {
	return PreflightCheck{Field: field, Check: func(ctx context.Context) error {
		if creds == nil {
			return errors.New("no AWS credentials: set AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role provides them")
		}
		if _, err := creds.Retrieve(ctx); err != nil {
			return fmt.Errorf("no AWS credentials (set AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role provides them): %w", err)
		}
		return nil
	}}
}

// CheckRouter checks that r's weights can be read: the listener, rule or
// records exist and route to the router's targets.
func CheckRouter(field string, r providers.TrafficRouter) PreflightCheck {
	return PreflightCheck{Field: field, Check: func(ctx context.Context) error {
		if r == nil {
			return errors.New("no router")
		}
		w, err := r.Weights(ctx)
		if err != nil {
			return err
		}
		return w.Validate()
	}}
}

// CheckSwitcher checks that s can tell which target is active.
func CheckSwitcher(field string, s providers.Switcher) PreflightCheck {
	return PreflightCheck{Field: field, Check: func(ctx context.Context) error {
		if s == nil {
			return errors.New("no switcher")
		}
		_, err := s.Active(ctx)
		return err
	}}
}

// CheckFleet checks that f's capacity can be read: the service, group or
// environment exists and is not being deleted.
func CheckFleet(field string, f providers.Fleet) PreflightCheck {
	return PreflightCheck{Field: field, Check: func(ctx context.Context) error {
		if f == nil {
			return errors.New("no fleet")
		}
		_, err := f.Capacity(ctx)
		return err
	}}
}

// CheckAlarms checks that every alarm of names exists.
func CheckAlarms(field string, s providers.AlarmSource, names []string) PreflightCheck {
	return PreflightCheck{Field: field, Check: func(ctx context.Context) error {
		if s == nil || len(names) == 0 {
			return errors.New("no alarm source or no alarm names")
		}
		_, err := s.Alarms(ctx, names)
		return err
	}}
}

// CheckTargetHealth checks that the members of every target can be read.
func CheckTargetHealth(field string, s providers.TargetHealthSource, targets ...string) PreflightCheck {
	return PreflightCheck{Field: field, Check: func(ctx context.Context) error {
		if s == nil || len(targets) == 0 {
			return errors.New("no target health source or no targets")
		}
		for _, t := range targets {
			if _, err := s.TargetHealth(ctx, t); err != nil {
				return err
			}
		}
		return nil
	}}
}

// CheckMetrics checks that the source answers every query. No data is
// fine (green may take no traffic yet); an error is not — an unknown load
// balancer or target group, a metric the source cannot answer.
func CheckMetrics(field string, s providers.MetricSource, queries ...providers.MetricQuery) PreflightCheck {
	return PreflightCheck{Field: field, Check: func(ctx context.Context) error {
		if s == nil || len(queries) == 0 {
			return errors.New("no metric source or no queries")
		}
		for _, q := range queries {
			if _, err := s.Metric(ctx, q); err != nil {
				return fmt.Errorf("metric %s of %s: %w", q.Metric, q.Target, err)
			}
		}
		return nil
	}}
}
