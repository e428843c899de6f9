package cutover_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// An early final Pass never ends a bake before MinBake; the gates see the
// bake's timing in their context.
func TestBakeMinBake(t *testing.T) {
	for _, tc := range []struct {
		name     string
		minBake  time.Duration
		wantBake time.Duration
	}{
		{"no minimum: the first final pass ends the bake", 0, 0},
		{"a final pass waits for MinBake", 3*time.Minute + 5*time.Second, 3*time.Minute + 5*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud()
				var timing cutover.BakeTiming
				g := cutover.GateFunc(func(ctx context.Context) (cutover.Verdict, error) {
					timing, _ = cutover.BakeTimingFrom(ctx)
					return cutover.Verdict{Decision: cutover.Pass, Final: true, Reason: "concluded"}, nil
				})
				p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s", 10*time.Minute, g)}}
				p.Stages[0].MinBake = tc.minBake
				var end time.Time
				obs := cutover.ObserverFunc(func(e cutover.Event) {
					if e.Type == cutover.EvStageBaked {
						end = e.Time
					}
				})
				st, err := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{Observer: obs, PollInterval: poll}).Run(t.Context(), "c", p)
				if err != nil {
					t.Fatal(err)
				}
				applied := st.Stages[0].AppliedAt
				if got := end.Sub(applied); got != tc.wantBake {
					t.Errorf("bake took %v, want %v", got, tc.wantBake)
				}
				want := cutover.BakeTiming{Applied: applied, MinBakeEnd: applied.Add(tc.minBake), BakeEnd: applied.Add(10 * time.Minute), Deadline: applied.Add(15 * time.Minute)}
				if !timing.Applied.Equal(want.Applied) || !timing.MinBakeEnd.Equal(want.MinBakeEnd) || !timing.BakeEnd.Equal(want.BakeEnd) || !timing.Deadline.Equal(want.Deadline) {
					t.Errorf("timing %+v, want %+v", timing, want)
				}
			})
		})
	}
}

// Validate refuses a MinBake outside 0–Bake and a share outside 0–1.
func TestValidateMinBakeAndShare(t *testing.T) {
	c := newCloud()
	for _, tc := range []struct {
		name  string
		edit  func(s *cutover.Stage)
		field string
	}{
		{"MinBake above Bake", func(s *cutover.Stage) { s.MinBake = 2 * time.Hour }, "MinBake"},
		{"negative MinBake", func(s *cutover.Stage) { s.MinBake = -time.Second }, "MinBake"},
		{"share above 1", func(s *cutover.Stage) { s.CanaryShare = 1.5 }, "CanaryShare"},
	} {
		s := c.stage("s", time.Hour)
		tc.edit(&s)
		err := cutover.Plan{Name: "p", Stages: []cutover.Stage{s}}.Validate()
		if err == nil || !hasText(err.Error(), tc.field) {
			t.Errorf("%s: err %v, want one naming %s", tc.name, err, tc.field)
		}
	}
}

// estimator is a comparative gate with a fixed estimate.
type estimator struct{ est cutover.EvidenceEstimate }

func (e estimator) Evaluate(context.Context) (cutover.Verdict, error) { return cutover.Verdict{}, nil }
func (e estimator) Compares() (string, string)                        { return "blue", "green" }
func (e estimator) ExpectEvidence(share float64) (cutover.EvidenceEstimate, bool) {
	return e.est, true
}

// Analyze reports how long comparative evidence takes and finds stages
// whose bake is shorter, also through Named.
func TestAnalyzeEvidence(t *testing.T) {
	c := newCloud()
	g := cutover.Named("judge", estimator{cutover.EvidenceEstimate{Fail: 2 * time.Minute, Pass: 47 * time.Minute, Basis: "at 1% of 20 req/s"}})
	s1 := c.stage("1%", 10*time.Minute, g)
	s1.CanaryShare = 0.01
	s2 := c.stage("50%", time.Hour, g)
	s2.CanaryShare = 0.5
	a := cutover.Plan{Name: "p", Stages: []cutover.Stage{s1, s2}}.Analyze()
	if len(a.Evidence) != 2 || a.Evidence[0].Gate != "judge" {
		t.Fatalf("evidence %+v, want one per stage", a.Evidence)
	}
	if len(a.Findings) != 1 || a.Findings[0].Code != cutover.FindingEvidenceSlow || a.Findings[0].Stage != "1%" ||
		!hasText(a.Findings[0].Message, "proving non-inferiority needs ~47 min; bake is ~10 min") {
		t.Errorf("findings %+v, want one evidence finding for 1%%", a.Findings)
	}
}
