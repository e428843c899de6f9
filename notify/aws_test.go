package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/notify"
)

// The wire fakes below speak each service's protocol on 127.0.0.1 to the
// real SDK clients: SNS the query protocol (form in, XML out), EventBridge
// JSON 1.1. Each fails its first call, to show the notifier retries.

var testCreds = credentials.NewStaticCredentialsProvider("AKIDNOTIFYTEST", "secret", "")

type snsFake struct {
	mu    sync.Mutex
	calls int
	got   []url.Values
}

func (f *snsFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	w.Header().Set("Content-Type", "text/xml")
	if err != nil || form.Get("Action") != "Publish" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>bad request</Message></Error><RequestId>r0</RequestId></ErrorResponse>`)
		return
	}
	if f.calls == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>try again</Message></Error><RequestId>r1</RequestId></ErrorResponse>`)
		return
	}
	f.got = append(f.got, form)
	fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m%d</MessageId></PublishResult><ResponseMetadata><RequestId>r%d</RequestId></ResponseMetadata></PublishResponse>`, f.calls, f.calls)
}

type eventBridgeFake struct {
	mu    sync.Mutex
	calls int
	got   []map[string]any
}

func (f *eventBridgeFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ Entries []map[string]any }
	err := json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if err != nil || r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" || len(in.Entries) != 1 {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"ValidationException","message":"bad request"}`)
		return
	}
	if f.calls == 1 { // accepted the call, refused the entry
		fmt.Fprint(w, `{"FailedEntryCount":1,"Entries":[{"ErrorCode":"InternalFailure","ErrorMessage":"try again"}]}`)
		return
	}
	f.got = append(f.got, in.Entries[0])
	fmt.Fprintf(w, `{"FailedEntryCount":0,"Entries":[{"EventId":"e%d"}]}`, f.calls)
}

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
	fake := &snsFake{}
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
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.calls != 2 || len(fake.got) != 1 || n.Sent() != 1 {
		t.Fatalf("%d calls, %d published, Sent %d; want 2 calls (one retried) and 1 published", fake.calls, len(fake.got), n.Sent())
	}
	f := fake.got[0]
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
	fake := &eventBridgeFake{}
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
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.calls != 3 || len(fake.got) != 2 || n.Sent() != 2 {
		t.Fatalf("%d calls, %d put, Sent %d; want 3 calls (one refused entry retried) and 2 put", fake.calls, len(fake.got), n.Sent())
	}
	for i, want := range []cutover.EventType{cutover.EvWaitingApproval, cutover.EvCompleted} {
		e := fake.got[i]
		var m notify.Message
		if err := json.Unmarshal([]byte(e["Detail"].(string)), &m); err != nil {
			t.Fatal(err)
		}
		if e["EventBusName"] != "deploys" || e["Source"] != notify.EventSource || e["DetailType"] != "Cutover "+string(want) || m.Type != want || m.Cutover != "web-42" {
			t.Fatalf("entry %d = %v, detail %+v; want %s in order", i, e, m, want)
		}
	}
}
