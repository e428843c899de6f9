// Command cutoverctl is the operator's command line for safecutover: it
// lists the cutovers in a journal, shows one as a timeline (following it
// live with -watch), and steers a running cutover — approve, promote,
// pause, resume, abort — from any terminal that can reach the journal.
//
// Install it with
//
//	go install github.com/safecutover/safecutover/cmd/cutoverctl@latest
//
// The journal is -journal (or $SAFECUTOVER_JOURNAL): the directory of a
// file journal, or dynamodb:TABLE for a DynamoDB journal (the AWS SDK's
// usual configuration; -endpoint URL for a local server).
//
//	cutoverctl -journal /var/lib/deploy list
//	cutoverctl -journal /var/lib/deploy show web-42 -watch
//	cutoverctl -journal dynamodb:cutovers approve web-42 -reason "error rate flat for 30m"
//	cutoverctl -journal dynamodb:cutovers abort web-42 -reason "p99 latency up"
//	cutoverctl help
//
// A command is written to the cutover's journal; the runner driving the
// cutover, in another process, takes it in at its next poll and answers
// with a record of its own. cutoverctl waits (-wait, default 2m; -no-wait
// returns at once) for that answer and then for what the command leads
// to: an approval at the point of no return until the stage is applied, a
// promote until the bake has ended, an abort until the cutover has rolled
// back, with where traffic ended. Flags may come before or after the ID;
// -json prints a JSON object for scripts. show -watch with -notify-webhook
// URL, -notify-sns ARN or -notify-eventbridge BUS also sends each new
// event to a Slack channel, an SNS topic or an EventBridge bus
// (docs/notify.md).
//
// Before writing, cutoverctl refuses what the runner would refuse or what
// cannot work: an approval without -reason, an approval by the person who
// started the cutover when the two-person rule is on, any command to a
// cutover that has completed or rolled back, and an abort past the point
// of no return (which can no longer roll back) unless -force is given.
//
// With approvers configured on the runner, commands are signed: -sign-key
// PATH (an SSH key file, or a .pub file of a key in ssh-agent) or -kms-key
// ARN; cutoverctl verify ID -allowed-signers FILE re-verifies every signed
// record of a cutover (see docs/trust.md).
//
// Exit status: 0 done, 1 error (or the cutover ended otherwise than
// asked), 2 bad command line, 3 refused, 4 no runner answered within
// -wait, 5 answered but the outcome did not come within -wait, 6 no such
// cutover. See docs/cutoverctl.md, and examples/operated for a runner to
// try it on.
package main
