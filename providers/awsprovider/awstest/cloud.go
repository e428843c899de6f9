package awstest

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The resources of a Cloud beyond those of the fakes it is made of.
const (
	// GreenService is green's ECS service in ECSCluster: 0 tasks at first.
	GreenService = "shop-green"
	// RequestsPerMinute is the traffic through the Cloud's listener.
	RequestsPerMinute = 20000
	// Lag is how late a minute's data points are published.
	Lag = time.Minute
	// FleetStep is how many members a Cloud's fleet gains or loses between
	// two describes.
	FleetStep = 2
)

// CloudOptions configure a Cloud. The zero value is valid: no errors, no
// alarms, no throttling, DynamoDB not served.
type CloudOptions struct {
	// BlueErrorRate and GreenErrorRate are the shares (0–1) of requests
	// each target group answers with a 5xx.
	BlueErrorRate, GreenErrorRate float64
	// Alarms are CloudWatch metric alarms and their states (OK, ALARM,
	// INSUFFICIENT_DATA).
	Alarms map[string]string
	// DynamoDB, if set, is the endpoint of a real DynamoDB-compatible
	// server on this machine (dynalite, http://127.0.0.1:PORT): DynamoDB
	// calls go there, each on a connection of its own that is closed after
	// the answer, so that no idle connection keeps a synctest bubble's time
	// from advancing.
	DynamoDB string
	// Throttle answers the first Throttle[op] calls of operation op (of
	// any service) with Throttling, which the SDK's retryer retries.
	Throttle map[string]int
}

// Cloud is one small region for whole programs: the ELB, CloudWatch, Auto
// Scaling, Beanstalk and ECS fakes of this package, wired together.
//
//   - ELB's listener ListenerARN forwards to BlueTG and GreenTG (blue=100,
//     green=0, no stickiness). BlueTG's members are BlueASG's instances in
//     service, GreenTG's the running tasks of GreenService, all healthy.
//   - CloudWatch publishes, per target group and minute, the listener's
//     RequestsPerMinute split by the weights in force at the middle of the
//     minute: RequestCount and HTTPCode_Target_5XX_Count (by the error
//     rates) sums, and TargetResponseTime (Average 50 ms, SampleCount the
//     requests) — a point a minute, for minutes with traffic, Lag late, as
//     ALB does.
//   - Auto Scaling's BlueASG (bounds 2–6, 4 instances), Beanstalk's BlueEnv
//     (MinSize 2, MaxSize 6, 4 instances) and ECS's GreenService in
//     ECSCluster move FleetStep members a describe.
//
// The SDK reaches it through the AWS_ENDPOINT_URL_* variables Setenv sets
// and the in-process HTTPClient. All its services share one Faults. Safe
// for concurrent use.
type Cloud struct {
	*Faults
	opts        CloudOptions
	ELB         *ELB
	CloudWatch  *CloudWatch
	AutoScaling *AutoScaling
	Beanstalk   *Beanstalk
	ECS         *ECS
	hosts       map[string]http.Handler
}

var _ http.Handler = (*Cloud)(nil)

// The hosts of a Cloud's services.
const (
	elbHost = "elb.awstest.test"
	cwHost  = "monitoring.awstest.test"
	asHost  = "autoscaling.awstest.test"
	ebHost  = "elasticbeanstalk.awstest.test"
	ecsHost = "ecs.awstest.test"
)

// NewCloud returns a Cloud whose listener sends all traffic to blue, or an
// error naming the first field of opts out of range.
func NewCloud(opts CloudOptions) (*Cloud, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	faults := &Faults{}
	for op, n := range opts.Throttle {
		faults.FailNext(op, n, Throttling)
	}
	c := &Cloud{Faults: faults, opts: opts,
		ELB: NewELB(), CloudWatch: NewCloudWatch(), AutoScaling: NewAutoScaling(), Beanstalk: NewBeanstalk(), ECS: NewECS()}
	c.ELB.Faults, c.CloudWatch.Faults, c.AutoScaling.Faults, c.Beanstalk.Faults, c.ECS.Faults = faults, faults, faults, faults, faults

	fwd := []Action{{Type: "forward", Order: 1, ForwardConfig: &ForwardConfig{TargetGroups: []Tuple{{BlueTG, 100}, {GreenTG, 0}}}}}
	c.ELB.listeners[ListenerARN].DefaultActions = fwd
	c.ELB.history[ListenerARN] = []change{{weights: forwardWeights(fwd)}}
	c.ELB.members = c.members

	c.CloudWatch.series = c.series
	now := time.Now()
	for name, state := range opts.Alarms {
		c.CloudWatch.alarms[name] = Alarm{Name: name, Type: "MetricAlarm", State: state, Reason: "awstest", Updated: now}
	}

	c.AutoScaling.Step = FleetStep
	c.AutoScaling.groups[BlueASG].TargetGroupARNs = []string{BlueTG}
	for _, in := range c.AutoScaling.groups[BlueASG].Instances {
		in.LifecycleState = "InService"
	}
	c.Beanstalk.InstanceStep = FleetStep
	c.ECS.ecsStep = FleetStep
	delete(c.ECS.services, ECSCluster+"/"+ECSService)
	_ = c.ECS.AddService(ManagedService{Cluster: ECSCluster, Name: GreenService})
	c.ECS.Set(GreenService, func(s *Service) { *s = Service{Rollout: "COMPLETED", Status: "ACTIVE"} })

	c.hosts = map[string]http.Handler{elbHost: c.ELB, cwHost: c.CloudWatch, asHost: c.AutoScaling, ebHost: c.Beanstalk, ecsHost: c.ECS}
	return c, nil
}

// check returns an error naming the first field of o out of range.
func (o CloudOptions) check() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"BlueErrorRate", o.BlueErrorRate}, {"GreenErrorRate", o.GreenErrorRate}} {
		if !(r.v >= 0 && r.v <= 1) { // NaN too
			return fmt.Errorf("awstest: CloudOptions.%s: %v: want a share from 0 to 1 (0: no errors)", r.name, r.v)
		}
	}
	for name, state := range o.Alarms {
		switch state {
		case "OK", "ALARM", "INSUFFICIENT_DATA":
		default:
			return fmt.Errorf("awstest: CloudOptions.Alarms[%q]: %q: want OK, ALARM or INSUFFICIENT_DATA", name, state)
		}
	}
	for op, n := range o.Throttle {
		if n < 0 {
			return fmt.Errorf("awstest: CloudOptions.Throttle[%q]: %d: want ≥ 0 (0: none)", op, n)
		}
	}
	if o.DynamoDB != "" {
		if u, err := url.Parse(o.DynamoDB); err != nil || u.Scheme != "http" || u.Host == "" {
			return fmt.Errorf("awstest: CloudOptions.DynamoDB: %q: want http://HOST:PORT (empty: not served)", o.DynamoDB)
		}
	}
	return nil
}

// Setenv points the SDK's default configuration at c for the rest of the
// test, with static credentials, region Region and no shared config files
// (t.Setenv: the test must not be parallel). Give HTTPClient to
// config.WithHTTPClient.
func (c *Cloud) Setenv(t testing.TB) {
	creds, _ := Credentials().Retrieve(t.Context())
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", Region)
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// Settings of the machine that would reach past the fake (a CA
	// bundle needs a transport of the SDK's own).
	for _, v := range []string{"AWS_CA_BUNDLE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://unknown.awstest.test")
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
// in-process, and passes DynamoDB calls on to CloudOptions.DynamoDB.
func (c *Cloud) HTTPClient() aws.HTTPClient {
	return cloudClient{c, InProcessClient(c)}
}

type cloudClient struct {
	c     *Cloud
	local aws.HTTPClient
}

func (d cloudClient) Do(r *http.Request) (*http.Response, error) {
	if ep := d.c.opts.DynamoDB; ep != "" && strings.TrimSuffix(ep, "/") == r.URL.Scheme+"://"+r.URL.Host {
		return (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(r)
	}
	return d.local.Do(r)
}

// ServeHTTP serves each service at its host.
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if host == "" { // an outgoing request, served in-process
		host = r.URL.Host
	}
	h, ok := c.hosts[host]
	if !ok {
		http.Error(w, "awstest: no service at "+host, http.StatusNotFound)
		return
	}
	h.ServeHTTP(w, r)
}

// Weights returns the listener's weights of blue and green now.
func (c *Cloud) Weights() map[string]int {
	now := time.Now()
	return map[string]int{"blue": c.ELB.WeightAt(ListenerARN, BlueTG, now), "green": c.ELB.WeightAt(ListenerARN, GreenTG, now)}
}

// Edit is another writer setting green's weight (0–100; blue gets the
// rest) on the listener now, behind the cutover's back.
func (c *Cloud) Edit(green int) {
	c.ELB.SetActions(ListenerARN, []Action{{Type: "forward", Order: 1, ForwardConfig: &ForwardConfig{
		TargetGroups: []Tuple{{BlueTG, 100 - green}, {GreenTG, green}}}}})
}

// Fleet returns the desired and running counts of the fleet named by
// BlueASG, BlueEnv or GreenService (a Beanstalk environment's desired count
// is its MinSize), or -1, -1 for another name.
func (c *Cloud) Fleet(name string) (desired, running int) {
	switch name {
	case BlueASG:
		g := c.AutoScaling.Group(name)
		return g.DesiredCapacity, c.inService()
	case BlueEnv:
		e := c.Beanstalk.Environment(name)
		return e.MinSize, e.Instances
	case GreenService:
		s := c.ECS.Service(name)
		return s.Desired, s.Running
	}
	return -1, -1
}

// inService counts BlueASG's instances in service.
func (c *Cloud) inService() int {
	c.AutoScaling.mu.Lock()
	defer c.AutoScaling.mu.Unlock()
	n := 0
	for _, in := range c.AutoScaling.groups[BlueASG].Instances {
		if in.LifecycleState == "InService" {
			n++
		}
	}
	return n
}

// members answers DescribeTargetHealth: blue's members are BlueASG's
// instances in service, green's GreenService's running tasks, all healthy.
func (c *Cloud) members(tg string) ([]Member, bool) {
	var ids []string
	switch tg {
	case BlueTG:
		c.AutoScaling.mu.Lock()
		for _, in := range c.AutoScaling.groups[BlueASG].Instances {
			if in.LifecycleState == "InService" {
				ids = append(ids, in.InstanceId)
			}
		}
		c.AutoScaling.mu.Unlock()
	case GreenTG:
		for i := range c.ECS.Service(GreenService).Running {
			ids = append(ids, fmt.Sprintf("10.0.1.%d", i+10))
		}
	default:
		return nil, false
	}
	ms := make([]Member, len(ids))
	for i, id := range ids {
		ms[i].Target.Id, ms[i].TargetHealth.State = id, "healthy"
	}
	return ms, true
}

// series answers the listener's ALB metrics of BlueTG and GreenTG a minute
// at a time, from the weights the listener had.
func (c *Cloud) series(metric, stat string, dims map[string]string, start, end time.Time) ([]time.Time, []float64, bool, error) {
	blue := strings.HasSuffix(BlueTG, dims["TargetGroup"])
	if !strings.HasSuffix(LBARN, "/"+dims["LoadBalancer"]) || !blue && !strings.HasSuffix(GreenTG, dims["TargetGroup"]) {
		return nil, nil, true, fmt.Errorf("awstest: unsupported metric dimensions %v", dims)
	}
	tg, rate := GreenTG, c.opts.GreenErrorRate
	if blue {
		tg, rate = BlueTG, c.opts.BlueErrorRate
	}
	published := time.Now().Add(-Lag)
	var ts []time.Time
	var vs []float64
	for t := start.Truncate(time.Minute); t.Before(end) && !t.Add(time.Minute).After(published); t = t.Add(time.Minute) {
		requests := float64(RequestsPerMinute * c.ELB.WeightAt(ListenerARN, tg, t.Add(30*time.Second)) / 100)
		v := requests
		switch {
		case metric == "RequestCount" && stat == "Sum":
		case metric == "HTTPCode_Target_5XX_Count" && stat == "Sum":
			v = math.Round(requests * rate)
		case metric == "TargetResponseTime" && stat == "SampleCount":
		case metric == "TargetResponseTime" && stat == "Average":
			v = min(v, 0.05)
		default:
			return nil, nil, true, fmt.Errorf("awstest: unsupported metric %s %s", metric, stat)
		}
		if v > 0 {
			ts, vs = append(ts, t), append(vs, v)
		}
	}
	return ts, vs, true, nil
}
