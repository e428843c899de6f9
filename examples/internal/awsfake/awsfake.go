package awsfake

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// The resources of the fake.
const (
	Region      = "us-east-1"
	LBARN       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/front/50dc6c495c0c9188"
	ListenerARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/front/50dc6c495c0c9188/f2f7dc8efc522ab2"
	BlueTG      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067"
	GreenTG     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/4b8d2f4e9c1a7d35"
	// RequestsPerMinute is the traffic through the listener.
	RequestsPerMinute = 20000
	// Lag is how late a minute's data points are published.
	Lag = time.Minute

	elbHost = "elb.awsfake.test"
	cwHost  = "monitoring.awsfake.test"
	elbNS   = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// Options configure a Cloud.
type Options struct {
	// BlueErrorRate and GreenErrorRate are the shares of requests each
	// target group answers with a 5xx.
	BlueErrorRate, GreenErrorRate float64
	// Alarms are CloudWatch alarms and their states (OK, ALARM,
	// INSUFFICIENT_DATA).
	Alarms map[string]string
	// DynamoDB, if set, is the endpoint of a real DynamoDB-compatible
	// server on this machine (dynalite, http://127.0.0.1:PORT): DynamoDB
	// calls go there, each on a connection of its own that is closed after
	// the answer, so that no idle connection keeps a synctest bubble's time
	// from advancing.
	DynamoDB string
	// Throttle answers the first Throttle[op] calls of the ELB, Auto
	// Scaling, Elastic Beanstalk and ECS operation op with a throttling
	// error, which the SDK's retryer retries.
	Throttle map[string]int
}

type change struct {
	at    time.Time
	green int // green's weight; blue has 100 - green
}

// Cloud is the fake: one ALB listener forwarding to BlueTG and GreenTG,
// and CloudWatch. Safe for concurrent use.
type Cloud struct {
	opts  Options
	mu    sync.Mutex
	green []change // weights over time, oldest first
	calls map[string]int
	fl    fleets
}

// New returns a fake whose listener sends all traffic to blue.
func New(opts Options) *Cloud {
	return &Cloud{opts: opts, calls: map[string]int{}, fl: newFleets()}
}

// Setenv points the SDK's default configuration at c for the rest of the
// test, with static credentials and no shared config files (t.Setenv: the
// test must not be parallel). Give HTTPClient to config.WithHTTPClient.
func (c *Cloud) Setenv(t testing.TB) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDAWSFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "awsfake-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/awsfake/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/awsfake/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// Settings of the machine that would reach past the fake (a CA
	// bundle needs a transport of the SDK's own).
	for _, v := range []string{"AWS_CA_BUNDLE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://unknown.awsfake.test")
	t.Setenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", "http://"+elbHost)
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "http://"+cwHost)
	t.Setenv("AWS_ENDPOINT_URL_AUTO_SCALING", "http://"+asHost)
	t.Setenv("AWS_ENDPOINT_URL_ELASTIC_BEANSTALK", "http://"+ebHost)
	t.Setenv("AWS_ENDPOINT_URL_ECS", "http://"+ecsHost)
	if c.opts.DynamoDB != "" {
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", c.opts.DynamoDB)
	}
}

// HTTPClient returns an HTTP client that serves every request with c,
// in-process.
func (c *Cloud) HTTPClient() interface {
	Do(*http.Request) (*http.Response, error)
} {
	return doer{c}
}

type doer struct{ c *Cloud }

func (d doer) Do(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	if ep := d.c.opts.DynamoDB; ep != "" && strings.TrimSuffix(ep, "/") == r.URL.Scheme+"://"+r.URL.Host {
		return (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(r)
	}
	rec := httptest.NewRecorder()
	d.c.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// ServeHTTP serves ELBv2 and CloudWatch by host.
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if host == "" { // an outgoing request, served in-process
		host = r.URL.Host
	}
	switch host {
	case elbHost:
		c.serveELB(w, r)
	case cwHost:
		c.serveCloudWatch(w, r)
	case asHost:
		c.serveAutoScaling(w, r)
	case ebHost:
		c.serveBeanstalk(w, r)
	case ecsHost:
		c.serveECS(w, r)
	default:
		http.Error(w, "awsfake: no service at "+host, http.StatusNotFound)
	}
}

// Weights returns the listener's weights of blue and green now.
func (c *Cloud) Weights() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.greenAt(time.Now())
	return map[string]int{"blue": 100 - g, "green": g}
}

// Calls returns how many times op was called.
func (c *Cloud) Calls(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

func (c *Cloud) greenAt(t time.Time) int {
	g := 0
	for _, ch := range c.green {
		if ch.at.After(t) {
			break
		}
		g = ch.green
	}
	return g
}

// ELBv2, awsQuery.

type xTuple struct {
	TargetGroupArn string
	Weight         int
}

type xAction struct {
	Type          string
	Order         int `xml:",omitempty"`
	ForwardConfig struct {
		TargetGroups []xTuple `xml:"TargetGroups>member"`
	}
}

type xListener struct {
	ListenerArn     string
	LoadBalancerArn string
	Port            int
	Protocol        string
	DefaultActions  []xAction `xml:"DefaultActions>member"`
}

// Edit is another writer setting green's weight on the listener now,
// behind the cutover's back.
func (c *Cloud) Edit(green int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.green = append(c.green, change{time.Now(), green})
}

func (c *Cloud) listener() xListener {
	g := c.greenAt(time.Now())
	a := xAction{Type: "forward", Order: 1}
	a.ForwardConfig.TargetGroups = []xTuple{{BlueTG, 100 - g}, {GreenTG, g}}
	return xListener{ListenerArn: ListenerARN, LoadBalancerArn: LBARN, Port: 443, Protocol: "HTTPS", DefaultActions: []xAction{a}}
}

func (c *Cloud) serveELB(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		queryError(w, "MalformedQueryString", "want a form POST")
		return
	}
	form := r.PostForm
	op := form.Get("Action")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.throttled(op) {
		queryError(w, "Throttling", "Rate exceeded")
		return
	}
	if op == "DescribeTargetHealth" {
		res, ok := c.targetHealth(form.Get("TargetGroupArn"))
		if !ok {
			queryError(w, "TargetGroupNotFound", "target group "+form.Get("TargetGroupArn")+" not found")
			return
		}
		queryResult(w, op, elbNS, res)
		return
	}
	type result struct {
		XMLName   xml.Name
		Listeners []xListener `xml:"Listeners>member"`
	}
	res := result{XMLName: xml.Name{Local: op + "Result"}}
	switch op {
	case "DescribeListeners":
		if arn := form.Get("ListenerArns.member.1"); arn != ListenerARN {
			queryError(w, "ListenerNotFound", "listener "+arn+" not found")
			return
		}
	case "ModifyListener":
		if arn := form.Get("ListenerArn"); arn != ListenerARN {
			queryError(w, "ListenerNotFound", "listener "+arn+" not found")
			return
		}
		if typ := form.Get("DefaultActions.member.1.Type"); typ != "forward" || form.Get("DefaultActions.member.2.Type") != "" {
			queryError(w, "ValidationError", "awsfake: want one forward action, got "+typ)
			return
		}
		weights := map[string]int{}
		for i := 1; ; i++ {
			p := fmt.Sprintf("DefaultActions.member.1.ForwardConfig.TargetGroups.member.%d.", i)
			arn := form.Get(p + "TargetGroupArn")
			if arn == "" {
				break
			}
			wt, err := strconv.Atoi(form.Get(p + "Weight"))
			if err != nil || wt < 0 || wt > 999 || (arn != BlueTG && arn != GreenTG) {
				queryError(w, "ValidationError", fmt.Sprintf("awsfake: target group %s weight %q", arn, form.Get(p+"Weight")))
				return
			}
			weights[arn] = wt
		}
		if len(weights) != 2 || weights[BlueTG]+weights[GreenTG] != 100 {
			queryError(w, "ValidationError", fmt.Sprintf("awsfake: want blue and green weights summing to 100, got %v", weights))
			return
		}
		c.green = append(c.green, change{time.Now(), weights[GreenTG]})
	default:
		queryError(w, "InvalidAction", "awsfake: unknown action "+op)
		return
	}
	res.Listeners = []xListener{c.listener()}
	queryResult(w, op, elbNS, res)
}

func queryError(w http.ResponseWriter, code, msg string) {
	var b strings.Builder
	xml.EscapeText(&b, []byte(msg))
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>awsfake</RequestId></ErrorResponse>`, code, b.String())
}

// CloudWatch, rpcv2Cbor.

func (c *Cloud) serveCloudWatch(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801/operation/")
	body, _ := io.ReadAll(r.Body)
	v, err := cbor.Decode(body)
	in, isMap := v.(cbor.Map)
	if !ok || err != nil || !isMap {
		cborError(w, "SerializationException", fmt.Sprintf("awsfake: %s %s: want a CBOR map", r.Method, r.URL.Path))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
	var out cbor.Map
	switch op {
	case "GetMetricData":
		out, err = c.getMetricData(in)
	case "DescribeAlarms":
		out = c.describeAlarms(in)
	default:
		err = fmt.Errorf("awsfake: unknown operation %s", op)
	}
	if err != nil {
		cborError(w, "ValidationError", err.Error())
		return
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Write(cbor.Encode(out))
}

func cborError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("X-Amzn-Query-Error", code+";Sender")
	w.WriteHeader(http.StatusBadRequest)
	w.Write(cbor.Encode(cbor.Map{"__type": cbor.String("com.amazonaws.cloudwatch#" + code), "message": cbor.String(msg)}))
}

func (c *Cloud) describeAlarms(in cbor.Map) cbor.Map {
	var metric cbor.List
	for _, n := range list(in["AlarmNames"]) {
		name := str(n)
		if st, ok := c.opts.Alarms[name]; ok {
			metric = append(metric, cbor.Map{"AlarmName": cbor.String(name), "StateValue": cbor.String(st),
				"StateReason": cbor.String("awsfake"), "StateUpdatedTimestamp": timestamp(time.Now())})
		}
	}
	return cbor.Map{"MetricAlarms": metric, "CompositeAlarms": cbor.List{}}
}

// getMetricData answers RequestCount and HTTPCode_Target_5XX_Count sums
// and TargetResponseTime (Average 50 ms, SampleCount the requests) per
// minute; a minute is published once it is Lag old, and only if it
// had requests (errors: only if it had a 5xx), as ALB does.
func (c *Cloud) getMetricData(in cbor.Map) (cbor.Map, error) {
	start, ok1 := timeOf(in["StartTime"])
	end, ok2 := timeOf(in["EndTime"])
	if !ok1 || !ok2 || !end.After(start) {
		return nil, fmt.Errorf("StartTime must be before EndTime")
	}
	published := time.Now().Add(-Lag)
	var results cbor.List
	for _, qv := range list(in["MetricDataQueries"]) {
		q, _ := qv.(cbor.Map)
		ms, _ := q["MetricStat"].(cbor.Map)
		m, _ := ms["Metric"].(cbor.Map)
		dims := map[string]string{}
		for _, d := range list(m["Dimensions"]) {
			dm, _ := d.(cbor.Map)
			dims[str(dm["Name"])] = str(dm["Value"])
		}
		blue := strings.HasSuffix(BlueTG, dims["TargetGroup"])
		if str(m["Namespace"]) != "AWS/ApplicationELB" || !strings.HasSuffix(LBARN, "/"+dims["LoadBalancer"]) ||
			!blue && !strings.HasSuffix(GreenTG, dims["TargetGroup"]) {
			return nil, fmt.Errorf("awsfake: unsupported metric %v", m)
		}
		metric := str(m["MetricName"])
		var stamps, values cbor.List
		for t := start.Truncate(time.Minute); t.Before(end) && !t.Add(time.Minute).After(published); t = t.Add(time.Minute) {
			share, rate := c.greenAt(t.Add(30*time.Second)), c.opts.GreenErrorRate
			if blue {
				share, rate = 100-share, c.opts.BlueErrorRate
			}
			requests := float64(RequestsPerMinute * share / 100)
			v := requests
			switch stat := str(ms["Stat"]); {
			case metric == "RequestCount" && stat == "Sum":
			case metric == "HTTPCode_Target_5XX_Count" && stat == "Sum":
				v = math.Round(requests * rate)
			case metric == "TargetResponseTime" && stat == "SampleCount":
			case metric == "TargetResponseTime" && stat == "Average":
				v = min(v, 0.05)
			default:
				return nil, fmt.Errorf("awsfake: unsupported metric %s %s", metric, stat)
			}
			if v > 0 {
				stamps, values = append(stamps, timestamp(t)), append(values, cbor.Float64(v))
			}
		}
		results = append(results, cbor.Map{"Id": q["Id"], "Label": q["Id"], "StatusCode": cbor.String("Complete"), "Timestamps": stamps, "Values": values})
	}
	return cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}, nil
}

func list(v cbor.Value) cbor.List { l, _ := v.(cbor.List); return l }

func str(v cbor.Value) string { s, _ := v.(cbor.String); return string(s) }

func timeOf(v cbor.Value) (time.Time, bool) {
	tag, ok := v.(*cbor.Tag)
	if !ok || tag.ID != 1 {
		return time.Time{}, false
	}
	switch x := tag.Value.(type) {
	case cbor.Float64:
		return time.UnixMilli(int64(math.Round(float64(x) * 1000))).UTC(), true
	case cbor.Uint:
		return time.Unix(int64(x), 0).UTC(), true
	}
	return time.Time{}, false
}

func timestamp(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}
}
