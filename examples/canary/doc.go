// Command canary runs a canary release on the fake cloud: green takes 5,
// 25 and then 100 percent of the ALB's traffic (an exponential ramp, ×5),
// each step baked for ten minutes while a sequential judge compares green
// with blue and a threshold watches green's error rate. Any failure puts
// all traffic back on blue in one change.
//
//	go run ./examples/canary
//	go run ./examples/canary -bad-green   # rolls back at 5 %, exit 3
//
// Every step can be rolled back, so this plan has no point of no return
// and never waits for an approval. Exit status: 0 completed, 3 rolled
// back, 1 any other error. (go run itself exits 1
// whenever the program's status is not 0, after printing "exit status N";
// run a built binary to see N.)
package main
