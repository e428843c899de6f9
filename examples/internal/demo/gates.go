package demo

import (
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
)

// Gates are the gates the examples judge with.
type Gates struct {
	// Judge is the sequential judge of green against blue on errors and
	// slow requests, tolerating green up to 1.25× blue's rates (so an
	// identical green is practically never failed by chance). It needs
	// traffic on both.
	Judge cutover.Gate
	// ErrorRate bounds green's error rate over the last two minutes at
	// 2 %, four times blue's usual rate.
	ErrorRate cutover.Gate
	// GreenHealthy passes when every member of green is healthy.
	GreenHealthy cutover.Gate
}

// NewGates returns the examples' gates over env's fake cloud.
func NewGates(env *Env) (Gates, error) {
	var g Gates
	var err error
	if g.Judge, err = health.NewJudge(env.Cloud, "blue", "green", health.JudgeOptions{
		Name:              "judge green vs blue",
		SequentialOptions: health.SequentialOptions{Tolerance: 0.25},
		Clock:             env.Clock,
	}); err != nil {
		return g, err
	}
	if g.ErrorRate, err = health.NewThreshold(env.Cloud, "green", providers.MetricErrors, health.AtMost(0.02), health.ThresholdOptions{
		Name:   "green error rate ≤ 2%",
		Per:    providers.MetricRequests,
		Window: 2 * time.Minute,
		Clock:  env.Clock,
	}); err != nil {
		return g, err
	}
	g.GreenHealthy, err = health.NewTargetHealth(env.Cloud, "green", health.TargetHealthOptions{
		Name:  "green targets healthy",
		Clock: env.Clock,
	})
	return g, err
}
