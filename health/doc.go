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
// range for bad input.
//
// The shortest real use:
//
//	judge, err := health.NewJudge(metrics, "blue", "green", health.JudgeOptions{})
//	if err != nil { ... }
//	stage.Gates = []cutover.Gate{health.All(judge, alarms)}
//
// The judge's statistics are derived in docs/judge.md; its core, Sequential,
// can be fed counts directly (bench/gates does).
package health
