// Command canary runs a canary release on the fake cloud: green takes 5,
// 25 and then 100 percent of the ALB's traffic (an exponential ramp, ×5),
// each step baked for ten minutes while a sequential judge compares green
// with blue and a threshold watches green's error rate. Any failure puts
// all traffic back on blue in one change.
//
//	go run ./examples/canary
//	go run ./examples/canary -bad-green   # rolls back at 5 %, exit 3
//
// With -aws the same plan runs against real resources on the real clock:
// the weights of an ALB listener's (or rule's) forward action, judged by
// the sequential judge and the error-rate gate on the ALB's per-target-
// group CloudWatch metrics, and by CloudWatch alarms:
//
//	go run ./examples/canary -aws \
//	    -listener-arn arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/LB/ID \
//	    -target-groups blue=BLUE_TG_ARN,green=GREEN_TG_ARN \
//	    [-alarms NAME,NAME] [-slow-expression EXPR]
//
// Instead of an ALB, Route 53 weighted records: -hosted-zone ID
// -record-name NAME -set-identifiers blue=SETID,green=SETID, with -alarms,
// or -lb-arn and -target-groups for ALB metrics (a cutover needs one or
// the other).
//
// The journal is kept in -journal DIR (default .safecutover) or, with
// -journal dynamodb:TABLE (-create-table to create it), in DynamoDB, where
// processes on several machines share it; the same command again resumes
// a killed or stopped run, and -id names the cutover. Credentials and
// region come from the SDK's usual sources (-region overrides); flags the
// example does not use, and missing ones, are errors that name them. See
// -h, and docs/iam.md for the permissions.
//
// Every step can be rolled back, so this plan has no point of no return
// and never waits for an approval. Exit status: 0 completed, 3 rolled
// back, 1 any other error. (go run itself exits 1
// whenever the program's status is not 0, after printing "exit status N";
// run a built binary to see N.)
package main
