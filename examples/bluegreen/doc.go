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
// With -aws the switch is an Elastic Beanstalk CNAME swap on the real
// clock, judged by CloudWatch alarms or by ALB metrics:
//
//	go run ./examples/bluegreen -aws -blue-env shop-blue -green-env shop-green -cname shop \
//	    -alarms NAME,NAME [-approve NAME]
//
// Fleets are optional ECS services: with -green-service (sized like
// -blue-service, or with -desired N) green is scaled up first; with
// -blue-service, blue is scaled to zero at the end — the point of no
// return. Without -blue-service the plan ends with blue still warm.
// -lb-arn with -target-groups blue=ARN,green=ARN adds the error-rate gate
// on the ALB's metrics and green's target health.
//
// The journal is kept in -journal DIR (default .safecutover) or, with
// -journal dynamodb:TABLE (-create-table to create it), in DynamoDB, where
// processes on several machines share it; the same command again resumes
// a killed or stopped run, and -id names the cutover. Credentials and
// region come from the SDK's usual sources (-region overrides); flags the
// example does not use, and missing ones, are errors that name them. See
// -h, and docs/iam.md for the permissions.
//
// Exit status: 0 completed, 3 rolled back, 4 stopped before the point of
// no return waiting for an approval, 1 any other error. (go run itself exits 1
// whenever the program's status is not 0, after printing "exit status N";
// run a built binary to see N.)
package main
