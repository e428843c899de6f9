// Package awstest provides fakes of the AWS services safecutover drives,
// in the spirit of net/http/httptest: small, stateful services that speak
// each service's wire protocol, so that the real AWS SDK for Go v2
// clients — and anything built on them — are tested against the bytes AWS
// would send, without an account or a network.
//
// Users can test their own tools with it: point an SDK client at a fake
// and drive it.
//
//	elb := awstest.NewELB() // a listener forwarding blue=100 green=0
//	client := elb.Client(awstest.Serve(t, elb))
//	out, err := client.DescribeListeners(ctx, &elasticloadbalancingv2.DescribeListenersInput{
//		ListenerArns: []string{awstest.ListenerARN}})
//
// Serve serves a fake on 127.0.0.1 with httptest; InProcess calls it
// directly as the client's HTTP transport, for tests in a testing/synctest
// bubble (where an idle network connection would keep fake time from
// advancing). Endpoint.Config gives any service's NewFromConfig a region,
// static credentials and a fast retryer.
//
// # Services
//
//   - ELB: Elastic Load Balancing v2 (awsQuery) — listeners, rules, target
//     groups and their health, weighted forward actions.
//   - Route53: weighted record sets (restXml), transactional change
//     batches, changes PENDING then INSYNC.
//   - CloudWatch: alarms and ALB metrics (rpcv2Cbor), statistics per
//     period computed from raw samples.
//   - AutoScaling, Beanstalk, ECS: fleets (awsQuery, awsQuery,
//     awsJson1_1) that move toward what they were asked for a step per
//     describe. ECS is the ECS side of Managed: one home for ECS services,
//     their capacity and their deployments.
//   - KMS: asymmetric signing keys (awsJson1_1).
//   - SNS (awsQuery) and EventBridge (awsJson1_1): what was published or
//     put, for tests of notifications.
//   - Managed: CodeDeploy ECS blue/green deployments and ECS native
//     deployments (awsJson1_1), advancing with an injected clock.
//   - Cloud: the services above wired into one small region for whole
//     programs: an ALB whose CloudWatch metrics follow its weights minute by
//     minute, fleets behind its target groups, reached through the SDK's
//     AWS_ENDPOINT_URL_* variables.
//
// DynamoDB is not faked: the journal and lease tests run against a real
// DynamoDB-compatible server on this machine (dynalite), which
// DynamoDBEndpoint finds — skipping the test when none is named — and
// DynamoDBClient reaches.
//
// # Faults
//
// Every fake embeds one Faults: it counts calls per operation and injects
// error answers (FailNext: Throttling, InternalError or any Fault), lost
// answers (HoldNext) and slow ones (DelayNext). The protocol helpers
// (QueryCall, JSONCall, CBORCall and their writers) are exported for fakes
// of further services.
//
// # What it does not emulate
//
// Only the operations and fields safecutover calls are served; signatures
// are not checked; there is no IAM, no pagination beyond what the fakes
// document, no eventual consistency beyond the describes-until-settled
// steps each fake documents, and no service quotas other than those listed
// on each fake. It is a test double for the wire, not a local AWS.
package awstest
