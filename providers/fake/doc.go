// Package fake is an in-memory cloud for tests, examples and benchmarks:
// weighted routers, switchers and fleets that implement the providers
// interfaces, simulated traffic through them, and the metrics, alarms and
// target health that traffic produces — deterministic for a seed and
// driven by an injected clock, so it runs inside testing/synctest or an
// hour-long canary runs in seconds on a cutover.ScaledClock.
//
//	clock := cutover.NewManualClock(start)
//	cloud, err := fake.New(fake.Options{Seed: 7, Clock: clock}) // err names a field out of range
//	alb := cloud.Router("alb", "blue", "green") // blue=100 green=0, 1000 req/s
//	cloud.SetProfile("green", fake.Profile{ErrorRate: 0.05, LatencyMedian: 80 * time.Millisecond})
//	alb.SetWeights(ctx, providers.Weights{"blue": 90, "green": 10})
//	clock.Advance(time.Minute)
//	v, _ := cloud.Metric(ctx, providers.MetricQuery{Target: "green", Metric: providers.MetricErrors,
//		Start: start, End: clock.Now()}) // about 300 errors among 6000 requests
//
// Inside testing/synctest the zero Options (the real clock) will do;
// cutover.ManualClock is for examples and benchmarks that need exact time
// without a bubble.
//
// # Traffic
//
// Each router and switcher receives a request rate (Options.Rate, 1000 per
// second by default; Router.SetRate) and splits it between its targets by
// the weights in force at the start of each second. Every target has a
// Profile — an error rate and a lognormal latency — that can change at any
// moment (SetProfile) or from a given time (SetProfileAt). For each target
// and second the cloud draws errors and slow requests (slower than
// Options.LatencyObjective) from gonum's binomial distribution and a
// latency sum from its normal one, over a generator seeded by (seed,
// target, second): the same seed gives the same figures whatever order
// they are asked in. Metric sums whole past seconds of
// [Start, End); a window without traffic has Points 0 (no data, not zero).
// Running totals are cached (a checkpoint every 16 seconds plus the latest
// seconds), so a query over a 30-minute window costs about a microsecond
// once warm, and a queried target keeps about 1.5 bytes per second of
// history (Options.MetricCache bounds it). Windows are at most MaxWindow.
//
// The cloud is a providers.MetricFeed: Options.MetricResolution (one
// second by default; a minute looks like CloudWatch) is the width of a data
// point and Options.MetricLag how late points are published; Settled says
// up to when a target's data are complete. DelayMetrics publishes one
// target later than the others and StallMetrics stops its data, for tests
// of arms that are skewed or stalled.
//
// # Fleets, alarms, target health
//
// A Fleet's members turn healthy a warm-up after they are added
// (Options.WarmUp, Fleet.SetWarmUp); Fleet.SetUnhealthy makes some fail.
// TargetHealth reports a fleet's members. Alarms are set directly
// (SetAlarm) or derived from traffic (DefineAlarm), INSUFFICIENT_DATA with
// no traffic.
//
// # Faults and calls
//
// InjectFault makes the Nth matching call, or a seeded share of them, fail
// with ErrThrottled, ErrServer, ErrTimeout or any error, before or after
// taking effect, and can add latency that honours ctx. Calls and CallCount
// record what was asked of the cloud, for tests that count API calls;
// Router.Current, Switcher.Current and Fleet.Current read the state
// without a call, for asserting where a test left the cloud.
//
// # Crash tests
//
// Save and Load write and read the state as JSON (atomically); Open loads
// a state file and saves after every change, so a child process killed with
// SIGKILL leaves a file a new process resumes.
//
// The cloud passes the providers/providertest conformance suite.
package fake
