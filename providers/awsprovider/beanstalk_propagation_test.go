package awsprovider_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// firstJudged is a passing gate that remembers when it was first asked.
type firstJudged struct {
	mu    sync.Mutex
	first time.Time
}

func (g *firstJudged) Evaluate(context.Context) (cutover.Verdict, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.first.IsZero() {
		g.first = time.Now()
	}
	return cutover.Verdict{Decision: cutover.Pass, Reason: "5xx 0.1%", Final: true}, nil
}

// TestBeanstalkSwapPropagation: a CNAME swap reaches clients only after
// the CNAME's TTL, which the switcher reports as its propagation
// (60 s by default, CNAMETTL when set); the blue/green switch over it,
// through the SDK, holds its gates until the TTL has passed since the
// swap, and refuses, before swapping, a warm window shorter than it.
func TestBeanstalkSwapPropagation(t *testing.T) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{{"default", 0, 60 * time.Second}, {"set", 5 * time.Minute, 5 * time.Minute}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := awstest.NewBeanstalk()
				s := newEB(t, f, awstest.InProcess(f), awsprovider.BeanstalkOptions{CNAMETTL: tc.ttl})
				if got, err := s.Propagation(t.Context()); err != nil || got != tc.want {
					t.Fatalf("Propagation = %v, %v; want %v", got, err, tc.want)
				}
				gate := &firstJudged{}
				bg, err := bluegreen.New(bluegreen.Options{Switcher: s, Blue: awstest.BlueEnv, Green: awstest.GreenEnv,
					Gates: []cutover.Gate{cutover.Named("5xx", gate)}, Bake: 10 * time.Minute, Window: 30 * time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				plan, err := cutover.Sequence("swap", bg.Switch())
				if err != nil {
					t.Fatal(err)
				}
				j := cutover.NewMemJournal()
				if _, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: 5 * time.Second}).Run(t.Context(), "eb", plan); err != nil {
					t.Fatalf("run: %v", err)
				}
				recs, err := j.Read(t.Context(), "eb", 0)
				if err != nil {
					t.Fatal(err)
				}
				var applied time.Time
				for _, r := range recs {
					if r.Type == cutover.RecApplied && r.Stage == bluegreen.StageSwitch {
						applied = r.Time
					}
				}
				if held := gate.first.Sub(applied); held < tc.want {
					t.Errorf("gate first judged %s after the swap, want ≥ the CNAME TTL %s", held, tc.want)
				}
				if got := f.Holder(); got != awstest.GreenEnv {
					t.Errorf("CNAME held by %s, want %s", got, awstest.GreenEnv)
				}
			})
		})
	}
	t.Run("warm window shorter", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := awstest.NewBeanstalk()
			s := newEB(t, f, awstest.InProcess(f), awsprovider.BeanstalkOptions{})
			bg, err := bluegreen.New(bluegreen.Options{Switcher: s, Blue: awstest.BlueEnv, Green: awstest.GreenEnv, Window: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			plan, err := cutover.Sequence("swap", bg.Switch())
			if err != nil {
				t.Fatal(err)
			}
			_, err = cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{}).Run(t.Context(), "eb", plan)
			if !errors.Is(err, cutover.ErrRolledBack) || !strings.Contains(err.Error(), "Options.Window 30s is shorter than the propagation 1m0s") {
				t.Fatalf("run: %v, want rolled back naming Options.Window and the TTL", err)
			}
			if n := f.Snapshot()["SwapEnvironmentCNAMEs"]; n != 0 {
				t.Errorf("%d swaps, want none", n)
			}
			if got := f.Holder(); got != awstest.BlueEnv {
				t.Errorf("CNAME held by %s, want %s", got, awstest.BlueEnv)
			}
		})
	})
}
