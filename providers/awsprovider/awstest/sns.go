package awstest

// A fake of SNS over awsQuery: Publish, recording what was published.

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sns"
)

const snsNS = "http://sns.amazonaws.com/doc/2010-03-31/"

// SNS is a fake SNS service that serves Publish and keeps every published
// request's form. Safe for concurrent use.
type SNS struct {
	*Faults
	mu        sync.Mutex
	published []url.Values
}

// NewSNS returns an SNS with nothing published.
func NewSNS() *SNS { return &SNS{Faults: &Faults{}} }

// Client returns an SDK client of f at e.
func (f *SNS) Client(e Endpoint) *sns.Client { return sns.NewFromConfig(e.Config()) }

// Published returns the forms of the Publish calls served, in order.
func (f *SNS) Published() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.published...)
}

// ServeHTTP serves one awsQuery call.
func (f *SNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, op, ok := QueryCall(w, r, "2010-03-31", f.Faults)
	if !ok {
		return
	}
	if op != "Publish" {
		WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidAction", "unknown action " + op})
		return
	}
	if FormGet(form, "TopicArn") == "" || FormGet(form, "Message") == "" {
		WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidParameter", "TopicArn and Message are required"})
		return
	}
	f.mu.Lock()
	f.published = append(f.published, form)
	n := len(f.published)
	f.mu.Unlock()
	WriteQueryResult(w, op, snsNS, struct {
		XMLName   xml.Name
		MessageId string
	}{Result(op), "m" + strconv.Itoa(n)})
}
