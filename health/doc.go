// Package health provides the gates that judge a cutover stage while it
// bakes: metric thresholds, alarms, HTTP probes, target health, manual
// approval, their composition, and a sequential judge that compares the
// canary with the baseline.
//
// Every gate implements cutover.Gate and returns Pass, Fail or Pending with
// a reason a person can act on and the figures behind it. No data is never
// a pass: metric gates return Pending and fail closed at their deadline.
// Constructors take the required dependencies, then an options struct whose
// zero value is valid, and return an error naming the field and the allowed
// range for bad input. The decorators (All, Any, Not, Consecutive,
// FailureLimit, WithTimeout, DryRun) return a Gate so that they compose;
// given a bad argument they return a gate that is cutover.Misconfigured,
// which Plan.Validate (and so Run) refuses before anything is applied.
//
// The shortest real use, a canary on the reference schedule (1, 5, 25, 50,
// 100 %) judged by the sequential judge with its defaults:
//
//	judge, err := health.NewJudge(metrics, "blue", "green", health.JudgeOptions{})
//	if err != nil {
//		...
//	}
//	shift, err := canary.New(router, canary.Options{Bake: 5 * time.Minute, Comparative: []cutover.Gate{judge}})
//	if err != nil {
//		...
//	}
//
// The judge is comparative: it belongs in canary.Options.Comparative,
// judged in every step in which blue still takes traffic; a strategy
// refuses it anywhere else. When metrics is a providers.MetricFeed (the
// fake cloud, awsprovider's ALB source), both arms are judged over the
// same complete window and a stalled arm is named. A step whose
// comparison cannot conclude in its bake (little traffic, no failures on
// either arm) is extended to its deadline and then passes on that fixed
// horizon (JudgeOptions.Inconclusive); a regression still fails it the
// moment the evidence shows it. Set JudgeOptions.Expect and
// cutover.Plan.Analyze says, before the cutover starts, how long each
// step's evidence takes.
//
// The judge's statistics are derived in docs/judge.md; its core, Sequential,
// can be fed counts directly (bench/gates -direct does).
package health
