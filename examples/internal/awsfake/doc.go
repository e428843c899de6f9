// Package awsfake is a small fake of the AWS services the examples' -aws
// mode calls — ELBv2 (awsQuery: DescribeListeners, ModifyListener,
// DescribeTargetHealth), CloudWatch (rpcv2Cbor: GetMetricData,
// DescribeAlarms), EC2 Auto Scaling and Elastic Beanstalk (awsQuery: blue's
// fleet as a group or an environment) and ECS (awsJson1_1: green's
// service) — for tests that run the examples' real SDK clients against it,
// optionally throttling the first calls of an operation. Its ALB
// listener forwards to a blue and a green target group; the requests and
// 5xx errors it publishes to CloudWatch per target group follow the
// listener's weights minute by minute, as ALB does (a point a minute, for
// minutes with traffic, a minute late).
//
// The SDK reaches it through the standard AWS_ENDPOINT_URL_* environment
// variables and an HTTP client that serves each request in-process, so a
// test can run inside a testing/synctest bubble (where idle network
// connections would stop fake time from advancing). DynamoDB calls may be
// passed on to a local DynamoDB-compatible server (Options.DynamoDB).
package awsfake
