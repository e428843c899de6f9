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
// With -aws green is an ECS (Fargate) service behind the ALB listener
// that today sends everything to blue's target group, on the real clock:
//
//	go run ./examples/migration -aws \
//	    -listener-arn ARN -target-groups blue=BLUE_TG_ARN,green=GREEN_TG_ARN \
//	    -ecs-cluster prod -green-service web -desired 4 \
//	    [-blue-service web-old] [-alarms NAME,NAME] [-approve NAME]
//
// Green is scaled to -desired (or to -blue-service's count) and judged
// healthy by its target group, traffic moves by canary weights judged on
// the ALB's per-target-group metrics, and blue is kept warm for half an
// hour. With -blue-service, retiring blue (scaling it to zero) is the
// point of no return and waits for an approval; without it, blue — an
// Elastic Beanstalk environment, say — is left warm for you to retire.
//
// The journal is kept in -journal DIR (default .safecutover) or, with
// -dynamodb-table TABLE (-create-table to create it), in DynamoDB, where
// processes on several machines share it; the same command again resumes
// a killed or stopped run, and -id names the cutover. Credentials and
// region come from the SDK's usual sources (-region overrides); flags the
// example does not use, and missing ones, are errors that name them. See
// -h, and docs/iam.md for the permissions.
//
// Exit status: 0 completed, 3 rolled back, 4 stopped before the point of no
// return waiting for an approval, 1 any other error. (go run itself exits 1
// whenever the program's status is not 0, after printing "exit status N";
// run a built binary to see N.)
package main
