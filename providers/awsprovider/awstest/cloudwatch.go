package awstest

// A stateful fake of CloudWatch over rpcv2Cbor (POST
// /service/GraniteServiceVersion20100801/operation/OP, CBOR bodies), built
// on smithy-go's CBOR encoder and decoder: alarms of each type, and raw
// metric samples from which GetMetricData computes Sum, SampleCount,
// Average and pNN per period, as CloudWatch does. DescribeAlarms without
// AlarmTypes returns metric alarms only, like the real service.

import (
	"fmt"
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

const cwNS = "com.amazonaws.cloudwatch"

// Alarm is a CloudWatch alarm: its name, type (MetricAlarm,
// CompositeAlarm, LogAlarm), state (OK, ALARM, INSUFFICIENT_DATA), reason
// and when it last changed.
type Alarm struct {
	Name, Type, State, Reason string
	Updated                   time.Time
}

type sample struct {
	t time.Time
	v float64
}

// CloudWatch is a fake CloudWatch service. Set AlarmPage before serving.
// Safe for concurrent use.
type CloudWatch struct {
	*Faults
	mu      sync.Mutex
	alarms  map[string]Alarm
	samples map[string][]sample // "metric|TargetGroup|LoadBalancer" → samples
	exprs   map[string][]sample // expression text → one value a minute
	// AlarmPage caps the alarms of one DescribeAlarms page.
	AlarmPage int
	// pagePerQuery answers GetMetricData with one query's result a page.
	pagePerQuery bool
	// periods records the Period of every MetricStat asked for.
	periods []int
	// series, if set, answers a MetricStat query before the samples do
	// (handled true): the data points of metric and stat with the given
	// dimensions in [start, end).
	series func(metric, stat string, dims map[string]string, start, end time.Time) (stamps []time.Time, values []float64, handled bool, err error)
}

// NewCloudWatch returns a CloudWatch with no alarms and no data, and
// DescribeAlarms pages of 100.
func NewCloudWatch() *CloudWatch {
	return &CloudWatch{Faults: &Faults{}, alarms: map[string]Alarm{}, samples: map[string][]sample{}, exprs: map[string][]sample{}, AlarmPage: 100}
}

// Client returns an SDK client of f at e.
func (f *CloudWatch) Client(e Endpoint) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(e.Config())
}

// AddAlarm adds or replaces an alarm.
func (f *CloudWatch) AddAlarm(a Alarm) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alarms[a.Name] = a
}

// Add records raw samples of an ALB metric (namespace AWS/ApplicationELB)
// of target group tgARN on the load balancer of ARN suffix lbSuffix
// ("app/NAME/ID"), at time t. GetMetricData computes Sum, SampleCount,
// Average and pNN per period from them.
func (f *CloudWatch) Add(metric, tgARN, lbSuffix string, t time.Time, vs ...float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := metric + "|" + tgARN[strings.Index(tgARN, "targetgroup/"):] + "|" + lbSuffix
	for _, v := range vs {
		f.samples[k] = append(f.samples[k], sample{t, v})
	}
}

// DefineExpression makes expr known, with no data yet.
func (f *CloudWatch) DefineExpression(expr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.exprs[expr]; !ok {
		f.exprs[expr] = nil
	}
}

// SetPagePerQuery makes GetMetricData answer one query's result a page.
func (f *CloudWatch) SetPagePerQuery(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pagePerQuery = on
}

// Periods returns the Period of every MetricStat asked for since the last
// call, and forgets them.
func (f *CloudWatch) Periods() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.periods
	f.periods = nil
	return p
}

// AddExpression records the value at time t (one a minute) of a metric
// math expression, as GetMetricData answers it.
func (f *CloudWatch) AddExpression(expr string, t time.Time, v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exprs[expr] = append(f.exprs[expr], sample{t, v})
}

// ServeHTTP serves one rpcv2Cbor call.
func (f *CloudWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, in, ok := CBORCall(w, r, "GraniteServiceVersion20100801", cwNS, f.Faults)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out cbor.Map
	var fault *Fault
	switch op {
	case "DescribeAlarms":
		out, fault = f.describeAlarms(in)
	case "GetMetricData":
		out, fault = f.getMetricData(in)
	default:
		fault = &Fault{http.StatusBadRequest, "UnknownOperation", op}
	}
	if fault != nil {
		WriteCBORError(w, cwNS, *fault)
		return
	}
	WriteCBOR(w, out)
}

func (f *CloudWatch) describeAlarms(in cbor.Map) (cbor.Map, *Fault) {
	types := map[string]bool{}
	for _, t := range cborList(in["AlarmTypes"]) {
		types[cborStr(t)] = true
	}
	if len(types) == 0 {
		types["MetricAlarm"] = true
	}
	names := cborList(in["AlarmNames"])
	if len(names) > 100 {
		return nil, &Fault{http.StatusBadRequest, "ValidationError", "at most 100 AlarmNames"}
	}
	var match []Alarm
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
			"StateUpdatedTimestamp": cborTimestamp(a.Updated), "AlarmArn": cbor.String("arn:aws:cloudwatch:us-east-1:" + Account + ":alarm:" + a.Name)}
		key := map[string]string{"MetricAlarm": "MetricAlarms", "CompositeAlarm": "CompositeAlarms", "LogAlarm": "LogAlarms"}[a.Type]
		l, _ := out[key].(cbor.List)
		out[key] = append(l, m)
	}
	if to < len(match) {
		out["NextToken"] = cbor.String(strconv.Itoa(to))
	}
	return out, nil
}

func (f *CloudWatch) getMetricData(in cbor.Map) (cbor.Map, *Fault) {
	start, ok1 := cborTime(in["StartTime"])
	end, ok2 := cborTime(in["EndTime"])
	if !ok1 || !ok2 || !end.After(start) {
		return nil, &Fault{http.StatusBadRequest, "ValidationError", "StartTime must be before EndTime"}
	}
	start = start.Truncate(time.Minute)
	queries := cborList(in["MetricDataQueries"])
	from, _ := strconv.Atoi(cborStr(in["NextToken"]))
	to := len(queries)
	if f.pagePerQuery {
		to = min(from+1, len(queries))
	}
	var results cbor.List
	for _, qv := range queries[from:to] {
		q := cborMap(qv)
		id := cborStr(q["Id"])
		var period int
		var samples []sample
		stat := "Sum"
		if expr := cborStr(q["Expression"]); expr != "" {
			var ok bool
			if samples, ok = f.exprs[expr]; !ok {
				return nil, &Fault{http.StatusBadRequest, "ValidationError", "unknown expression " + expr}
			}
			period = cborInt(q["Period"])
		} else {
			ms := cborMap(q["MetricStat"])
			m := cborMap(ms["Metric"])
			if cborStr(m["Namespace"]) != "AWS/ApplicationELB" {
				return nil, &Fault{http.StatusBadRequest, "ValidationError", "namespace " + cborStr(m["Namespace"])}
			}
			dims := map[string]string{}
			for _, d := range cborList(m["Dimensions"]) {
				dims[cborStr(cborMap(d)["Name"])] = cborStr(cborMap(d)["Value"])
			}
			samples = f.samples[cborStr(m["MetricName"])+"|"+dims["TargetGroup"]+"|"+dims["LoadBalancer"]]
			period, stat = cborInt(ms["Period"]), cborStr(ms["Stat"])
			f.periods = append(f.periods, period)
			if f.series != nil {
				ts, vs, handled, err := f.series(cborStr(m["MetricName"]), stat, dims, start, end)
				if err != nil {
					return nil, &Fault{http.StatusBadRequest, "ValidationError", err.Error()}
				}
				if handled {
					results = append(results, metricResult(id, ts, vs))
					continue
				}
			}
		}
		if period < 60 || period%60 != 0 {
			return nil, &Fault{http.StatusBadRequest, "ValidationError", fmt.Sprintf("period %d is not a multiple of 60", period)}
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
		vs := make([]float64, len(ts))
		for i, b := range ts {
			v, err := statistic(stat, buckets[b])
			if err != nil {
				return nil, &Fault{http.StatusBadRequest, "ValidationError", err.Error()}
			}
			vs[i] = v
		}
		results = append(results, metricResult(id, ts, vs))
	}
	out := cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}
	if to < len(queries) {
		out["NextToken"] = cbor.String(strconv.Itoa(to))
	}
	return out, nil
}

// metricResult is one query's MetricDataResult.
func metricResult(id string, ts []time.Time, vs []float64) cbor.Map {
	stamps, values := cbor.List{}, cbor.List{}
	for i, t := range ts {
		stamps = append(stamps, cborTimestamp(t))
		values = append(values, cbor.Float64(vs[i]))
	}
	return cbor.Map{"Id": cbor.String(id), "Label": cbor.String(id), "StatusCode": cbor.String("Complete"),
		"Timestamps": stamps, "Values": values}
}

func statistic(stat string, vs []float64) (float64, error) {
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
