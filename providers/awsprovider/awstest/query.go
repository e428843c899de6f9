package awstest

// The awsQuery protocol (ELBv2, Auto Scaling, Elastic Beanstalk, and
// CloudWatch before rpcv2Cbor): form-encoded POST with Action and Version,
// XML answers. Route 53's restXml answers errors in the same document.

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// QueryCall reads an awsQuery request of API version: its form and
// operation (Action). It counts the call in faults and answers a malformed
// request or an injected fault itself: then ok is false and the caller
// returns.
func QueryCall(w http.ResponseWriter, r *http.Request, version string, faults *Faults) (form url.Values, op string, ok bool) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		WriteQueryError(w, Fault{http.StatusBadRequest, "MalformedQueryString", "want a form POST"})
		return nil, "", false
	}
	if v := FormGet(r.PostForm, "Version"); v != version {
		WriteQueryError(w, Fault{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("version %q, want %s", v, version)})
		return nil, "", false
	}
	op = FormGet(r.PostForm, "Action")
	fault, answer := faults.Intercept(op, r)
	if !answer {
		return nil, "", false
	}
	if fault != nil {
		WriteQueryError(w, *fault)
		return nil, "", false
	}
	return r.PostForm, op, true
}

// WriteQueryError writes an awsQuery (and restXml) error document: the
// fault's code and message, type Sender for a 4xx and Receiver for a 5xx.
func WriteQueryError(w http.ResponseWriter, f Fault) {
	typ := "Sender"
	if f.Status >= 500 {
		typ = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>awstest</RequestId></ErrorResponse>`,
		typ, xmlEscape(f.Code), xmlEscape(f.Message))
}

// WriteQueryResult writes an awsQuery success document of op in the XML
// namespace ns, whose Result element is result marshalled by encoding/xml
// (give it an XMLName of op+"Result").
func WriteQueryResult(w http.ResponseWriter, op, ns string, result any) {
	inner, err := xml.Marshal(result)
	if err != nil {
		WriteQueryError(w, Fault{http.StatusInternalServerError, "InternalFailure", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>awstest</RequestId></ResponseMetadata></%sResponse>`, op, ns, inner, op)
}

// Result returns the XML name of op's Result element, for WriteQueryResult.
func Result(op string) xml.Name { return xml.Name{Local: op + "Result"} }

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// FormGet returns the first value of key in form, or "".
func FormGet(form url.Values, key string) string {
	if v := form[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// FormMembers returns the indexes N of the prefix.member.N.* and
// prefix.member.N keys in form, in order: the members of an awsQuery list.
func FormMembers(form url.Values, prefix string) []int {
	seen := map[int]bool{}
	p := prefix + ".member."
	for k := range form {
		rest, ok := strings.CutPrefix(k, p)
		if !ok || rest == "" {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(rest, "%d", &n); err == nil {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// FormList returns the values of prefix.member.1, .2, ... in order.
func FormList(form url.Values, prefix string) []string {
	var out []string
	for _, n := range FormMembers(form, prefix) {
		if v := FormGet(form, fmt.Sprintf("%s.member.%d", prefix, n)); v != "" {
			out = append(out, v)
		}
	}
	return out
}
