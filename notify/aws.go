package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// EventSource is the "source" of the EventBridge events and the SNS
// message attribute "source".
const EventSource = "safecutover"

// SNSPublishAPI is the part of *sns.Client an SNS sender uses.
type SNSPublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// EventBridgePutEventsAPI is the part of *eventbridge.Client an EventBridge
// sender uses.
type EventBridgePutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var (
	_ SNSPublishAPI           = (*sns.Client)(nil)
	_ EventBridgePutEventsAPI = (*eventbridge.Client)(nil)
)

type snsSender struct {
	client SNSPublishAPI
	topic  string
	fifo   bool
}

// SNS returns a sender that publishes each Message as JSON to the topic
// topicARN, with the summary as Subject. On a FIFO topic (".fifo") the
// message group is the cutover, so subscribers get one cutover's events in
// order.
func SNS(client SNSPublishAPI, topicARN string) (Sender, error) {
	if client == nil {
		return nil, fmt.Errorf("notify sns: nil client")
	}
	if !strings.HasPrefix(topicARN, "arn:") || strings.Count(topicARN, ":") != 5 || !strings.Contains(topicARN, ":sns:") {
		return nil, fmt.Errorf("notify sns: topic %q: want a topic ARN arn:aws:sns:REGION:ACCOUNT:NAME", topicARN)
	}
	return &snsSender{client: client, topic: topicARN, fifo: strings.HasSuffix(topicARN, ".fifo")}, nil
}

// Send publishes m.
func (s *snsSender) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("sns: encode: %w", err)
	}
	subject := m.Summary()
	if len(subject) > 99 { // SNS: fewer than 100 characters
		subject = subject[:96] + "..."
	}
	in := &sns.PublishInput{TopicArn: aws.String(s.topic), Message: aws.String(string(body)), Subject: aws.String(asciiSubject(subject))}
	if s.fifo {
		in.MessageGroupId = aws.String(m.Cutover)
		in.MessageDeduplicationId = aws.String(m.Cutover + "-" + string(m.Type) + "-" + strconv.FormatInt(m.Time.UnixNano(), 36))
	}
	if _, err := s.client.Publish(ctx, in); err != nil {
		return fmt.Errorf("sns publish %s: %w", s.topic, err)
	}
	return nil
}

// asciiSubject keeps the printable ASCII SNS allows in a subject.
func asciiSubject(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

type eventBridgeSender struct {
	client EventBridgePutEventsAPI
	bus    string
}

// EventBridge returns a sender that puts each Message as the detail of an
// event on the event bus bus (a name or ARN; "default" for the account's
// default bus), with source EventSource and detail-type "Cutover <type>"
// ("Cutover rolled_back"), for rules to match.
func EventBridge(client EventBridgePutEventsAPI, bus string) (Sender, error) {
	if client == nil {
		return nil, fmt.Errorf("notify eventbridge: nil client")
	}
	if bus == "" {
		return nil, fmt.Errorf("notify eventbridge: bus: empty: want an event bus name or ARN (\"default\" for the default bus)")
	}
	return &eventBridgeSender{client: client, bus: bus}, nil
}

// Send puts m; an entry EventBridge did not accept is an error.
func (s *eventBridgeSender) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("eventbridge: encode: %w", err)
	}
	out, err := s.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(s.bus),
		Source:       aws.String(EventSource),
		DetailType:   aws.String("Cutover " + string(m.Type)),
		Detail:       aws.String(string(body)),
		Resources:    []string{},
		Time:         aws.Time(m.Time),
	}}})
	if err != nil {
		return fmt.Errorf("eventbridge put events %s: %w", s.bus, err)
	}
	if out.FailedEntryCount > 0 {
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("eventbridge put events %s: entry refused: %s: %s", s.bus, code, msg)
	}
	return nil
}
