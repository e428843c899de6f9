package awsprovider_test

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

	"github.com/aws/aws-sdk-go-v2/service/route53"
)

const (
	r53NS    = "https://route53.amazonaws.com/doc/2013-04-01/"
	testZone = "Z0123456789ABCDEFGHIJ"
	testName = "app.example.com."
)

type xRR struct{ Value string }

type xAlias struct {
	HostedZoneId         string
	DNSName              string
	EvaluateTargetHealth bool
}

type xRRSet struct {
	Name            string
	Type            string
	SetIdentifier   string  `xml:",omitempty"`
	Weight          *int64  `xml:",omitempty"`
	TTL             *int64  `xml:",omitempty"`
	ResourceRecords []xRR   `xml:"ResourceRecords>ResourceRecord,omitempty"`
	AliasTarget     *xAlias `xml:",omitempty"`
	HealthCheckId   string  `xml:",omitempty"`
}

func (r xRRSet) key() string { return r.Name + "|" + r.Type + "|" + r.SetIdentifier }

func ptr64(v int64) *int64 { return &v }

// weighted returns a weighted A record of testName.
func weighted(id string, weight, ttl int64, ip string) xRRSet {
	return xRRSet{Name: testName, Type: "A", SetIdentifier: id, Weight: ptr64(weight), TTL: ptr64(ttl), ResourceRecords: []xRR{{ip}}}
}

type fakeRoute53 struct {
	wireCalls
	mu      sync.Mutex
	zones   map[string][]xRRSet
	pending map[string]int // change ID → GetChange polls left before INSYNC
	nextID  int
	// PendingPolls is how many GetChange calls see a new change PENDING.
	PendingPolls int
	// PageSize caps the records of one list page.
	PageSize int
}

// newFakeRoute53 returns a zone with blue (weight 100) and green (0)
// weighted A records of testName, TTL 60, and an unrelated record.
func newFakeRoute53() *fakeRoute53 {
	return &fakeRoute53{
		zones: map[string][]xRRSet{testZone: {
			weighted("blue", 100, 60, "192.0.2.10"),
			weighted("green", 0, 60, "192.0.2.20"),
			{Name: "db.example.com.", Type: "CNAME", TTL: ptr64(300), ResourceRecords: []xRR{{"db.internal."}}},
		}},
		pending:      map[string]int{},
		PendingPolls: 2,
		PageSize:     100,
	}
}

func (f *fakeRoute53) client(h wireHTTP) *route53.Client {
	o := route53.Options{BaseEndpoint: &h.url, Region: "us-east-1", Credentials: wireCreds, Retryer: wireRetryer()}
	if h.client != nil {
		o.HTTPClient = h.client
	}
	return route53.New(o)
}

// records returns the zone's records of testName by SetIdentifier.
func (f *fakeRoute53) records() map[string]xRRSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]xRRSet{}
	for _, r := range f.zones[testZone] {
		if r.Name == testName {
			out[r.SetIdentifier] = r
		}
	}
	return out
}

// weights returns the weights of testName's records.
func (f *fakeRoute53) weights() map[string]int64 {
	out := map[string]int64{}
	for id, r := range f.records() {
		if r.Weight != nil {
			out[id] = *r.Weight
		}
	}
	return out
}

// edit changes the record id of testName in place (another writer).
func (f *fakeRoute53) edit(id string, fn func(*xRRSet)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.zones[testZone] {
		if r.Name == testName && r.SetIdentifier == id {
			fn(&f.zones[testZone][i])
		}
	}
}

func (f *fakeRoute53) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		writeQueryError(w, wireFault{http.StatusNotFound, "UnknownOperation", r.Method + " " + path})
		return
	}
	if fault, ok := f.hit(op); ok {
		writeQueryError(w, fault)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if op != "GetChange" {
		if _, ok := f.zones[zone]; !ok {
			writeQueryError(w, wireFault{http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: " + zone})
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
			writeQueryError(w, wireFault{http.StatusNotFound, "NoSuchChange", "no change " + change})
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

func (f *fakeRoute53) list(w http.ResponseWriter, zone string, q map[string][]string) {
	recs := append([]xRRSet(nil), f.zones[zone]...)
	sort.Slice(recs, func(i, j int) bool { return recs[i].key() < recs[j].key() })
	start := formGet(q, "name") + "|" + formGet(q, "type") + "|" + formGet(q, "identifier")
	max := f.PageSize
	if s := formGet(q, "maxitems"); s != "" {
		if n, _ := strconv.Atoi(s); n > 0 && n < max {
			max = n
		}
	}
	var page []xRRSet
	var next *xRRSet
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
		XMLName              xml.Name `xml:"ListResourceRecordSetsResponse"`
		NS                   string   `xml:"xmlns,attr"`
		ResourceRecordSets   []xRRSet `xml:"ResourceRecordSets>ResourceRecordSet"`
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

func (f *fakeRoute53) change(w http.ResponseWriter, zone string, body io.Reader) {
	var req struct {
		Changes []struct {
			Action            string
			ResourceRecordSet xRRSet
		} `xml:"ChangeBatch>Changes>Change"`
	}
	if err := xml.NewDecoder(body).Decode(&req); err != nil {
		writeQueryError(w, wireFault{http.StatusBadRequest, "InvalidInput", err.Error()})
		return
	}
	recs := append([]xRRSet(nil), f.zones[zone]...)
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
