package awstest

import (
	"context"
	"encoding/json"
	"errors"
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
	// share the clock of the rest of the test (a fake cloud's, say) so
	// that traffic and deployments agree.
	Clock cutover.Clock
	// Provision is how long the replacement (green) task set takes to
	// start; 0 means DefaultManagedProvision.
	Provision time.Duration
	// Rollback is how long a rollback takes; 0 means
	// DefaultManagedRollback.
	Rollback time.Duration
	// CleanUp is how long ECS takes to scale the old revision down after
	// its bake time; 0 means DefaultManagedCleanUp.
	CleanUp time.Duration
}

// ErrManaged is what the errors of Managed's own methods (AddService,
// AddDeploymentGroup, FailDeployment, ...) wrap: bad input or a resource
// it does not know.
var ErrManaged = errors.New("awstest managed")

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
	ecsStep  int                    // tasks started or stopped between two DescribeServices
	ecsDeps  map[string]*ecsDeployment
	ecsOrder []string
	*Faults
}

var _ http.Handler = (*Managed)(nil)

// NewManaged returns a simulated managed deployment service with CodeDeploy's
// predefined deployment configs and no deployment groups or services. A
// negative duration in opts is an error.
func NewManaged(opts ManagedOptions) (*Managed, error) {
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"Provision", &opts.Provision, DefaultManagedProvision}, {"Rollback", &opts.Rollback, DefaultManagedRollback}, {"CleanUp", &opts.CleanUp, DefaultManagedCleanUp}} {
		if *d.v < 0 {
			return nil, fmt.Errorf("%w: ManagedOptions.%s: %s: want ≥ 0 (0 means %s)", ErrManaged, d.name, *d.v, d.def)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if opts.Clock == nil {
		opts.Clock = cutover.RealClock{}
	}
	m := &Managed{
		opts:     opts,
		groups:   map[string]*cdGroup{},
		configs:  map[string]cdConfig{},
		cdDeps:   map[string]*cdDeployment{},
		services: map[string]*ecsService{},
		ecsStep:  1,
		ecsDeps:  map[string]*ecsDeployment{},
		Faults:   &Faults{},
	}
	for _, c := range predefinedConfigs() {
		m.configs[c.Name] = c
	}
	return m, nil
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

// clientErr is a 400 answer of the simulated API.
func clientErr(code, format string, a ...any) *Fault {
	return &Fault{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, a...)}
}

// simInvalid is an error of a Managed method for bad input.
func simInvalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrManaged}, a...)...)
}

// simNotFound is an error of a Managed method naming what it does not know.
func simNotFound(kind, name string) error {
	return fmt.Errorf("%w: %s %q not found", ErrManaged, kind, name)
}

// codeDeployTarget is CodeDeploy's X-Amz-Target prefix (ECS's is ecsTarget).
const codeDeployTarget = "CodeDeploy_20141006."

// ServeHTTP answers one awsJson1_1 request of CodeDeploy or ECS: POST,
// the operation in the X-Amz-Target header, a JSON body.
func (m *Managed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	prefix := codeDeployTarget
	if strings.HasPrefix(target, ecsTarget) {
		prefix = ecsTarget
	}
	op, ok := JSONCall(w, r, prefix, m.Faults)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		WriteJSONError(w, *clientErr("SerializationException", "read body: %s", err.Error()))
		return
	}
	var (
		out  any
		ferr *Fault
	)
	m.mu.Lock()
	m.advanceLocked()
	if prefix == codeDeployTarget {
		out, ferr = m.codeDeploy(op, body)
	} else {
		out, ferr = m.ecs(op, body)
	}
	m.mu.Unlock()
	if ferr != nil {
		WriteJSONError(w, *ferr)
		return
	}
	WriteJSON(w, out)
}

func decode(body []byte, v any) *Fault {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return clientErr("SerializationException", "decode request: %s", err.Error())
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
