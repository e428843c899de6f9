// Command quickstart is the shortest complete safecutover program, the one
// the README shows: a canary from blue to green on the fake cloud, judged by
// the sequential baseline-versus-canary judge, rolled back by itself if
// green is worse than blue.
//
//	go run ./examples/quickstart          # green healthy: completed
//	go run ./examples/quickstart -bad     # green 10× worse: rolled back
//
// With -report DIR it also writes the cutover's report (report.md,
// report.svg, report.txt), drawn from the journal by package report.
package main
