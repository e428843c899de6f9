// Command rolling runs a rolling cutover on the fake cloud: eight members
// move from blue to green two at a time, with at most one above desired
// and at most one unavailable; the ALB's weights follow the healthy
// capacity, and each batch bakes for five minutes while green's error rate
// and health are judged. A failure reverts the batches in reverse order.
//
//	go run ./examples/rolling
//	go run ./examples/rolling -bad-green   # reverts after the first batch, exit 3
//
// Every batch can be reverted, so this plan has no point of no return and
// never waits for an approval. Exit status: 0 completed, 3 rolled back, 1
// any other error. (go run itself exits 1 whenever the program's status is
// not 0, after printing "exit status N"; run a built binary to see N.)
package main
