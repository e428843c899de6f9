package health_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
)

// With zero failures on both arms the comparison can never conclude. By
// default the judge stays Pending (and the stage's deadline fails closed);
// with PassInconclusive it passes, not finally, once it has seen
// MinRequests canary requests — and a regression still fails it.
func TestJudgePassInconclusive(t *testing.T) {
	for _, tc := range []struct {
		name    string
		blue    float64
		green   float64
		opts    health.JudgeOptions
		want    cutover.Decision
		final   bool
		settled time.Duration // polled this long
	}{
		{"zero failures on both arms stays pending by default", 0, 0, errorsOnly, cutover.Pending, false, 30 * time.Minute},
		{"zero failures on both arms passes with PassInconclusive", 0, 0,
			health.JudgeOptions{Metrics: []string{providers.MetricErrors}, PassInconclusive: true}, cutover.Pass, false, time.Minute},
		{"a regression still fails with PassInconclusive", 0.005, 0.05,
			health.JudgeOptions{Metrics: []string{providers.MetricErrors}, PassInconclusive: true}, cutover.Fail, true, 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t)
				setErrorRate(t, c, "blue", tc.blue)
				setErrorRate(t, c, "green", tc.green)
				g, err := health.NewJudge(c, "blue", "green", tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				var v cutover.Verdict
				for start := time.Now(); time.Since(start) < tc.settled; sleep(10 * time.Second) {
					v = evaluate(t, g)
					if v.Decision == cutover.Fail {
						break
					}
				}
				if v.Decision != tc.want || v.Final != tc.final {
					t.Fatalf("verdict %+v, want %s (final %v)", v, tc.want, tc.final)
				}
				t.Logf("%s: %s", v.Decision, v.Reason)
			})
		})
	}
}
