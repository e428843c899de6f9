// Package awsfake is a small fake of the AWS services the canary
// example's -aws mode calls — ELBv2 (awsQuery: DescribeListeners,
// ModifyListener) and CloudWatch (rpcv2Cbor: GetMetricData, DescribeAlarms)
// — for tests that run the example's real SDK clients against it. Its ALB
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
