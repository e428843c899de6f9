package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/notify"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

// The real SDK clients talk to awstest's wire fakes on 127.0.0.1. Each
// fails its first call, to show the notifier retries.

var testCreds = credentials.NewStaticCredentialsProvider("AKIDNOTIFYTEST", "secret", "")

func closeNotifier(t *testing.T, n *notify.Notifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestSNSPublishesTheMessage(t *testing.T) {
	t.Parallel()
	fake := awstest.NewSNS()
	fake.FailNext("Publish", 1, awstest.InternalError)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	client := sns.New(sns.Options{BaseEndpoint: aws.String(srv.URL), Region: "eu-west-1", Credentials: testCreds, RetryMaxAttempts: 1})
	const topic = "arn:aws:sns:eu-west-1:123456789012:deploys.fifo"
	s, err := notify.SNS(client, topic)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notify.SNS(client, "deploys"); err == nil {
		t.Fatal("SNS with a topic name, not an ARN: no error")
	}
	n, err := notify.New(s, notify.Options{Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := event(cutover.EvRolledBack, "web-42", 1)
	e.Err = fmt.Errorf("gate error-rate failed")
	n.Observe(e)
	closeNotifier(t, n)
	got := fake.Published()
	if fake.Calls("Publish") != 2 || len(got) != 1 || n.Sent() != 1 {
		t.Fatalf("%d calls, %d published, Sent %d; want 2 calls (one retried) and 1 published", fake.Calls("Publish"), len(got), n.Sent())
	}
	f := got[0]
	var m notify.Message
	if err := json.Unmarshal([]byte(f.Get("Message")), &m); err != nil {
		t.Fatalf("Message %q: %v", f.Get("Message"), err)
	}
	if f.Get("TopicArn") != topic || m.Type != cutover.EvRolledBack || m.Error != "gate error-rate failed" || !m.Rollback.Possible {
		t.Fatalf("published %v, message %+v", f, m)
	}
	if f.Get("MessageGroupId") != "web-42" || f.Get("MessageDeduplicationId") == "" || !strings.HasPrefix(f.Get("Subject"), "cutover web-42: rolled_back") {
		t.Fatalf("FIFO group %q, dedup %q, subject %q", f.Get("MessageGroupId"), f.Get("MessageDeduplicationId"), f.Get("Subject"))
	}
}

func TestEventBridgePutsTheMessage(t *testing.T) {
	t.Parallel()
	fake := awstest.NewEventBridge()
	fake.RefuseNext(1) // accepts the call, refuses the entry
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	client := eventbridge.New(eventbridge.Options{BaseEndpoint: aws.String(srv.URL), Region: "eu-west-1", Credentials: testCreds, RetryMaxAttempts: 1})
	s, err := notify.EventBridge(client, "deploys")
	if err != nil {
		t.Fatal(err)
	}
	n, err := notify.New(s, notify.Options{Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n.Observe(event(cutover.EvWaitingApproval, "web-42", 2))
	n.Observe(event(cutover.EvCompleted, "web-42", 3))
	closeNotifier(t, n)
	got := fake.Entries()
	if fake.Calls("PutEvents") != 3 || len(got) != 2 || n.Sent() != 2 {
		t.Fatalf("%d calls, %d put, Sent %d; want 3 calls (one refused entry retried) and 2 put", fake.Calls("PutEvents"), len(got), n.Sent())
	}
	for i, want := range []cutover.EventType{cutover.EvWaitingApproval, cutover.EvCompleted} {
		e := got[i]
		var m notify.Message
		if err := json.Unmarshal([]byte(e["Detail"].(string)), &m); err != nil {
			t.Fatal(err)
		}
		if e["EventBusName"] != "deploys" || e["Source"] != notify.EventSource || e["DetailType"] != "Cutover "+string(want) || m.Type != want || m.Cutover != "web-42" {
			t.Fatalf("entry %d = %v, detail %+v; want %s in order", i, e, m, want)
		}
	}
}
