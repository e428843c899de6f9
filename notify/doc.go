// Package notify delivers a cutover's events to the places people already
// watch: Amazon EventBridge (PutEvents), Amazon SNS (Publish), and any
// HTTP endpoint that takes JSON, such as a Slack incoming webhook.
//
// A Notifier is a cutover.Observer. It never blocks or slows the runner:
// Observe puts the event's Message on a bounded queue and returns; one
// goroutine per Notifier delivers the queue in order, retrying a failed
// delivery with backoff on the injected clock. An event that finds the
// queue full, or whose retries run out, is dropped, counted (Dropped) and
// logged, never silently lost. Close delivers what is queued within the
// bound of its context.
//
//	hook, err := notify.Webhook("https://hooks.slack.com/services/…", notify.WebhookOptions{})
//	if err != nil { … }
//	n, err := notify.New(hook, notify.Options{})
//	if err != nil { … }
//	defer n.Close(context.Background())
//	runner, err := cutover.NewRunner(journal, cutover.RunnerOptions{Observer: n})
//	if err != nil { … }
//
// Which events are sent is Options.Events; the default is DefaultEvents:
// waiting for an approval, point of no return approaching, rolled back,
// failed, suspended and completed. Every sink carries the same JSON object, Message,
// documented in docs/notify.md.
//
// Programs take the sinks from the command line with Flags:
// -notify-webhook URL, -notify-sns TOPIC-ARN, -notify-eventbridge BUS.
package notify
