// Command reliability runs the reliability suite of safecutover in full and
// prints its figures, ending with one line:
//
//	reliability: crash_points=<n> converged=<n> fault_runs=<n> stuck=<n> traffic_on_failed_green=<n> split_brain_runs=<n> double_driven=<n> fuzz_execs=<n> panics=<n> good_green_rollback_1pct=<p>% good_green_rollback_10pct=<p>% good_green_rollback_30pct=<p>%
//
// It runs, from the module root:
//
//  1. go test ./reliability with SAFECUTOVER_RELIABILITY=full: crash
//     anywhere (in-process and SIGKILLed child processes), provider faults
//     (1,000 seeded runs at each of 1 %, 10 % and 30 %), two controllers
//     on one cutover (file, and DynamoDB when SAFECUTOVER_DYNAMODB_ENDPOINT
//     names a dynalite), hostile inputs, load, approvals and credentials;
//     the tests write their figures to a report file this command reads;
//  2. go test -fuzz on each fuzz target of hostile input — plan validation
//     and file journal decoding (cutover), schedules (canary), rolling
//     options (rolling), ELB ARNs (awsprovider), ALB weight mapping,
//     DynamoDB journal items and damaged journals (reliability) — for
//     -fuzztime each, adding up the inputs tried.
//
// It exits 1 if a test or a fuzz target failed or a figure breaks its
// property (converged below crash_points; stuck, traffic_on_failed_green,
// double_driven or panics above zero). `make reliability` runs it with
// dynalite started; see docs/reliability.md.
//
// Usage:
//
//	go run ./reliability/cmd/reliability [-fuzztime 10s] [-fuzz=false] [-run REGEXP]
//
// A -fuzztime of a second or two can end before a target has gathered its
// baseline coverage and printed an execs line; the command reports that
// target as failed, so keep -fuzztime at several seconds. A run that fails
// only with "context deadline exceeded" as its time runs out, writing no
// failing input and no panic, is the Go toolchain's fuzzing stop race
// (Go issue 75804, fixed in Go 1.27) and counts as run, not failed.
package main
