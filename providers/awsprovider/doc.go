// Package awsprovider implements the providers interfaces, and the cutover
// journal and lease, on AWS managed services through the AWS SDK for Go v2:
//
//   - ALBRouter (providers.TrafficRouter): the weighted target groups of an
//     Application Load Balancer forward action, on a listener's default
//     action or a listener rule.
//   - Route53Router (providers.TrafficRouter): Route 53 weighted record
//     sets, one per target, changed in one transactional batch and waited
//     for until INSYNC.
//   - BeanstalkSwitcher (providers.Switcher): an Elastic Beanstalk CNAME
//     swap between two environments; its propagation
//     (providers.Propagator) is the CNAME's TTL, 60s by default.
//   - ECSFleet (providers.Fleet): the desired count of an ECS service, with
//     WaitSteady.
//   - ASGFleet (providers.Fleet): the desired capacity of an EC2 Auto
//     Scaling group, its bounds kept consistent, scale-in protection and
//     lifecycle hooks respected.
//   - BeanstalkFleet (providers.Fleet): the capacity of an Elastic
//     Beanstalk environment (its aws:autoscaling:asg MinSize and MaxSize),
//     with WaitReady; TerminateEnvironmentStage, the irreversible stage that
//     terminates an environment, only when a plan asks for it.
//   - AlarmSource (providers.AlarmSource): CloudWatch metric, composite and
//     log alarms.
//   - ALBMetricSource (providers.MetricFeed): per-target-group ALB metrics
//     from CloudWatch — requests, 5xx errors, average and p99 latency — with
//     their one-minute resolution, publication lag and settled time, so
//     that the sequential judge compares both arms over complete minutes.
//   - TargetHealthSource (providers.TargetHealthSource): ELB target health.
//   - DynamoDBJournal and DynamoDBLease (cutover.Journal, cutover.Lease):
//     the journal and lease that several controller processes share.
//
// Every type takes the narrowest client interface it needs — the one to
// three SDK methods it calls — so the SDK's own client fits, and so does a
// test double. Constructors take the required resources as arguments and
// then an options struct whose zero value is valid: a no-op logger, the
// wall clock, no client-side pacing, documented default bounds.
//
// Retries of throttled and failed calls are the SDK retryer's job (the
// client's, configured as usual); a Pacer (a token bucket such as the
// *rate.Limiter NewPacer returns, shared by every type that calls the
// same API) keeps a cutover under the per-account request rates of ELB and
// Route 53 in the first place. Every wait — Route 53 INSYNC, Beanstalk
// Ready, ECS steady state — has a bound and honours ctx.
//
// Errors say what was being done and to which resource, and wrap the SDK's
// error with %w, so errors.As still finds the smithy.APIError:
//
//	var ae smithy.APIError
//	if errors.As(err, &ae) && ae.ErrorCode() == "ListenerNotFound" { ... }
//
// The shortest use, a canary step on an ALB listener:
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	pacer, err := awsprovider.NewPacer(5, 5) // share it between everything that calls ELB
//	router, err := awsprovider.NewALBRouter(elasticloadbalancingv2.NewFromConfig(cfg),
//		listenerARN, map[string]string{"blue": blueTG, "green": greenTG},
//		awsprovider.ALBOptions{Pacer: pacer})
//	err = router.SetWeights(ctx, providers.Weights{"blue": 90, "green": 10})
//
// Before a cutover journals anything, Preflight checks at once that the
// credentials work and that every resource the cutover names exists and
// can be read (CheckRouter, CheckFleet, CheckAlarms, CheckMetrics, ...),
// and reports every problem under the flag or field that named it:
//
//	err := awsprovider.Preflight(ctx, awsprovider.PreflightOptions{},
//		awsprovider.CheckCredentials("credentials", cfg.Credentials),
//		awsprovider.CheckRouter("-listener-arn", router),
//		awsprovider.CheckFleet("-blue-asg", blue))
//
// docs/iam.md lists the IAM permissions each type needs.
package awsprovider
