package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// Defaults of a Managed service where ManagedOptions leave a field zero.
const (
	DefaultManagedProvision = time.Minute // start the replacement task set
	DefaultManagedRollback  = time.Minute // move traffic back and stop green
	DefaultManagedCleanUp   = time.Minute // ECS: scale the old revision down
)

// ManagedOptions configure a Managed service. The zero value is valid.
type ManagedOptions struct {
	// Clock drives the simulated deployments. Nil means cutover.RealClock;
	// share the Cloud's clock so that traffic and deployments agree.
	Clock cutover.Clock
	// Provision is how long the replacement (green) task set takes to
	// start. Default DefaultManagedProvision.
	Provision time.Duration
	// Rollback is how long a rollback takes. Default DefaultManagedRollback.
	Rollback time.Duration
	// CleanUp is how long ECS takes to scale the old revision down after
	// its bake time. Default DefaultManagedCleanUp.
	CleanUp time.Duration
}

// Managed simulates the managed deployment services of a cloud — CodeDeploy
// ECS blue/green deployments and ECS native BLUE_GREEN, CANARY and LINEAR
// deployments — and serves their API over HTTP in the awsJson1_1 wire
// protocol, so that the real SDK clients, pointed at it with BaseEndpoint,
// drive it as they would drive AWS. Each deployment group or service may
// have a router (a Cloud's Router, say) whose weights follow the simulated
// traffic shift, so that the Cloud's simulated traffic and metrics see the
// new revision take traffic.
//
// Deployments advance with the clock, lazily: each API call (and Advance)
// brings every deployment up to the clock's time, so no goroutine runs.
// Safe for concurrent use.
type Managed struct {
	opts ManagedOptions

	mu       sync.Mutex
	seq      int
	groups   map[string]*cdGroup // by application/group
	configs  map[string]cdConfig
	cdDeps   map[string]*cdDeployment
	cdOrder  []string
	services map[string]*ecsService // by cluster/service
	ecsDeps  map[string]*ecsDeployment
	ecsOrder []string
	calls    map[string]int
	faults   []managedFault
}

var _ http.Handler = (*Managed)(nil)

type managedFault struct {
	op, code string
	left     int
}

// NewManaged returns a simulated managed deployment service with CodeDeploy's
// predefined deployment configs and no deployment groups or services.
func NewManaged(opts ManagedOptions) *Managed {
	if opts.Clock == nil {
		opts.Clock = cutover.RealClock{}
	}
	if opts.Provision <= 0 {
		opts.Provision = DefaultManagedProvision
	}
	if opts.Rollback <= 0 {
		opts.Rollback = DefaultManagedRollback
	}
	if opts.CleanUp <= 0 {
		opts.CleanUp = DefaultManagedCleanUp
	}
	m := &Managed{
		opts:     opts,
		groups:   map[string]*cdGroup{},
		configs:  map[string]cdConfig{},
		cdDeps:   map[string]*cdDeployment{},
		services: map[string]*ecsService{},
		ecsDeps:  map[string]*ecsDeployment{},
		calls:    map[string]int{},
	}
	for _, c := range predefinedConfigs() {
		m.configs[c.Name] = c
	}
	return m
}

// FailNext makes the next n calls of the API operation op (e.g.
// "GetDeployment", "UpdateService") fail with the error code given:
// "ThrottlingException" and other client errors answer 400, "InternalFailure",
// "ServiceUnavailable" and "ServerException" answer 500.
func (m *Managed) FailNext(op, code string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = append(m.faults, managedFault{op: op, code: code, left: n})
}

// Calls returns how often the API operation op was called, failures
// included.
func (m *Managed) Calls(op string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[op]
}

// Advance brings every deployment up to the clock's time, moving the
// routers' weights as the deployments shift traffic.
func (m *Managed) Advance() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked()
}

func (m *Managed) advanceLocked() {
	now := m.opts.Clock.Now()
	for _, id := range m.cdOrder {
		m.cdDeps[id].advance(m, now)
	}
	for _, arn := range m.ecsOrder {
		m.ecsDeps[arn].advance(m, now)
	}
}

func (m *Managed) nextID() int {
	m.seq++
	return m.seq
}

// follow sets router r to give green the share g (percent) of traffic.
func follow(r providers.TrafficRouter, blue, green string, g float64) {
	if r == nil {
		return
	}
	gi := int(math.Round(g))
	gi = min(max(gi, 0), 100)
	_ = r.SetWeights(context.Background(), providers.Weights{blue: 100 - gi, green: gi})
}

// apiError is an error answer of the simulated API.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func clientErr(code, format string, a ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, a...)}
}

func faultErr(code string) *apiError {
	st := http.StatusBadRequest
	switch code {
	case "InternalFailure", "ServiceUnavailable", "ServerException", "InternalServerException":
		st = http.StatusInternalServerError
	}
	return &apiError{status: st, code: code, message: "injected fault"}
}

// The X-Amz-Target prefixes of the two services.
const (
	codeDeployTarget = "CodeDeploy_20141006."
	ecsTarget        = "AmazonEC2ContainerServiceV20141113."
)

// ServeHTTP answers one awsJson1_1 request: POST, the operation in the
// X-Amz-Target header, a JSON body.
func (m *Managed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || target == "" {
		writeAPIError(w, clientErr("UnknownOperationException", "want POST with an X-Amz-Target header"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeAPIError(w, clientErr("SerializationException", "read body: %v", err))
		return
	}
	var (
		out  any
		aerr *apiError
	)
	m.mu.Lock()
	switch {
	case strings.HasPrefix(target, codeDeployTarget):
		op := strings.TrimPrefix(target, codeDeployTarget)
		if aerr = m.fault(op); aerr == nil {
			m.advanceLocked()
			out, aerr = m.codeDeploy(op, body)
		}
	case strings.HasPrefix(target, ecsTarget):
		op := strings.TrimPrefix(target, ecsTarget)
		if aerr = m.fault(op); aerr == nil {
			m.advanceLocked()
			out, aerr = m.ecs(op, body)
		}
	default:
		aerr = clientErr("UnknownOperationException", "unknown target %q", target)
	}
	m.mu.Unlock()
	if aerr != nil {
		writeAPIError(w, aerr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeAPIError(w, &apiError{status: http.StatusInternalServerError, code: "InternalFailure", message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(b)
}

// fault counts a call of op and returns an injected fault, if one is due.
func (m *Managed) fault(op string) *apiError {
	m.calls[op]++
	for i := range m.faults {
		f := &m.faults[i]
		if f.op == op && f.left > 0 {
			f.left--
			return faultErr(f.code)
		}
	}
	return nil
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	b, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.message})
	_, _ = w.Write(b)
}

func decode(body []byte, v any) *apiError {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return clientErr("SerializationException", "decode request: %v", err)
	}
	return nil
}

// epoch renders t as awsJson timestamps are: seconds since the epoch.
func epoch(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.UnixMilli()) / 1000
}

func fromEpoch(v *float64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(math.Round(*v * 1000)))
}

// obj is a JSON object answer that leaves out nil values.
type obj map[string]any

func (o obj) MarshalJSON() ([]byte, error) {
	clean := make(map[string]any, len(o))
	for k, v := range o {
		switch x := v.(type) {
		case nil:
			continue
		case string:
			if x == "" {
				continue
			}
		case obj:
			if x == nil {
				continue
			}
		}
		clean[k] = v
	}
	return json.Marshal(clean)
}
