package canary_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
)

// The canary journals every weight change it makes, forward and on
// rollback, so that a report read from the journal shows how traffic
// moved.
func TestTrafficIsJournaled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cloud := fake.MustNew(fake.Options{})
		alb := cloud.Router("alb", "blue", "green")
		bad := cutover.Named("bad at 50", cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
			if w, _ := alb.Weights(ctx); w["green"] >= 50 {
				return cutover.Verdict{Decision: cutover.Fail, Reason: "too many errors"}, nil
			}
			return cutover.Verdict{Decision: cutover.Pass}, nil
		}))
		c, err := canary.New(alb, canary.Options{Steps: canary.Weights(10, 50, 100), Bake: time.Minute, Gates: []cutover.Gate{bad}})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := cutover.Sequence("traffic", c)
		if err != nil {
			t.Fatal(err)
		}
		j := cutover.NewMemJournal()
		if _, err := cutover.MustNewRunner(j, cutover.RunnerOptions{PollInterval: 10 * time.Second}).Run(ctx, "c1", plan); err == nil {
			t.Fatal("Run succeeded, want a rollback")
		}
		recs, err := j.Read(ctx, "c1", 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]int
		for _, r := range recs {
			if r.Type == cutover.RecData && r.Key == cutover.DataTraffic {
				w, err := cutover.ParseTraffic(r.Value)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, w)
			}
		}
		want := []map[string]int{{"blue": 90, "green": 10}, {"blue": 50, "green": 50}, {"blue": 100, "green": 0}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("traffic in the journal (-want +got):\n%s", diff)
		}
	})
}
