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
// that today sends everything to blue's target group, and blue is what
// runs today — an EC2 Auto Scaling group, an Elastic Beanstalk environment
// or an ECS service — on the real clock:
//
//	go run ./examples/migration -aws \
//	    -listener-arn ARN -target-groups blue=BLUE_TG_ARN,green=GREEN_TG_ARN \
//	    -ecs-cluster prod -green-service web \
//	    -blue-asg GROUP | -blue-env ENVIRONMENT | -blue-service SERVICE \
//	    [-desired N] [-alarms NAME,NAME] [-approve NAME]
//
// Green is scaled to blue's capacity (or -desired) and judged healthy by
// its target group, traffic moves by canary weights judged on the ALB's
// per-target-group metrics, blue is kept warm for half an hour, and then
// retiring blue — scaling the group or the environment to zero, or the
// service to no tasks — is the one point of no return and waits for an
// approval. The environment is never terminated. Without a blue fleet the
// plan would have no point of no return, and -approve would approve
// nothing: the example refuses it unless -no-retire says that blue is
// left warm on purpose (green then needs -desired).
//
// Before the first record is journaled, a pre-flight reads every resource
// the flags name — credentials, listener and target groups, fleets,
// alarms, metrics, the DynamoDB table — and reports every problem at once,
// under the flag that names it; nothing is journaled when it fails.
// docs/migration-aws.md walks through the whole migration.
//
// The journal is kept in -journal DIR (default .safecutover) or, with
// -journal dynamodb:TABLE (-create-table to create it), in DynamoDB, where
// processes on several machines share it; the same command again resumes
// a killed or stopped run, and -id names the cutover. Credentials and
// region come from the SDK's usual sources (-region overrides); flags the
// example does not use, and missing ones, are errors that name them. -h
// lists the flags of both modes; docs/iam.md the permissions.
//
// Exit status: 0 completed, 3 rolled back, 4 stopped before the point of no
// return waiting for an approval, 1 any other error. (go run itself exits 1
// whenever the program's status is not 0, after printing "exit status N";
// run a built binary to see N.)
package main
