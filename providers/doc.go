// Package providers declares the small interfaces through which strategies
// and gates reach the cloud — TrafficRouter, Switcher, Fleet, MetricSource,
// AlarmSource and TargetHealthSource — and a conformance suite that every
// implementation runs from its own tests.
//
// Implementations ship in providers/fake (an in-memory cloud) and
// providers/awsprovider (ALB, Route 53, Elastic Beanstalk, ECS, CloudWatch).
package providers
