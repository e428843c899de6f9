package notify

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/safecutover/safecutover/cutover"
)

// Flags are the notifier flags a program registers with Register:
//
//	-notify-webhook URL        POST each event to URL (Slack-compatible)
//	-notify-sns TOPIC-ARN      publish each event to an SNS topic
//	-notify-eventbridge BUS    put each event on an EventBridge bus
//	-notify-events LIST        comma-separated event types (default: DefaultEvents)
type Flags struct {
	Webhook, SNSTopic, EventBridgeBus, Events string
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Webhook, "notify-webhook", f.Webhook, "POST each event as JSON to `URL` (a Slack incoming webhook works)")
	fs.StringVar(&f.SNSTopic, "notify-sns", f.SNSTopic, "publish each event to the SNS topic `ARN`")
	fs.StringVar(&f.EventBridgeBus, "notify-eventbridge", f.EventBridgeBus, "put each event on the EventBridge `BUS` (name or ARN)")
	fs.StringVar(&f.Events, "notify-events", f.Events, "comma-separated event `TYPES` to send (default waiting_approval,pnr_approaching,rolled_back,failed,suspended,completed)")
}

// Group returns one Notifier per sink the flags name (none: an empty
// Group), each with opts. AWS clients are built from awsConfig, or from the
// SDK's default configuration when awsConfig is nil.
func (f *Flags) Group(ctx context.Context, awsConfig *aws.Config, opts Options) (Group, error) {
	if f.Events != "" {
		opts.Events = nil
		for _, e := range strings.Split(f.Events, ",") {
			if e = strings.TrimSpace(e); e != "" {
				opts.Events = append(opts.Events, cutover.EventType(e))
			}
		}
	}
	var senders []Sender
	var names []string
	if f.Webhook != "" {
		s, err := Webhook(f.Webhook, WebhookOptions{})
		if err != nil {
			return nil, fmt.Errorf("-notify-webhook: %w", err)
		}
		senders, names = append(senders, s), append(names, "webhook")
	}
	if f.SNSTopic != "" || f.EventBridgeBus != "" {
		if awsConfig == nil {
			cfg, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				return nil, fmt.Errorf("notify: AWS configuration: %w", err)
			}
			awsConfig = &cfg
		}
	}
	if f.SNSTopic != "" {
		s, err := SNS(sns.NewFromConfig(*awsConfig), f.SNSTopic)
		if err != nil {
			return nil, fmt.Errorf("-notify-sns: %w", err)
		}
		senders, names = append(senders, s), append(names, "sns")
	}
	if f.EventBridgeBus != "" {
		s, err := EventBridge(eventbridge.NewFromConfig(*awsConfig), f.EventBridgeBus)
		if err != nil {
			return nil, fmt.Errorf("-notify-eventbridge: %w", err)
		}
		senders, names = append(senders, s), append(names, "eventbridge")
	}
	var g Group
	for i, s := range senders {
		o := opts
		o.Name = names[i]
		n, err := New(s, o)
		if err != nil {
			_ = g.Close(ctx)
			return nil, err
		}
		g = append(g, n)
	}
	return g, nil
}

// Group is several notifiers observed as one.
type Group []*Notifier

var _ cutover.Observer = Group(nil)

// Observe passes e to every notifier.
func (g Group) Observe(e cutover.Event) {
	for _, n := range g {
		n.Observe(e)
	}
}

// Notify passes m to every notifier.
func (g Group) Notify(m Message) {
	for _, n := range g {
		n.Notify(m)
	}
}

// Close closes every notifier within ctx's bound and joins their errors.
func (g Group) Close(ctx context.Context) error {
	var errs []error
	for _, n := range g {
		errs = append(errs, n.Close(ctx))
	}
	return errors.Join(errs...)
}
