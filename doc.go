// Package safecutover is a library for safe cutovers: moving production
// traffic from what runs now (blue, stable) to what should run next (green,
// canary) — a release, or a whole platform move such as EC2/Elastic
// Beanstalk → ECS Fargate — so that every step can be undone for as long as
// possible, and the point of no return (PNR), the moment after which rollback
// is impossible, comes as late as possible and never by accident.
//
// This package holds no code; the library is in its sub-packages:
//
//   - cutover: the core — Stage, Plan, Strategy, Gate, Verdict,
//     Reversibility, the Runner, the Journal and Lease (memory and file),
//     the PNR tracker and the plan analyser.
//   - canary, bluegreen, rolling: the three ways to switch traffic, which
//     compose into one plan with cutover.Sequence.
//   - health: gates that decide from evidence — metric thresholds, alarms,
//     HTTP probes, target health, manual approval, composition, and a
//     sequential baseline-vs-canary judge.
//   - providers: the small interfaces through which strategies and gates
//     reach the cloud, and their conformance suite (providers/providertest).
//   - providers/fake: an in-memory cloud with simulated traffic, for tests
//     and examples.
//   - providers/awsprovider: ALB, Route 53, Elastic Beanstalk, ECS, EC2
//     Auto Scaling, CloudWatch and ELB target health through aws-sdk-go-v2,
//     a pre-flight check of every resource, a DynamoDB journal and
//     lease, and KMS signing of commands.
//   - sshsign: commands signed with SSH keys (the ssh-keygen -Y sign
//     format, from a key file or ssh-agent) and approvers read from an
//     OpenSSH allowed_signers file.
//   - report: a cutover rendered from its journal alone — a terminal
//     summary, Markdown for a ticket and an SVG chart.
//   - cmd/cutoverctl: the operator's command line — list, show, approve,
//     promote, pause, resume and abort running cutovers through their
//     journal, signed when approvers are configured, and verify a
//     journal's signed commands.
//
// The runnable programs under examples/ run on the fake cloud by default:
//
//	go run ./examples/migration -approve ci
package safecutover
