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
	"github.com/safecutover/safecutover/providers/providertest"
)

var testEnvs = [2]string{testEnvBlue, testEnvGrn}

func newEB(t *testing.T, f *fakeBeanstalk, h wireHTTP, opts awsprovider.BeanstalkOptions) *awsprovider.BeanstalkSwitcher {
	t.Helper()
	s, err := awsprovider.NewBeanstalkSwitcher(f.client(h), "shop", testEnvs, opts)
	if err != nil {
		t.Fatalf("NewBeanstalkSwitcher: %v", err)
	}
	return s
}

func TestBeanstalkSwitcherConformance(t *testing.T) {
	providertest.TestSwitcher(t, func(t *testing.T) (providers.Switcher, []string) {
		f := newFakeBeanstalk()
		f.UpdatingPolls = 1
		return newEB(t, f, wireServe(t, f), awsprovider.BeanstalkOptions{PollInterval: time.Millisecond, Timeout: 5 * time.Second}), testEnvs[:]
	})
}

// TestBeanstalkSwitcherCalls: one swap, then describes until both are
// Ready; switching to the active environment swaps nothing.
func TestBeanstalkSwitcherCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeBeanstalk()
		s := newEB(t, f, wireInProcess(f), awsprovider.BeanstalkOptions{})
		ctx := context.Background()
		start := time.Now()
		if err := s.Switch(ctx, testEnvGrn); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"DescribeEnvironments": 4, "SwapEnvironmentCNAMEs": 1}, f.snapshot()); diff != "" {
			t.Errorf("switch calls (-want +got):\n%s", diff)
		}
		if el := time.Since(start); el != 20*time.Second {
			t.Errorf("switch took %s, want 20s (Updating for two 10s polls)", el)
		}
		if got := f.holder(); got != testEnvGrn {
			t.Errorf("CNAME held by %s, want %s", got, testEnvGrn)
		}
		before := f.snapshot()
		for range 3 {
			if err := s.Switch(ctx, testEnvGrn); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(map[string]int{"DescribeEnvironments": 3}, f.since(before)); diff != "" {
			t.Errorf("switching to the active environment (-want +got):\n%s", diff)
		}
		if a, err := s.Active(ctx); err != nil || a != testEnvGrn {
			t.Errorf("Active = %q, %v", a, err)
		}
		if err := s.Switch(ctx, testEnvBlue); err != nil || f.holder() != testEnvBlue {
			t.Errorf("switch back: %v, holder %s", err, f.holder())
		}
	})
}

func TestBeanstalkSwitcherWaitsForReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeBeanstalk()
		f.set(testEnvGrn, func(e *xEnv) { e.updating = 3 }) // a deployment still running
		s := newEB(t, f, wireInProcess(f), awsprovider.BeanstalkOptions{})
		if err := s.Switch(context.Background(), testEnvGrn); err != nil {
			t.Fatal(err)
		}
		if f.holder() != testEnvGrn || f.count("SwapEnvironmentCNAMEs") != 1 {
			t.Errorf("holder %s after %d swaps", f.holder(), f.count("SwapEnvironmentCNAMEs"))
		}
	})
}

func TestBeanstalkSwitcherSwapDidNotShow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeBeanstalk()
		f.IgnoreSwap = true
		s := newEB(t, f, wireInProcess(f), awsprovider.BeanstalkOptions{Timeout: time.Minute})
		start := time.Now()
		err := s.Switch(context.Background(), testEnvGrn)
		if !errors.Is(err, awsprovider.ErrReadBackMismatch) || !errors.Is(err, awsprovider.ErrWaitTimeout) {
			t.Fatalf("Switch with a swap that never shows: %v, want ErrReadBackMismatch and ErrWaitTimeout", err)
		}
		if el := time.Since(start); el != time.Minute {
			t.Errorf("gave up after %s, want the 1m Timeout", el)
		}
		if n := f.count("SwapEnvironmentCNAMEs"); n != 1 {
			t.Errorf("%d swaps, want 1 (a second would swap back)", n)
		}
	})
}

func TestBeanstalkSwitcherErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*fakeBeanstalk)
		target string
		want   string
	}{
		{"UnknownTarget", nil, "shop-red", `not one of the environments`},
		{"EmptyTarget", nil, "", `not one of the environments`},
		{"MissingEnvironment", func(f *fakeBeanstalk) { delete(f.envs, testEnvGrn) }, testEnvGrn, `environment "shop-green" not found`},
		{"Terminated", func(f *fakeBeanstalk) { f.envs[testEnvGrn].Status = "Terminated" }, testEnvGrn, "environment shop-green is Terminated"},
		{"NeitherHoldsCNAME", func(f *fakeBeanstalk) { f.envs[testEnvBlue].CNAME = "other.us-east-1.elasticbeanstalk.com" }, testEnvGrn, "neither environment holds the CNAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeBeanstalk()
			if tc.edit != nil {
				tc.edit(f)
			}
			s := newEB(t, f, wireServe(t, f), awsprovider.BeanstalkOptions{PollInterval: time.Millisecond})
			err := s.Switch(context.Background(), tc.target)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "beanstalk shop") {
				t.Errorf("Switch(%q): %v, want an error naming the CNAME and saying %q", tc.target, err, tc.want)
			}
			if n := f.count("SwapEnvironmentCNAMEs"); n != 0 {
				t.Errorf("%d swaps, want none", n)
			}
		})
	}
	t.Run("SwapThrottled", func(t *testing.T) {
		f := newFakeBeanstalk()
		f.UpdatingPolls = 0
		f.fail("SwapEnvironmentCNAMEs", 2, faultThrottle)
		s := newEB(t, f, wireServe(t, f), awsprovider.BeanstalkOptions{PollInterval: time.Millisecond})
		if err := s.Switch(context.Background(), testEnvGrn); err != nil || f.holder() != testEnvGrn {
			t.Errorf("Switch after 2 throttles: %v, holder %s", err, f.holder())
		}
		if n := f.count("SwapEnvironmentCNAMEs"); n != 3 {
			t.Errorf("SwapEnvironmentCNAMEs calls = %d, want 3", n)
		}
	})
}

func TestNewBeanstalkSwitcherBadInput(t *testing.T) {
	f := newFakeBeanstalk()
	c := f.client(wireServe(t, f))
	for _, tc := range []struct {
		name  string
		cname string
		envs  [2]string
		opts  awsprovider.BeanstalkOptions
		want  string
	}{
		{"NoCNAME", "", testEnvs, awsprovider.BeanstalkOptions{}, "cname is empty"},
		{"SameEnvTwice", "shop", [2]string{testEnvBlue, testEnvBlue}, awsprovider.BeanstalkOptions{}, "want two"},
		{"ShortName", "shop", [2]string{"abc", testEnvGrn}, awsprovider.BeanstalkOptions{}, "4–40 characters"},
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
