package awsprovider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// CloudWatchMetricsAPI is the part of *cloudwatch.Client an
// ALBMetricSource uses.
type CloudWatchMetricsAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

var _ CloudWatchMetricsAPI = (*cloudwatch.Client)(nil)

// The ALB metrics the source reads, in namespace AWS/ApplicationELB.
const (
	albNamespace        = "AWS/ApplicationELB"
	albRequestCount     = "RequestCount"
	albTarget5XX        = "HTTPCode_Target_5XX_Count"
	albTargetRespTime   = "TargetResponseTime"
	albPeriod           = 60 // seconds: ALB publishes one data point a minute
	metricDataMaxPages  = 20
	slowExprPlaceholder = "${TargetGroup}"
	slowExprLBHolder    = "${LoadBalancer}"
)

// ALBMetricsOptions configures an ALBMetricSource. The zero value is valid.
type ALBMetricsOptions struct {
	// Logger receives debug logs; nil means none.
	Logger *zap.Logger
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
	// CallTimeout bounds each attempt of each API call; a timed-out
	// attempt is retried by the client's retryer. ≥ 0; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// SlowExpression, if set, answers providers.MetricSlow, for which ALB
	// publishes no metric: a CloudWatch metric math expression whose
	// one-minute values are counts of slow requests, summed over the
	// query's window. "${TargetGroup}" and "${LoadBalancer}" in it are
	// replaced by the target's dimension values ("targetgroup/web/0123…",
	// "app/front/4567…"), for example a SEARCH over a metric of your own:
	//
	//	SUM(SEARCH('{MyApp,TargetGroup} MetricName="SlowRequests" TargetGroup="${TargetGroup}"', 'Sum', 60))
	//
	// Without it, MetricSlow is an error wrapping ErrUnsupportedMetric.
	SlowExpression string
	// PublishLag is how long after a minute ends ALB's data for it are
	// taken as complete (FeedInfo.Lag; see Settled). Zero means
	// DefaultALBPublishLag.
	PublishLag time.Duration
	// BatchFor is how long one GetMetricData read answers further queries:
	// the first query of a poll reads requests, errors, latency (and
	// SlowExpression) of every target in one call, over the longest window
	// asked so far, and queries asked within BatchFor of it (the rest of
	// the poll: the judge, threshold gates, the observed-share check) are
	// answered from it. ≥ 0; 0 means 10s. Set it below the poll interval.
	BatchFor time.Duration
	// Clock times BatchFor and is the clock Settled reads. Default
	// cutover.RealClock.
	Clock cutover.Clock
}

// ALBMetricSource is a providers.MetricSource over the per-target-group
// metrics an Application Load Balancer publishes to CloudWatch (namespace
// AWS/ApplicationELB, dimensions TargetGroup and LoadBalancer), read with
// GetMetricData, one call a query:
//
//	MetricRequests    RequestCount, Sum
//	MetricErrors      HTTPCode_Target_5XX_Count, Sum
//	MetricLatencyAvg  TargetResponseTime, Average (weighted by SampleCount)
//	MetricLatencyP99  TargetResponseTime, p99 over the whole window
//	MetricSlow        SlowExpression, if configured
//
// Counts and the average are read in one-minute periods and MetricValue.
// Points is the number of minutes with data; p99 is read in one period
// spanning the window (rounded up to whole minutes), because percentiles
// of minutes do not combine.
//
// ALB publishes a metric only for minutes in which requests flowed, with a
// lag of a minute or more. So no data is Points == 0, never zero. The one
// exception is what makes error counts usable: ALB publishes
// HTTPCode_Target_5XX_Count only for minutes with a 5xx, so MetricErrors is
// read together with RequestCount, and a minute with requests but no 5xx
// count is a data point of 0 errors. That is how a sequential judge gets
// requests and errors per target group.
//
// Safe for concurrent use.
type ALBMetricSource struct {
	awsBase
	client   CloudWatchMetricsAPI
	lb       string            // LoadBalancer dimension
	dims     map[string]string // target name → TargetGroup dimension
	slowExpr string
	lag      time.Duration // PublishLag
	settled  settledMemo   // Settled's answers, by target
	batchFor time.Duration

	mu       sync.Mutex
	batch    *metricBatch
	lookback time.Duration // the longest window asked so far
}

// metricBatch is one read of every batched metric of every target.
type metricBatch struct {
	at         time.Time // on the source's clock
	start, end time.Time
	series     map[string]series // by query ID
}

var _ providers.MetricSource = (*ALBMetricSource)(nil)

// NewALBMetricSource returns a source for the target groups targets
// (target name → target group ARN) behind the load balancer named by
// loadBalancerARN — the load balancer's ARN, or the ARN of one of its
// listeners or rules. The client is usually a *cloudwatch.Client in the
// load balancer's region.
func NewALBMetricSource(client CloudWatchMetricsAPI, loadBalancerARN string, targets map[string]string, opts ALBMetricsOptions) (*ALBMetricSource, error) {
	if client == nil {
		return nil, fmt.Errorf("alb metric source: nil client")
	}
	lb, err := parseELBARN(loadBalancerARN)
	if err != nil {
		return nil, fmt.Errorf("alb metric source: %w", err)
	}
	if lb.kind == elbTargetGroup {
		return nil, fmt.Errorf("alb metric source: %s is a target group ARN, want the load balancer's (or a listener's) ARN", loadBalancerARN)
	}
	if lb.lbType != "app" {
		return nil, fmt.Errorf("alb metric source: %s is not an Application Load Balancer (type %q)", loadBalancerARN, lb.lbType)
	}
	tgs, err := parseTargetGroups("alb metric source", targets, 0)
	if err != nil {
		return nil, err
	}
	s := &ALBMetricSource{
		awsBase:  newAWSBase(opts.Logger, opts.Clock, opts.Pacer),
		lag:      opts.PublishLag,
		client:   client,
		lb:       lb.suffix,
		dims:     make(map[string]string, len(tgs)),
		slowExpr: opts.SlowExpression,
	}
	for name, tg := range tgs {
		s.dims[name] = tg.suffix
	}
	if err := s.setCallTimeout("alb metric source: CallTimeout", opts.CallTimeout); err != nil {
		return nil, err
	}
	if s.batchFor, err = durationOr("alb metric source: BatchFor", opts.BatchFor, 10*time.Second); err != nil {
		return nil, err
	}
	return s, nil
}

// Metric answers q with one GetMetricData call (more only if CloudWatch
// pages the answer).
func (s *ALBMetricSource) Metric(ctx context.Context, q providers.MetricQuery) (providers.MetricValue, error) {
	tg, ok := s.dims[q.Target]
	if !ok {
		return providers.MetricValue{}, fmt.Errorf("alb metric %s of %q: unknown target (known: %s)", q.Metric, q.Target, strings.Join(sortedKeys(s.dims), ", "))
	}
	if !q.End.After(q.Start) {
		return providers.MetricValue{}, fmt.Errorf("alb metric %s of %q: window [%s, %s) is empty", q.Metric, q.Target, q.Start, q.End)
	}
	what := fmt.Sprintf("alb metric %s of %q (%s)", q.Metric, q.Target, tg)
	switch q.Metric {
	case providers.MetricRequests, providers.MetricErrors, providers.MetricLatencyAvg:
	case providers.MetricSlow:
		if s.slowExpr == "" {
			return providers.MetricValue{}, fmt.Errorf("%s: %w: ALB publishes no count of slow requests; set ALBMetricsOptions.SlowExpression", what, ErrUnsupportedMetric)
		}
	}
	switch q.Metric {
	case providers.MetricRequests, providers.MetricErrors, providers.MetricLatencyAvg, providers.MetricSlow:
		res, err := s.batched(ctx, what, q.Start, q.End)
		if err != nil {
			return providers.MetricValue{}, err
		}
		i := s.index(q.Target)
		return s.answer(q.Metric, i, res), nil
	case providers.MetricLatencyP99:
		period := int32((q.End.Sub(q.Start) + albPeriod*time.Second - 1) / (albPeriod * time.Second) * albPeriod)
		res, err := s.get(ctx, what, q, s.stat("p99", tg, albTargetRespTime, "p99", period))
		if err != nil {
			return providers.MetricValue{}, err
		}
		p := res["p99"]
		v := providers.MetricValue{Points: len(p.values)}
		for _, x := range p.values {
			v.Value = max(v.Value, x) // more than one period: the worst
		}
		return v, nil
	}
	return providers.MetricValue{}, fmt.Errorf("%s: %w: want one of %s, %s, %s, %s, %s", what, ErrUnsupportedMetric,
		providers.MetricRequests, providers.MetricErrors, providers.MetricSlow, providers.MetricLatencyAvg, providers.MetricLatencyP99)
}

// series is one query's answer, by timestamp.
type series struct {
	times  []time.Time
	values []float64
}

func (s series) at() map[time.Time]float64 {
	m := make(map[time.Time]float64, len(s.times))
	for i, t := range s.times {
		m[t] = s.values[i]
	}
	return m
}

func sumSeries(s series) providers.MetricValue {
	v := providers.MetricValue{Points: len(s.values)}
	for _, x := range s.values {
		v.Value += x
	}
	return v
}

// weightedMean combines per-minute averages by their sample counts.
func weightedMean(avg, n series) providers.MetricValue {
	counts := n.at()
	var sum, total float64
	points := 0
	for i, t := range avg.times {
		c := counts[t]
		if c <= 0 {
			continue
		}
		sum += avg.values[i] * c
		total += c
		points++
	}
	if total == 0 {
		return providers.MetricValue{}
	}
	return providers.MetricValue{Value: sum / total, Points: points}
}

// get runs the queries over q's window and returns each query's answer by
// ID. A result whose status is not Complete after the last page is an
// error.
func (s *ALBMetricSource) get(ctx context.Context, what string, q providers.MetricQuery, queries ...cwtypes.MetricDataQuery) (map[string]series, error) {
	in := &cloudwatch.GetMetricDataInput{
		StartTime:         aws.Time(q.Start),
		EndTime:           aws.Time(q.End),
		MetricDataQueries: queries,
		ScanBy:            cwtypes.ScanByTimestampAscending,
	}
	out := make(map[string]series, len(queries))
	status := make(map[string]cwtypes.StatusCode, len(queries))
	for page := 0; ; page++ {
		if page == metricDataMaxPages {
			return nil, fmt.Errorf("%s: GetMetricData: more than %d pages", what, metricDataMaxPages)
		}
		if err := s.pace(ctx, "GetMetricData"); err != nil {
			return nil, err
		}
		res, err := s.client.GetMetricData(ctx, in, s.cwOpt)
		if err != nil {
			return nil, fmt.Errorf("%s: GetMetricData: %w", what, err)
		}
		for _, r := range res.MetricDataResults {
			id := aws.ToString(r.Id)
			if len(r.Timestamps) != len(r.Values) {
				return nil, fmt.Errorf("%s: GetMetricData: result %s has %d timestamps and %d values", what, id, len(r.Timestamps), len(r.Values))
			}
			sr := out[id]
			for i, t := range r.Timestamps {
				sr.times = append(sr.times, t.UTC())
				sr.values = append(sr.values, r.Values[i])
			}
			out[id] = sr
			status[id] = r.StatusCode
		}
		if aws.ToString(res.NextToken) == "" {
			break
		}
		in.NextToken = res.NextToken
	}
	for _, qq := range queries {
		id := aws.ToString(qq.Id)
		if st := status[id]; st != cwtypes.StatusCodeComplete {
			return nil, fmt.Errorf("%s: GetMetricData: result %s has status %q, want Complete", what, id, st)
		}
	}
	s.log.Debug("metric read", zap.String("query", what), zap.Time("start", q.Start), zap.Time("end", q.End))
	return out, nil
}

// index is the position of target among the sorted target names: the
// suffix of its query IDs in a batch.
func (s *ALBMetricSource) index(target string) int {
	for i, n := range sortedKeys(s.dims) {
		if n == target {
			return i
		}
	}
	return -1
}

// answer computes metric m of target i from a batch cut to a window.
func (s *ALBMetricSource) answer(m string, i int, res map[string]series) providers.MetricValue {
	id := func(p string) string { return fmt.Sprintf("%s%d", p, i) }
	switch m {
	case providers.MetricRequests:
		return sumSeries(res[id("r")])
	case providers.MetricErrors:
		v := sumSeries(res[id("e")])
		minutes := make(map[time.Time]bool)
		for _, sr := range []series{res[id("e")], res[id("r")]} {
			for _, t := range sr.times {
				minutes[t] = true
			}
		}
		v.Points = len(minutes)
		return v
	case providers.MetricLatencyAvg:
		return weightedMean(res[id("a")], res[id("n")])
	case providers.MetricSlow:
		return sumSeries(res[id("s")])
	}
	return providers.MetricValue{}
}

// batched returns every batched series of every target over
// [start, end): from the last read if it was made within BatchFor and
// covers the window, else from one new GetMetricData call over the longest
// window asked so far.
func (s *ALBMetricSource) batched(ctx context.Context, what string, start, end time.Time) (map[string]series, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.lookback = max(s.lookback, end.Sub(start))
	b := s.batch
	// A window inside the last read is cut from it: the judge asks for
	// the settled window, which ends a minute or two before the read.
	if b == nil || now.Sub(b.at) >= s.batchFor || start.Before(b.start) || end.Sub(b.end) >= s.batchFor {
		var queries []cwtypes.MetricDataQuery
		for i, name := range sortedKeys(s.dims) {
			tg := s.dims[name]
			id := func(p string) string { return fmt.Sprintf("%s%d", p, i) }
			queries = append(queries,
				s.stat(id("r"), tg, albRequestCount, "Sum", albPeriod),
				s.stat(id("e"), tg, albTarget5XX, "Sum", albPeriod),
				s.stat(id("a"), tg, albTargetRespTime, "Average", albPeriod),
				s.stat(id("n"), tg, albTargetRespTime, "SampleCount", albPeriod))
			if s.slowExpr != "" {
				expr := strings.NewReplacer(slowExprPlaceholder, tg, slowExprLBHolder, s.lb).Replace(s.slowExpr)
				queries = append(queries, cwtypes.MetricDataQuery{
					Id: aws.String(id("s")), Expression: aws.String(expr), Period: aws.Int32(albPeriod), ReturnData: aws.Bool(true)})
			}
		}
		from := end.Add(-s.lookback)
		res, err := s.get(ctx, what, providers.MetricQuery{Start: from, End: end}, queries...)
		if err != nil {
			return nil, err
		}
		b = &metricBatch{at: now, start: from, end: end, series: res}
		s.batch = b
	}
	lo := start.Truncate(albPeriod * time.Second)
	out := make(map[string]series, len(b.series))
	for id, sr := range b.series {
		var cut series
		for i, t := range sr.times {
			if !t.Before(lo) && t.Before(end) {
				cut.times = append(cut.times, t)
				cut.values = append(cut.values, sr.values[i])
			}
		}
		out[id] = cut
	}
	return out, nil
}

// stat is a MetricDataQuery of one ALB metric of target group tg.
func (s *ALBMetricSource) stat(id, tg, metric, st string, period int32) cwtypes.MetricDataQuery {
	return cwtypes.MetricDataQuery{
		Id: aws.String(id),
		MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{
				Namespace:  aws.String(albNamespace),
				MetricName: aws.String(metric),
				Dimensions: []cwtypes.Dimension{
					{Name: aws.String("TargetGroup"), Value: aws.String(tg)},
					{Name: aws.String("LoadBalancer"), Value: aws.String(s.lb)},
				},
			},
			Period: aws.Int32(period),
			Stat:   aws.String(st),
		},
		ReturnData: aws.Bool(true),
	}
}

// RequestCounts counts the requests each target group served in
// [start, end) (providers.RequestCounter), from the same batched read as
// Metric: one GetMetricData call for every target. Only whole minutes
// that begin at or after start count: the minute start falls in holds
// requests from before it (before a weight change), which would blur the
// observed share. A window holding no whole minute has no data.
func (s *ALBMetricSource) RequestCounts(ctx context.Context, targets []string, start, end time.Time) (map[string]providers.MetricValue, error) {
	if t := start.Truncate(albPeriod * time.Second); t.Before(start) {
		start = t.Add(albPeriod * time.Second)
	}
	if !end.After(start) {
		out := make(map[string]providers.MetricValue, len(targets))
		for _, t := range targets {
			if _, ok := s.dims[t]; !ok {
				return nil, fmt.Errorf("alb request counts of %q: unknown target (known: %s)", t, strings.Join(sortedKeys(s.dims), ", "))
			}
			out[t] = providers.MetricValue{}
		}
		return out, nil
	}
	for _, t := range targets {
		if _, ok := s.dims[t]; !ok {
			return nil, fmt.Errorf("alb request counts of %q: unknown target (known: %s)", t, strings.Join(sortedKeys(s.dims), ", "))
		}
	}
	if !end.After(start) {
		return nil, fmt.Errorf("alb request counts: window [%s, %s) is empty", start, end)
	}
	res, err := s.batched(ctx, "alb request counts", start, end)
	if err != nil {
		return nil, err
	}
	out := make(map[string]providers.MetricValue, len(targets))
	for _, t := range targets {
		out[t] = s.answer(providers.MetricRequests, s.index(t), res)
	}
	return out, nil
}

var _ providers.RequestCounter = (*ALBMetricSource)(nil)
