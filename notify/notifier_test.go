package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/notify"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

func event(t cutover.EventType, id string, i int) cutover.Event {
	return cutover.Event{Type: t, Time: time.Date(2026, 1, 1, 12, 0, i, 0, time.UTC), Cutover: id, Stage: fmt.Sprintf("s%d", i), Index: i,
		Message: fmt.Sprintf("event %d", i), PNR: cutover.PNRStatus{CanRollBack: true, Index: -1}}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	ok := notify.SenderFunc(func(context.Context, notify.Message) error { return nil })
	for name, tc := range map[string]struct {
		s    notify.Sender
		o    notify.Options
		want string
	}{
		"nil sender":        {nil, notify.Options{}, "sender is nil"},
		"negative queue":    {ok, notify.Options{Queue: -1}, "Queue -1"},
		"negative attempts": {ok, notify.Options{MaxAttempts: -2}, "MaxAttempts -2"},
		"max below backoff": {ok, notify.Options{Backoff: time.Minute, MaxBackoff: time.Second}, "MaxBackoff 1s"},
		"empty event type":  {ok, notify.Options{Events: []cutover.EventType{""}}, "Events[0]"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := notify.New(tc.s, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := notify.Webhook("hooks.example/x", notify.WebhookOptions{}); err == nil {
		t.Fatal("Webhook with a URL without scheme: no error")
	}
}

// A slow receiver gets every message, in order, with the Slack text and
// the documented schema.
func TestWebhookDeliversInOrderToASlowReceiver(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []notify.WebhookBody
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // a slow receiver
		var b notify.WebhookBody
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	hook, err := notify.Webhook(srv.URL+"/hook", notify.WebhookOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := notify.New(hook, notify.Options{Events: []cutover.EventType{cutover.EvStageBaked}})
	if err != nil {
		t.Fatal(err)
	}
	const count = 10
	for i := range count {
		n.Observe(event(cutover.EvStageBaked, "web-42", i))
		n.Observe(event(cutover.EvGateJudged, "web-42", i)) // not configured: not sent
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != count || n.Sent() != count {
		t.Fatalf("receiver got %d messages, Sent %d; want %d", len(got), n.Sent(), count)
	}
	for i, b := range got {
		if b.Event.StageIndex != i || b.Event.Type != cutover.EvStageBaked || b.Event.Cutover != "web-42" {
			t.Fatalf("message %d = %+v, want stage_baked of stage %d", i, b.Event, i)
		}
		if want := fmt.Sprintf("cutover web-42: stage_baked (stage s%d): event %d", i, i); b.Text != want {
			t.Fatalf("text %q, want %q", b.Text, want)
		}
	}
}

// A receiver that is down: each message is tried MaxAttempts times with
// doubling backoff on the clock, then dropped, counted and logged.
func TestReceiverDownRetriesThenDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var attempts []time.Time
		var mu sync.Mutex
		hook, err := notify.Webhook("http://127.0.0.1:9/hook", notify.WebhookOptions{Client: awstest.InProcessClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			attempts = append(attempts, time.Now())
			mu.Unlock()
			http.Error(w, "down", http.StatusServiceUnavailable)
		}))})
		if err != nil {
			t.Fatal(err)
		}
		core, logs := observer.New(zap.WarnLevel)
		n, err := notify.New(hook, notify.Options{MaxAttempts: 3, Backoff: time.Second, Logger: zap.New(core)})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		n.Observe(event(cutover.EvRolledBack, "web-42", 0))
		err = n.Close(context.Background())
		if err == nil || n.Dropped() != 1 || n.Sent() != 0 {
			t.Fatalf("Close: %v, Dropped %d, Sent %d; want an error and 1 dropped", err, n.Dropped(), n.Sent())
		}
		mu.Lock()
		defer mu.Unlock()
		var at []time.Duration
		for _, a := range attempts {
			at = append(at, a.Sub(start))
		}
		if fmt.Sprint(at) != "[0s 1s 3s]" {
			t.Fatalf("attempts at %v, want [0s 1s 3s]", at)
		}
		if logs.FilterMessage("notification dropped").Len() != 1 {
			t.Fatalf("logs %v, want one warning of the drop", logs.All())
		}
	})
}

// A full queue drops what does not fit, and Close, bounded, drops what it
// could not deliver; Observe never blocks meanwhile.
func TestFullQueueAndBoundedClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stall := make(chan struct{})
		var sent []int
		s := notify.SenderFunc(func(ctx context.Context, m notify.Message) error {
			select {
			case <-stall:
				sent = append(sent, m.StageIndex)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		n, err := notify.New(s, notify.Options{Queue: 2, MaxAttempts: 1, Timeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		n.Observe(event(cutover.EvCompleted, "a", 0))
		synctest.Wait() // the worker holds message 0
		for i := 1; i <= 4; i++ {
			n.Observe(event(cutover.EvCompleted, "a", i))
		}
		if n.Dropped() != 2 {
			t.Fatalf("Dropped %d after 5 events into a queue of 2 behind a stalled send, want 2", n.Dropped())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		err = n.Close(ctx)
		if waited := time.Since(start); waited != 10*time.Second {
			t.Fatalf("Close waited %v, want its bound of 10s", waited)
		}
		if err == nil || n.Dropped() != 5 || len(sent) != 0 {
			t.Fatalf("Close: %v, Dropped %d, sent %v; want all 5 dropped", err, n.Dropped(), sent)
		}
		n.Observe(event(cutover.EvCompleted, "a", 9)) // after Close: dropped, not a panic
		if n.Dropped() != 6 {
			t.Fatalf("Dropped %d after an event past Close, want 6", n.Dropped())
		}
		close(stall)
	})
}

// The runner's timing is the same whether its notifier's receiver answers
// or hangs: Observe only queues.
func TestRunnerDoesNotWaitOnAStalledReceiver(t *testing.T) {
	run := func(t *testing.T, obs cutover.Observer) time.Duration {
		stage := func(name string) cutover.Stage {
			return cutover.Stage{Name: name, Apply: func(context.Context) error { return nil }, Revert: func(context.Context) error { return nil }, Bake: time.Minute}
		}
		plan := cutover.Plan{Name: "p", Stages: []cutover.Stage{stage("a"), stage("b"), stage("c")}}
		r := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{Actor: "ci", PollInterval: time.Second, Observer: obs})
		start := time.Now()
		st, err := r.Run(t.Context(), "c1", plan)
		if err != nil || st.Phase != cutover.PhaseCompleted {
			t.Fatalf("Run: %v, %v", st.Phase, err)
		}
		return time.Since(start)
	}
	synctest.Test(t, func(t *testing.T) {
		base := run(t, nil)
		release := make(chan struct{})
		var reached int
		var mu sync.Mutex
		hook, err := notify.Webhook("http://127.0.0.1:9/hook", notify.WebhookOptions{Client: awstest.InProcessClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			reached++
			mu.Unlock()
			_, _ = io.Copy(io.Discard, r.Body)
			select { // hangs until the test ends, or the client gives up, as over a network
			case <-release:
			case <-r.Context().Done():
			}
		}))})
		if err != nil {
			t.Fatal(err)
		}
		n, err := notify.New(hook, notify.Options{Events: []cutover.EventType{cutover.EvStageStarted, cutover.EvStageBaked, cutover.EvCompleted}, Timeout: time.Hour, MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		with := run(t, n)
		if with != base {
			t.Fatalf("Run took %v with a stalled receiver, %v without: the runner waited", with, base)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = n.Close(ctx)
		mu.Lock()
		r := reached
		mu.Unlock()
		if err == nil || r != 1 || n.Dropped() != 7 {
			t.Fatalf("Close: %v; receiver reached %d times, Dropped %d; want 1 reach and all 7 messages dropped", err, r, n.Dropped())
		}
		close(release)
	})
}
