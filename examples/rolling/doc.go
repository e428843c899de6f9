// Command rolling runs a rolling cutover on the fake cloud: eight members
// move from blue to green two at a time, with at most one above desired
// and at most one unavailable; the ALB's weights follow the healthy
// capacity, and each batch bakes for five minutes while green's error rate
// and health are judged. A failure reverts the batches in reverse order.
//
//	go run ./examples/rolling
//	go run ./examples/rolling -bad-green   # reverts after the first batch, exit 3
//
// With -aws the fleets are ECS services and -desired says how many
// members blue runs now; an ALB router is optional (its weights then
// follow the healthy capacity):
//
//	go run ./examples/rolling -aws -ecs-cluster prod -blue-service web-blue -green-service web-green \
//	    -desired 8 -alarms NAME,NAME \
//	    [-listener-arn ARN -target-groups blue=BLUE_TG_ARN,green=GREEN_TG_ARN]
//
// The journal is kept in -journal DIR (default .safecutover) or, with
// -journal dynamodb:TABLE (-create-table to create it), in DynamoDB, where
// processes on several machines share it; the same command again resumes
// a killed or stopped run, and -id names the cutover. Credentials and
// region come from the SDK's usual sources (-region overrides); flags the
// example does not use, and missing ones, are errors that name them. See
// -h, and docs/iam.md for the permissions.
//
// Every batch can be reverted, so this plan has no point of no return and
// never waits for an approval. Exit status: 0 completed, 3 rolled back, 1
// any other error. (go run itself exits 1 whenever the program's status is
// not 0, after printing "exit status N"; run a built binary to see N.)
package main
