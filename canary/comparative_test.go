package canary_test

import (
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers/fake"
)

// A comparative gate placed where the stable target takes no traffic is
// refused when the plan is built, with an error saying where it belongs;
// in Comparative it is judged below 100 % and Analyze estimates it.
func TestComparativePlacement(t *testing.T) {
	cloud := fake.MustNew(fake.Options{})
	router := cloud.Router("alb", "blue", "green")
	judge, err := health.NewJudge(cloud, "blue", "green", health.JudgeOptions{Expect: health.Expectation{RequestRate: 20}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts canary.Options
	}{
		{"in Gates", canary.Options{Gates: []cutover.Gate{judge}}},
		{"inside All in Background", canary.Options{Background: []cutover.Gate{health.All(judge)}}},
		{"in the 100% step", canary.Options{Steps: []canary.Step{{Weight: 50}, {Weight: 100, Gates: []cutover.Gate{judge}}}}},
	} {
		if _, err := canary.New(router, tc.opts); err == nil || !strings.Contains(err.Error(), "put it in Options.Comparative") {
			t.Errorf("%s: err %v, want one saying it belongs in Options.Comparative", tc.name, err)
		}
	}
	if _, err := bluegreen.New(bluegreen.Options{Router: router, Gates: []cutover.Gate{judge}, Bake: time.Minute}); err == nil ||
		!strings.Contains(err.Error(), "canary.Options.Comparative") {
		t.Errorf("bluegreen: err %v, want one pointing to a canary", err)
	}

	c, err := canary.New(router, canary.Options{Comparative: []cutover.Gate{judge}, Bake: 10 * time.Minute, MinBake: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p, err := cutover.Sequence("p", c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Stages[0].MinBake != time.Minute || p.Stages[0].CanaryShare != 0.01 {
		t.Errorf("first stage MinBake %v share %v, want 1m and 0.01", p.Stages[0].MinBake, p.Stages[0].CanaryShare)
	}
	a := p.Analyze()
	if len(a.Evidence) != 4 {
		t.Fatalf("evidence %v, want one per step below 100%%", a.Evidence)
	}
	first := a.Evidence[0]
	if first.Estimate.Pass <= 10*time.Minute || first.Estimate.Fail >= first.Estimate.Pass || a.Evidence[3].Estimate.Pass >= first.Estimate.Pass {
		t.Errorf("estimates %v: want the 1%% step's pass beyond its bake, failing sooner than passing, and 50%% faster than 1%%", a.Evidence)
	}
	found := false
	for _, f := range a.Findings {
		found = found || f.Code == cutover.FindingEvidenceSlow && f.Stage == "canary 1%" && strings.Contains(f.Message, "at 1% of 20 req/s")
	}
	if !found {
		t.Errorf("findings %v, want one that the 1%% step's bake is too short", a.Findings)
	}
	for _, e := range a.Evidence {
		t.Log(e)
	}
}
