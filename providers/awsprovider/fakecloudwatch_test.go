package awsprovider_test

// A stateful fake of CloudWatch over rpcv2Cbor (POST
// /service/GraniteServiceVersion20100801/operation/OP, CBOR bodies), built
// on smithy-go's CBOR encoder and decoder: alarms of each type, and raw
// metric samples from which GetMetricData computes Sum, SampleCount,
// Average and pNN per period, as CloudWatch does. DescribeAlarms without
// AlarmTypes returns metric alarms only, like the real service.

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/encoding/cbor"
)

type fakeAlarm struct {
	Name, Type, State, Reason string
	Updated                   time.Time
}

type cwSample struct {
	t time.Time
	v float64
}

type fakeCloudWatch struct {
	wireCalls
	mu      sync.Mutex
	alarms  map[string]fakeAlarm
	samples map[string][]cwSample // "metric|TargetGroup|LoadBalancer" → samples
	exprs   map[string][]cwSample // expression text → one value a minute
	// AlarmPage caps the alarms of one DescribeAlarms page.
	AlarmPage int
	// PagePerQuery answers GetMetricData with one query's result a page.
	PagePerQuery bool
	// periods records the Period of every MetricStat asked for.
	periods []int
}

func newFakeCloudWatch() *fakeCloudWatch {
	return &fakeCloudWatch{alarms: map[string]fakeAlarm{}, samples: map[string][]cwSample{}, exprs: map[string][]cwSample{}, AlarmPage: 100}
}

func (f *fakeCloudWatch) client(h wireHTTP) *cloudwatch.Client {
	o := cloudwatch.Options{BaseEndpoint: &h.url, Region: "us-east-1", Credentials: wireCreds, Retryer: wireRetryer()}
	if h.client != nil {
		o.HTTPClient = h.client
	}
	return cloudwatch.New(o)
}

func (f *fakeCloudWatch) addAlarm(a fakeAlarm) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alarms[a.Name] = a
}

// add records samples of an ALB metric of a target group.
func (f *fakeCloudWatch) add(metric, tgARN, lbSuffix string, t time.Time, vs ...float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := metric + "|" + tgARN[strings.Index(tgARN, "targetgroup/"):] + "|" + lbSuffix
	for _, v := range vs {
		f.samples[k] = append(f.samples[k], cwSample{t, v})
	}
}

func (f *fakeCloudWatch) addExpr(expr string, t time.Time, v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exprs[expr] = append(f.exprs[expr], cwSample{t, v})
}

func writeCBORError(w http.ResponseWriter, fl wireFault) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	kind := "Sender"
	if fl.status >= 500 {
		kind = "Receiver"
	}
	w.Header().Set("X-Amzn-Query-Error", fl.code+";"+kind)
	w.WriteHeader(fl.status)
	w.Write(cbor.Encode(cbor.Map{"__type": cbor.String("com.amazonaws.cloudwatch#" + fl.code), "message": cbor.String(fl.msg)}))
}

func (f *fakeCloudWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801/operation/")
	if !ok || r.Method != http.MethodPost || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		writeCBORError(w, wireFault{http.StatusBadRequest, "UnknownOperation", r.Method + " " + r.URL.Path})
		return
	}
	if fault, ok := f.hit(op); ok {
		writeCBORError(w, fault)
		return
	}
	body, _ := io.ReadAll(r.Body)
	v, err := cbor.Decode(body)
	in, ok := v.(cbor.Map)
	if err != nil || !ok {
		writeCBORError(w, wireFault{http.StatusBadRequest, "SerializationException", fmt.Sprintf("body is not a CBOR map: %v", err)})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out cbor.Map
	var fault *wireFault
	switch op {
	case "DescribeAlarms":
		out, fault = f.describeAlarms(in)
	case "GetMetricData":
		out, fault = f.getMetricData(in)
	default:
		fault = &wireFault{http.StatusBadRequest, "UnknownOperation", op}
	}
	if fault != nil {
		writeCBORError(w, *fault)
		return
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Write(cbor.Encode(out))
}

func cborStr(v cbor.Value) string {
	s, _ := v.(cbor.String)
	return string(s)
}

func cborList(v cbor.Value) []cbor.Value {
	l, _ := v.(cbor.List)
	return l
}

func cborMap(v cbor.Value) cbor.Map {
	m, _ := v.(cbor.Map)
	return m
}

func cborInt(v cbor.Value) int {
	switch x := v.(type) {
	case cbor.Uint:
		return int(x)
	case cbor.NegInt:
		return -int(x)
	}
	return 0
}

func cborTime(v cbor.Value) (time.Time, bool) {
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

func cborTimestamp(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}
}

func (f *fakeCloudWatch) describeAlarms(in cbor.Map) (cbor.Map, *wireFault) {
	types := map[string]bool{}
	for _, t := range cborList(in["AlarmTypes"]) {
		types[cborStr(t)] = true
	}
	if len(types) == 0 {
		types["MetricAlarm"] = true
	}
	names := cborList(in["AlarmNames"])
	if len(names) > 100 {
		return nil, &wireFault{http.StatusBadRequest, "ValidationError", "at most 100 AlarmNames"}
	}
	var match []fakeAlarm
	for _, n := range names {
		if a, ok := f.alarms[cborStr(n)]; ok && types[a.Type] {
			match = append(match, a)
		}
	}
	sort.Slice(match, func(i, j int) bool { return match[i].Name < match[j].Name })
	page := f.AlarmPage
	if m := cborInt(in["MaxRecords"]); m > 0 && m < page {
		page = m
	}
	from, _ := strconv.Atoi(cborStr(in["NextToken"]))
	to := min(len(match), from+page)
	out := cbor.Map{"MetricAlarms": cbor.List{}, "CompositeAlarms": cbor.List{}}
	for _, a := range match[from:to] {
		m := cbor.Map{"AlarmName": cbor.String(a.Name), "StateValue": cbor.String(a.State), "StateReason": cbor.String(a.Reason),
			"StateUpdatedTimestamp": cborTimestamp(a.Updated), "AlarmArn": cbor.String("arn:aws:cloudwatch:us-east-1:" + testAccount + ":alarm:" + a.Name)}
		key := map[string]string{"MetricAlarm": "MetricAlarms", "CompositeAlarm": "CompositeAlarms", "LogAlarm": "LogAlarms"}[a.Type]
		l, _ := out[key].(cbor.List)
		out[key] = append(l, m)
	}
	if to < len(match) {
		out["NextToken"] = cbor.String(strconv.Itoa(to))
	}
	return out, nil
}

func (f *fakeCloudWatch) getMetricData(in cbor.Map) (cbor.Map, *wireFault) {
	start, ok1 := cborTime(in["StartTime"])
	end, ok2 := cborTime(in["EndTime"])
	if !ok1 || !ok2 || !end.After(start) {
		return nil, &wireFault{http.StatusBadRequest, "ValidationError", "StartTime must be before EndTime"}
	}
	start = start.Truncate(time.Minute)
	queries := cborList(in["MetricDataQueries"])
	from, _ := strconv.Atoi(cborStr(in["NextToken"]))
	to := len(queries)
	if f.PagePerQuery {
		to = min(from+1, len(queries))
	}
	var results cbor.List
	for _, qv := range queries[from:to] {
		q := cborMap(qv)
		id := cborStr(q["Id"])
		var period int
		var samples []cwSample
		stat := "Sum"
		if expr := cborStr(q["Expression"]); expr != "" {
			var ok bool
			if samples, ok = f.exprs[expr]; !ok {
				return nil, &wireFault{http.StatusBadRequest, "ValidationError", "unknown expression " + expr}
			}
			period = cborInt(q["Period"])
		} else {
			ms := cborMap(q["MetricStat"])
			m := cborMap(ms["Metric"])
			if cborStr(m["Namespace"]) != "AWS/ApplicationELB" {
				return nil, &wireFault{http.StatusBadRequest, "ValidationError", "namespace " + cborStr(m["Namespace"])}
			}
			dims := map[string]string{}
			for _, d := range cborList(m["Dimensions"]) {
				dims[cborStr(cborMap(d)["Name"])] = cborStr(cborMap(d)["Value"])
			}
			samples = f.samples[cborStr(m["MetricName"])+"|"+dims["TargetGroup"]+"|"+dims["LoadBalancer"]]
			period, stat = cborInt(ms["Period"]), cborStr(ms["Stat"])
			f.periods = append(f.periods, period)
		}
		if period < 60 || period%60 != 0 {
			return nil, &wireFault{http.StatusBadRequest, "ValidationError", fmt.Sprintf("period %d is not a multiple of 60", period)}
		}
		buckets := map[time.Time][]float64{}
		for _, s := range samples {
			if s.t.Before(start) || !s.t.Before(end) {
				continue
			}
			b := start.Add(time.Duration(int(s.t.Sub(start)/time.Second)/period*period) * time.Second)
			buckets[b] = append(buckets[b], s.v)
		}
		var ts []time.Time
		for b := range buckets {
			ts = append(ts, b)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		var stamps, values cbor.List
		for _, b := range ts {
			v, err := cwStat(stat, buckets[b])
			if err != nil {
				return nil, &wireFault{http.StatusBadRequest, "ValidationError", err.Error()}
			}
			stamps = append(stamps, cborTimestamp(b))
			values = append(values, cbor.Float64(v))
		}
		results = append(results, cbor.Map{"Id": cbor.String(id), "Label": cbor.String(id), "StatusCode": cbor.String("Complete"),
			"Timestamps": stamps, "Values": values})
	}
	out := cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}
	if to < len(queries) {
		out["NextToken"] = cbor.String(strconv.Itoa(to))
	}
	return out, nil
}

func cwStat(stat string, vs []float64) (float64, error) {
	sum := 0.0
	for _, v := range vs {
		sum += v
	}
	switch stat {
	case "Sum":
		return sum, nil
	case "SampleCount":
		return float64(len(vs)), nil
	case "Average":
		return sum / float64(len(vs)), nil
	}
	if p, ok := strings.CutPrefix(stat, "p"); ok {
		q, err := strconv.ParseFloat(p, 64)
		if err == nil && q > 0 && q <= 100 {
			s := append([]float64(nil), vs...)
			sort.Float64s(s)
			i := int(math.Ceil(q/100*float64(len(s)))) - 1
			return s[max(i, 0)], nil
		}
	}
	return 0, fmt.Errorf("unsupported statistic %q", stat)
}
