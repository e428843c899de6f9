package awstest

// A stateful fake of Route 53 over restXml: hosted zones holding record
// sets, transactional change batches (a DELETE must match the record
// exactly, a CREATE must not exist; any failure rejects the whole batch
// with InvalidChangeBatch), changes that stay PENDING for a number of
// GetChange polls before INSYNC, paged listing.

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
)

// The Route 53 resources of NewRoute53.
const (
	HostedZone = "Z0123456789ABCDEFGHIJ"
	RecordName = "app.example.com."

	r53NS = "https://route53.amazonaws.com/doc/2013-04-01/"
)

// ResourceRecord is a value of a record set.
type ResourceRecord struct{ Value string }

// AliasTarget is an alias record's target.
type AliasTarget struct {
	HostedZoneId         string
	DNSName              string
	EvaluateTargetHealth bool
}

// RecordSet is a resource record set as Route 53 stores it.
type RecordSet struct {
	Name            string
	Type            string
	SetIdentifier   string           `xml:",omitempty"`
	Weight          *int64           `xml:",omitempty"`
	TTL             *int64           `xml:",omitempty"`
	ResourceRecords []ResourceRecord `xml:"ResourceRecords>ResourceRecord,omitempty"`
	AliasTarget     *AliasTarget     `xml:",omitempty"`
	HealthCheckId   string           `xml:",omitempty"`
}

func (r RecordSet) key() string { return r.Name + "|" + r.Type + "|" + r.SetIdentifier }

// WeightedRecord returns a weighted A record set of RecordName.
func WeightedRecord(id string, weight, ttl int64, ip string) RecordSet {
	return RecordSet{Name: RecordName, Type: "A", SetIdentifier: id, Weight: aws.Int64(weight), TTL: aws.Int64(ttl), ResourceRecords: []ResourceRecord{{ip}}}
}

// Route53 is a fake Route 53 service. Set PendingPolls and PageSize
// before serving. Safe for concurrent use.
type Route53 struct {
	*Faults
	mu      sync.Mutex
	zones   map[string][]RecordSet
	pending map[string]int // change ID → GetChange polls left before INSYNC
	nextID  int
	// PendingPolls is how many GetChange calls see a new change PENDING.
	PendingPolls int
	// PageSize caps the records of one list page.
	PageSize int
}

// NewRoute53 returns a zone with blue (weight 100) and green (0)
// weighted A records of RecordName, TTL 60, and an unrelated record.
func NewRoute53() *Route53 {
	return &Route53{
		Faults: &Faults{},
		zones: map[string][]RecordSet{HostedZone: {
			WeightedRecord("blue", 100, 60, "192.0.2.10"),
			WeightedRecord("green", 0, 60, "192.0.2.20"),
			{Name: "db.example.com.", Type: "CNAME", TTL: aws.Int64(300), ResourceRecords: []ResourceRecord{{"db.internal."}}},
		}},
		pending:      map[string]int{},
		PendingPolls: 2,
		PageSize:     100,
	}
}

// Client returns an SDK client of f at e.
func (f *Route53) Client(e Endpoint) *route53.Client { return route53.NewFromConfig(e.Config()) }

// Records returns HostedZone's record sets of RecordName by
// SetIdentifier.
func (f *Route53) Records() map[string]RecordSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]RecordSet{}
	for _, r := range f.zones[HostedZone] {
		if r.Name == RecordName {
			out[r.SetIdentifier] = r
		}
	}
	return out
}

// Weights returns the weights of RecordName's record sets.
func (f *Route53) Weights() map[string]int64 {
	out := map[string]int64{}
	for id, r := range f.Records() {
		if r.Weight != nil {
			out[id] = *r.Weight
		}
	}
	return out
}

// Edit changes the record set id of RecordName in place (another writer).
func (f *Route53) Edit(id string, fn func(*RecordSet)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.zones[HostedZone] {
		if r.Name == RecordName && r.SetIdentifier == id {
			fn(&f.zones[HostedZone][i])
		}
	}
}

// Add adds a record set to HostedZone, as another writer would.
func (f *Route53) Add(rs RecordSet) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.zones[HostedZone] = append(f.zones[HostedZone], rs)
}

// ServeHTTP serves one restXml call.
func (f *Route53) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	var op, zone, change string
	switch {
	case strings.HasPrefix(path, "/2013-04-01/hostedzone/") && strings.HasSuffix(path, "/rrset"):
		zone = strings.TrimSuffix(strings.TrimPrefix(path, "/2013-04-01/hostedzone/"), "/rrset")
		op = map[string]string{http.MethodPost: "ChangeResourceRecordSets", http.MethodGet: "ListResourceRecordSets"}[r.Method]
	case strings.HasPrefix(path, "/2013-04-01/change/") && r.Method == http.MethodGet:
		op, change = "GetChange", strings.TrimPrefix(path, "/2013-04-01/change/")
	}
	if op == "" {
		WriteQueryError(w, Fault{http.StatusNotFound, "UnknownOperation", r.Method + " " + path})
		return
	}
	fault, answer := f.Intercept(op, r)
	if !answer {
		return
	}
	if fault != nil {
		WriteQueryError(w, *fault)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if op != "GetChange" {
		if _, ok := f.zones[zone]; !ok {
			WriteQueryError(w, Fault{http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: " + zone})
			return
		}
	}
	w.Header().Set("Content-Type", "text/xml")
	switch op {
	case "ListResourceRecordSets":
		f.list(w, zone, r.URL.Query())
	case "ChangeResourceRecordSets":
		f.change(w, zone, r.Body)
	case "GetChange":
		left, ok := f.pending["/change/"+change]
		if !ok {
			WriteQueryError(w, Fault{http.StatusNotFound, "NoSuchChange", "no change " + change})
			return
		}
		status := "INSYNC"
		if left > 0 {
			status = "PENDING"
			f.pending["/change/"+change] = left - 1
		}
		fmt.Fprintf(w, `<GetChangeResponse xmlns="%s"><ChangeInfo><Id>/change/%s</Id><Status>%s</Status><SubmittedAt>2024-05-01T12:00:00.000Z</SubmittedAt></ChangeInfo></GetChangeResponse>`, r53NS, change, status)
	}
}

func (f *Route53) list(w http.ResponseWriter, zone string, q map[string][]string) {
	recs := append([]RecordSet(nil), f.zones[zone]...)
	sort.Slice(recs, func(i, j int) bool { return recs[i].key() < recs[j].key() })
	start := FormGet(q, "name") + "|" + FormGet(q, "type") + "|" + FormGet(q, "identifier")
	max := f.PageSize
	if s := FormGet(q, "maxitems"); s != "" {
		if n, _ := strconv.Atoi(s); n > 0 && n < max {
			max = n
		}
	}
	var page []RecordSet
	var next *RecordSet
	for _, r := range recs {
		if r.key() < start {
			continue
		}
		if len(page) == max {
			next = &r
			break
		}
		page = append(page, r)
	}
	out := struct {
		XMLName              xml.Name    `xml:"ListResourceRecordSetsResponse"`
		NS                   string      `xml:"xmlns,attr"`
		ResourceRecordSets   []RecordSet `xml:"ResourceRecordSets>ResourceRecordSet"`
		IsTruncated          bool
		NextRecordName       string `xml:",omitempty"`
		NextRecordType       string `xml:",omitempty"`
		NextRecordIdentifier string `xml:",omitempty"`
		MaxItems             int
	}{NS: r53NS, ResourceRecordSets: page, MaxItems: max}
	if next != nil {
		out.IsTruncated, out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = true, next.Name, next.Type, next.SetIdentifier
	}
	b, _ := xml.Marshal(out)
	w.Write(b)
}

func (f *Route53) change(w http.ResponseWriter, zone string, body io.Reader) {
	var req struct {
		Changes []struct {
			Action            string
			ResourceRecordSet RecordSet
		} `xml:"ChangeBatch>Changes>Change"`
	}
	if err := xml.NewDecoder(body).Decode(&req); err != nil {
		WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidInput", err.Error()})
		return
	}
	recs := append([]RecordSet(nil), f.zones[zone]...)
	find := func(k string) int {
		for i, r := range recs {
			if r.key() == k {
				return i
			}
		}
		return -1
	}
	var msgs []string
	for _, c := range req.Changes {
		rs := c.ResourceRecordSet
		rs.Name = strings.ToLower(rs.Name)
		if !strings.HasSuffix(rs.Name, ".") {
			rs.Name += "."
		}
		if rs.Weight != nil && (*rs.Weight < 0 || *rs.Weight > 255) {
			msgs = append(msgs, fmt.Sprintf("weight %d outside 0–255", *rs.Weight))
			continue
		}
		i := find(rs.key())
		switch c.Action {
		case "DELETE":
			if i < 0 {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s', set-identifier='%s'] but it was not found", rs.Name, rs.Type, rs.SetIdentifier))
			} else if !reflect.DeepEqual(recs[i], rs) {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s', set-identifier='%s'] but the values provided do not match the current values", rs.Name, rs.Type, rs.SetIdentifier))
			} else {
				recs = append(recs[:i], recs[i+1:]...)
			}
		case "CREATE":
			if i >= 0 {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set [name='%s', type='%s', set-identifier='%s'] but it already exists", rs.Name, rs.Type, rs.SetIdentifier))
			} else {
				recs = append(recs, rs)
			}
		case "UPSERT":
			if i >= 0 {
				recs[i] = rs
			} else {
				recs = append(recs, rs)
			}
		default:
			msgs = append(msgs, "unknown action "+c.Action)
		}
	}
	if len(msgs) > 0 {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<InvalidChangeBatch xmlns="%s"><Messages>`, r53NS)
		for _, m := range msgs {
			fmt.Fprintf(w, "<Message>%s</Message>", xmlEscape(m))
		}
		fmt.Fprint(w, `</Messages><RequestId>wire-test</RequestId></InvalidChangeBatch>`)
		return
	}
	f.zones[zone] = recs
	f.nextID++
	id := fmt.Sprintf("/change/C%08d", f.nextID)
	f.pending[id] = f.PendingPolls
	fmt.Fprintf(w, `<ChangeResourceRecordSetsResponse xmlns="%s"><ChangeInfo><Id>%s</Id><Status>PENDING</Status><SubmittedAt>2024-05-01T12:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`, r53NS, id)
}
