// Package awsdemo makes the real providers of the examples' -aws mode from
// command-line flags: an ALB or Route 53 router, an Elastic Beanstalk
// switcher, ECS fleets, blue as an EC2 Auto Scaling group or an Elastic
// Beanstalk environment, CloudWatch alarms and ALB metrics, ELB target
// health, and optionally the DynamoDB journal and lease. Every provider it
// makes is checked by Preflight before anything is journaled. Credentials and
// region come from the SDK's usual sources (config.LoadDefaultConfig);
// -region overrides the region.
//
// Flags.Check rejects combinations that make no sense for any example;
// a Cloud's methods report what an example needs and was not given
// (errors wrapping ErrNotConfigured that name the flags), and Unused what
// was given and not needed. Targets are always "blue" and "green", whatever
// the resources are called.
package awsdemo
