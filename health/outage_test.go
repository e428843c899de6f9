package health_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// A metric source down for a few polls (every call of them throttled or
// failing with a 5xx) does not roll back a good green: each gate family
// and the judge stay Pending through the outage and pass once it is over,
// before the stage's deadline. A source down until the deadline still
// fails closed.
func TestSourceOutageDoesNotRollBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		calls int // metric calls that fail, from the start of the bake
		want  cutover.Phase
	}{
		{"an outage of a few polls", 12, cutover.PhaseCompleted},
		{"an outage past the deadline", 0, cutover.PhaseRolledBack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t)
				th, err := health.NewThreshold(c, "green", providers.MetricErrors, health.AtMost(0.05),
					health.ThresholdOptions{Per: providers.MetricRequests, Window: 2 * time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				judge, err := health.NewJudge(c, "blue", "green", errorsOnly)
				if err != nil {
					t.Fatal(err)
				}
				// Limit 0 means every call until the fault is cleared.
				if err := c.InjectFault(fake.Fault{Op: fake.OpMetric, Err: fake.ErrThrottled, Limit: tc.calls}); err != nil {
					t.Fatal(err)
				}
				st := cutover.Stage{
					Name: "bake", Reversibility: cutover.Reversible(), Bake: 10 * time.Minute, Deadline: 20 * time.Minute,
					Gates: []cutover.Gate{th, judge},
				}
				st.Apply = func(ctx context.Context) error { return nil }
				st.Revert = st.Apply
				p := cutover.Plan{Name: "p", Stages: []cutover.Stage{st}}
				s, err := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{PollInterval: 30 * time.Second}).Run(t.Context(), "c", p)
				if s.Phase != tc.want {
					t.Errorf("ended %s (%v), want %s", s.Phase, err, tc.want)
				}
				if tc.calls > 0 && c.FaultHits() != tc.calls {
					t.Errorf("%d metric calls failed, want the whole outage of %d", c.FaultHits(), tc.calls)
				}
			})
		})
	}
}
