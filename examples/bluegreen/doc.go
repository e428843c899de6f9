// Command bluegreen runs a blue/green cutover on the fake cloud through a
// switcher (think Elastic Beanstalk CNAME swap): green is scaled to blue's
// capacity and checked alone, all traffic switches at once and bakes,
// blue is kept warm for half an hour, and blue is retired — the point of no
// return — only with an approval.
//
//	go run ./examples/bluegreen -approve ci
//	go run ./examples/bluegreen -bad-green    # switches back, exit 3
//	go run ./examples/bluegreen -journal DIR  # stops before retiring blue, exit 4
//
// Exit status: 0 completed, 3 rolled back, 4 stopped before the point of
// no return waiting for an approval, 1 any other error. (go run itself exits 1
// whenever the program's status is not 0, after printing "exit status N";
// run a built binary to see N.)
package main
