package awsprovider_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/providertest"
)

var testEnvs = [2]string{awstest.BlueEnv, awstest.GreenEnv}

func newEB(t *testing.T, f *awstest.Beanstalk, h awstest.Endpoint, opts awsprovider.BeanstalkOptions) *awsprovider.BeanstalkSwitcher {
	t.Helper()
	s, err := awsprovider.NewBeanstalkSwitcher(f.Client(h), "shop", testEnvs, opts)
	if err != nil {
		t.Fatalf("NewBeanstalkSwitcher: %v", err)
	}
	return s
}

func TestBeanstalkSwitcherConformance(t *testing.T) {
	providertest.TestSwitcher(t, func(t *testing.T) (providers.Switcher, []string) {
		f := awstest.NewBeanstalk()
		f.UpdatingPolls = 1
		return newEB(t, f, awstest.Serve(t, f), awsprovider.BeanstalkOptions{PollInterval: time.Millisecond, Timeout: 5 * time.Second}), testEnvs[:]
	})
}

// TestBeanstalkSwitcherCalls: one swap, then describes until both are
// Ready; switching to the active environment swaps nothing.
func TestBeanstalkSwitcherCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := awstest.NewBeanstalk()
		s := newEB(t, f, awstest.InProcess(f), awsprovider.BeanstalkOptions{})
		ctx := context.Background()
		start := time.Now()
		if err := s.Switch(ctx, awstest.GreenEnv); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"DescribeEnvironments": 4, "SwapEnvironmentCNAMEs": 1}, f.Snapshot()); diff != "" {
			t.Errorf("switch calls (-want +got):\n%s", diff)
		}
		if el := time.Since(start); el != 20*time.Second {
			t.Errorf("switch took %s, want 20s (Updating for two 10s polls)", el)
		}
		if got := f.Holder(); got != awstest.GreenEnv {
			t.Errorf("CNAME held by %s, want %s", got, awstest.GreenEnv)
		}
		before := f.Snapshot()
		for range 3 {
			if err := s.Switch(ctx, awstest.GreenEnv); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(map[string]int{"DescribeEnvironments": 3}, f.Since(before)); diff != "" {
			t.Errorf("switching to the active environment (-want +got):\n%s", diff)
		}
		if a, err := s.Active(ctx); err != nil || a != awstest.GreenEnv {
			t.Errorf("Active = %q, %v", a, err)
		}
		if err := s.Switch(ctx, awstest.BlueEnv); err != nil || f.Holder() != awstest.BlueEnv {
			t.Errorf("switch back: %v, holder %s", err, f.Holder())
		}
	})
}

func TestBeanstalkSwitcherWaitsForReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := awstest.NewBeanstalk()
		f.Set(awstest.GreenEnv, func(e *awstest.Environment) { e.Updating = 3 }) // a deployment still running
		s := newEB(t, f, awstest.InProcess(f), awsprovider.BeanstalkOptions{})
		if err := s.Switch(context.Background(), awstest.GreenEnv); err != nil {
			t.Fatal(err)
		}
		if f.Holder() != awstest.GreenEnv || f.Calls("SwapEnvironmentCNAMEs") != 1 {
			t.Errorf("holder %s after %d swaps", f.Holder(), f.Calls("SwapEnvironmentCNAMEs"))
		}
	})
}

func TestBeanstalkSwitcherSwapDidNotShow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := awstest.NewBeanstalk()
		f.IgnoreSwap = true
		s := newEB(t, f, awstest.InProcess(f), awsprovider.BeanstalkOptions{Timeout: time.Minute})
		start := time.Now()
		err := s.Switch(context.Background(), awstest.GreenEnv)
		if !errors.Is(err, awsprovider.ErrReadBackMismatch) || !errors.Is(err, awsprovider.ErrWaitTimeout) {
			t.Fatalf("Switch with a swap that never shows: %v, want ErrReadBackMismatch and ErrWaitTimeout", err)
		}
		if el := time.Since(start); el != time.Minute {
			t.Errorf("gave up after %s, want the 1m Timeout", el)
		}
		if n := f.Calls("SwapEnvironmentCNAMEs"); n != 1 {
			t.Errorf("%d swaps, want 1 (a second would swap back)", n)
		}
	})
}

func TestBeanstalkSwitcherErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*awstest.Beanstalk)
		target string
		want   string
	}{
		{"UnknownTarget", nil, "shop-red", `not one of the environments`},
		{"EmptyTarget", nil, "", `not one of the environments`},
		{"MissingEnvironment", func(f *awstest.Beanstalk) { f.Remove(awstest.GreenEnv) }, awstest.GreenEnv, `environment "shop-green" not found`},
		{"Terminated", func(f *awstest.Beanstalk) {
			f.Set(awstest.GreenEnv, func(e *awstest.Environment) { e.Status = "Terminated" })
		}, awstest.GreenEnv, "environment shop-green is Terminated"},
		{"NeitherHoldsCNAME", func(f *awstest.Beanstalk) {
			f.Set(awstest.BlueEnv, func(e *awstest.Environment) { e.CNAME = "other.us-east-1.elasticbeanstalk.com" })
		}, awstest.GreenEnv, "neither environment holds the CNAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := awstest.NewBeanstalk()
			if tc.edit != nil {
				tc.edit(f)
			}
			s := newEB(t, f, awstest.Serve(t, f), awsprovider.BeanstalkOptions{PollInterval: time.Millisecond})
			err := s.Switch(context.Background(), tc.target)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "beanstalk shop") {
				t.Errorf("Switch(%q): %v, want an error naming the CNAME and saying %q", tc.target, err, tc.want)
			}
			if n := f.Calls("SwapEnvironmentCNAMEs"); n != 0 {
				t.Errorf("%d swaps, want none", n)
			}
		})
	}
	t.Run("SwapThrottled", func(t *testing.T) {
		f := awstest.NewBeanstalk()
		f.UpdatingPolls = 0
		f.FailNext("SwapEnvironmentCNAMEs", 2, awstest.Throttling)
		s := newEB(t, f, awstest.Serve(t, f), awsprovider.BeanstalkOptions{PollInterval: time.Millisecond})
		if err := s.Switch(context.Background(), awstest.GreenEnv); err != nil || f.Holder() != awstest.GreenEnv {
			t.Errorf("Switch after 2 throttles: %v, holder %s", err, f.Holder())
		}
		if n := f.Calls("SwapEnvironmentCNAMEs"); n != 3 {
			t.Errorf("SwapEnvironmentCNAMEs calls = %d, want 3", n)
		}
	})
}

func TestNewBeanstalkSwitcherBadInput(t *testing.T) {
	f := awstest.NewBeanstalk()
	c := f.Client(awstest.Serve(t, f))
	for _, tc := range []struct {
		name  string
		cname string
		envs  [2]string
		opts  awsprovider.BeanstalkOptions
		want  string
	}{
		{"NoCNAME", "", testEnvs, awsprovider.BeanstalkOptions{}, "cname is empty"},
		{"SameEnvTwice", "shop", [2]string{awstest.BlueEnv, awstest.BlueEnv}, awsprovider.BeanstalkOptions{}, "want two"},
		{"ShortName", "shop", [2]string{"abc", awstest.GreenEnv}, awsprovider.BeanstalkOptions{}, "4–40 characters"},
		{"NegativeTimeout", "shop", testEnvs, awsprovider.BeanstalkOptions{Timeout: -1}, "Timeout"},
		{"NegativeCNAMETTL", "shop", testEnvs, awsprovider.BeanstalkOptions{CNAMETTL: -time.Second}, "CNAMETTL: -1s is negative; want ≥ 0 (0: 1m0s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := awsprovider.NewBeanstalkSwitcher(c, tc.cname, tc.envs, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewBeanstalkSwitcher = %v, %v; want an error saying %q", s, err, tc.want)
			}
		})
	}
}
