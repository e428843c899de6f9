// Package reliability proves, with figures anyone can reproduce, that a
// cutover is never left half-done: the runner is killed at every journal
// append and in the middle of Apply and Revert (in-process, and as a child
// process killed with SIGKILL) and a new runner converges; a thousand seeded
// runs at each of 1 %, 10 % and 30 % of provider calls failing, mixed with
// bad greens, never end with traffic on a green whose gate failed and never
// hang; two controller processes on one cutover (file journal and lease,
// and DynamoDB against dynalite) never both drive it; hostile input (plans,
// canary schedules, weight maps, journal lines, ARNs) never panics; ten
// thousand concurrent cutovers run in one process; and the point of no
// return is never crossed without a journaled approval by someone other than
// the initiator, while logs never contain AWS credentials.
//
// The suite lives in this package's tests. `go test ./reliability` (and so
// `make test`) runs a short form; with SAFECUTOVER_RELIABILITY=full it runs
// in full. The command reliability/cmd/reliability runs the full suite and
// the fuzz targets of the module with a bounded -fuzztime and ends with one
// line:
//
//	reliability: crash_points=… converged=… fault_runs=… stuck=… traffic_on_failed_green=… split_brain_runs=… double_driven=… fuzz_execs=… panics=… good_green_rollback_1pct=…% good_green_rollback_10pct=…% good_green_rollback_30pct=…%
//
// The package itself holds only that line's Summary, shared by the tests
// (which write it to the file named by SAFECUTOVER_RELIABILITY_REPORT) and
// the command (which reads, adds up and prints it). docs/reliability.md has
// the figures, with the command that reproduces each.
package reliability
