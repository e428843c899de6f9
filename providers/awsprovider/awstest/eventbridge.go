package awstest

// A fake of EventBridge over awsJson1_1: PutEvents, recording the entries
// put, able to refuse entries as the service does (the call answers, the
// entry carries an error code).

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

// EventBridge is a fake EventBridge service that serves PutEvents. Safe for
// concurrent use.
type EventBridge struct {
	*Faults
	mu      sync.Mutex
	entries []map[string]any
	refuse  int
}

// NewEventBridge returns an EventBridge with no events.
func NewEventBridge() *EventBridge { return &EventBridge{Faults: &Faults{}} }

// Client returns an SDK client of f at e.
func (f *EventBridge) Client(e Endpoint) *eventbridge.Client {
	return eventbridge.NewFromConfig(e.Config())
}

// RefuseNext makes the next n PutEvents calls answer with every entry
// failed (ErrorCode InternalFailure, FailedEntryCount set): a partial
// failure, which the SDK does not retry.
func (f *EventBridge) RefuseNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse += n
}

// Entries returns the entries put, in order.
func (f *EventBridge) Entries() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.entries...)
}

// ServeHTTP serves one awsJson1_1 call.
func (f *EventBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := JSONCall(w, r, "AWSEvents.", f.Faults)
	if !ok {
		return
	}
	var in struct{ Entries []map[string]any }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || op != "PutEvents" || len(in.Entries) == 0 || len(in.Entries) > 10 {
		WriteJSONError(w, Fault{http.StatusBadRequest, "ValidationException", "want PutEvents with 1–10 entries"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	failed := 0
	for _, e := range in.Entries {
		if f.refuse > 0 {
			out = append(out, map[string]any{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
			failed++
			continue
		}
		f.entries = append(f.entries, e)
		out = append(out, map[string]any{"EventId": "e" + strconv.Itoa(len(f.entries))})
	}
	if f.refuse > 0 {
		f.refuse--
	}
	WriteJSON(w, map[string]any{"FailedEntryCount": failed, "Entries": out})
}
