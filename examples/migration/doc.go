// Command migration runs the seed scenario of safecutover on the fake
// cloud: a service moves from EC2/Elastic Beanstalk (blue) to ECS Fargate
// (green). Green is stood up beside blue at blue's capacity, traffic moves
// to it by canary weights through the ALB while a sequential judge compares
// it with blue, blue is kept warm for a rollback window, and only then —
// with an approval — is blue retired: the one point of no return.
//
//	go run ./examples/migration -approve ci
//	go run ./examples/migration -bad-green             # rolls back, exit 3
//	go run ./examples/migration -journal /tmp/mig      # stops before the PNR, exit 4
//	go run ./examples/migration -journal /tmp/mig -approve alice   # resumes, completes
//
// Exit status: 0 completed, 3 rolled back, 4 stopped before the point of no
// return waiting for an approval, 1 any other error. (go run itself exits 1
// whenever the program's status is not 0, after printing "exit status N";
// run a built binary to see N.)
package main
