// Package awscall bounds each attempt of an AWS SDK call: the one home of
// the per-attempt call timeout that awsprovider's types and the managed
// deployments share. A timed-out attempt fails with an error whose
// Timeout() is true, which the SDK's standard retryer retries like a
// dropped connection; the caller's context still bounds the call as a
// whole.
//
//	hc := awscall.Bound(o.HTTPClient, awscall.DefaultTimeout)
package awscall
