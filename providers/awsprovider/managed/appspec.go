package managed

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
)

// AppSpecHooks name the Lambda functions CodeDeploy invokes at the hooks of
// an ECS deployment. Empty fields are left out.
type AppSpecHooks struct {
	BeforeInstall         string
	AfterInstall          string
	AfterAllowTestTraffic string
	BeforeAllowTraffic    string
	AfterAllowTraffic     string
}

// appSpec renders the AppSpec of an ECS deployment as JSON, which CodeDeploy
// accepts as well as YAML.
func appSpec(taskDef, container string, port int, platform string, h AppSpecHooks) string {
	type lbInfo struct {
		ContainerName string `json:"ContainerName"`
		ContainerPort int    `json:"ContainerPort"`
	}
	type props struct {
		TaskDefinition   string `json:"TaskDefinition"`
		LoadBalancerInfo lbInfo `json:"LoadBalancerInfo"`
		PlatformVersion  string `json:"PlatformVersion,omitempty"`
	}
	type target struct {
		Type       string `json:"Type"`
		Properties props  `json:"Properties"`
	}
	var hooks []map[string]string
	for _, kv := range [][2]string{
		{"BeforeInstall", h.BeforeInstall}, {"AfterInstall", h.AfterInstall},
		{"AfterAllowTestTraffic", h.AfterAllowTestTraffic},
		{"BeforeAllowTraffic", h.BeforeAllowTraffic}, {"AfterAllowTraffic", h.AfterAllowTraffic},
	} {
		if kv[1] != "" {
			hooks = append(hooks, map[string]string{kv[0]: kv[1]})
		}
	}
	doc := struct {
		Version   json.RawMessage     `json:"version"`
		Resources []map[string]target `json:"Resources"`
		Hooks     []map[string]string `json:"Hooks,omitempty"`
	}{
		Version: json.RawMessage("0.0"),
		Resources: []map[string]target{{"TargetService": {
			Type: "AWS::ECS::Service",
			Properties: props{
				TaskDefinition:   taskDef,
				LoadBalancerInfo: lbInfo{ContainerName: container, ContainerPort: port},
				PlatformVersion:  platform,
			},
		}}},
		Hooks: hooks,
	}
	b, _ := json.Marshal(doc) // cannot fail: plain strings and ints
	return string(b)
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Traffic is a custom time-based traffic shift for CodeDeploy, created as a
// deployment config (CreateDeploymentConfig) when it does not exist yet.
type Traffic struct {
	// Linear selects a linear shift (Percent more every Interval); otherwise
	// it is a canary (Percent for Interval, then the rest).
	Linear bool
	// Percent is the canary's share, or each linear step, 1–99.
	Percent int
	// Interval is the canary's duration or the time between linear steps,
	// in whole minutes, 1m–2880m.
	Interval time.Duration
}

func (t Traffic) validate() error {
	if t.Percent < 1 || t.Percent > 99 {
		return fmt.Errorf("Traffic.Percent: %d outside 1–99", t.Percent)
	}
	if _, err := wholeMinutes("Traffic.Interval", t.Interval, 1, 2880); err != nil {
		return err
	}
	return nil
}

func (t Traffic) routing() *cdtypes.TrafficRoutingConfig {
	m := int32(t.Interval / time.Minute)
	if t.Linear {
		return &cdtypes.TrafficRoutingConfig{
			Type:            cdtypes.TrafficRoutingTypeTimeBasedLinear,
			TimeBasedLinear: &cdtypes.TimeBasedLinear{LinearPercentage: int32(t.Percent), LinearInterval: m},
		}
	}
	return &cdtypes.TrafficRoutingConfig{
		Type:            cdtypes.TrafficRoutingTypeTimeBasedCanary,
		TimeBasedCanary: &cdtypes.TimeBasedCanary{CanaryPercentage: int32(t.Percent), CanaryInterval: m},
	}
}

// shiftDuration is how long CodeDeploy takes from the first traffic shift
// to the last under routing r: the canary interval, or one linear interval
// per step but the last.
func shiftDuration(r *cdtypes.TrafficRoutingConfig) (time.Duration, error) {
	if r == nil {
		return 0, nil // all at once
	}
	switch r.Type {
	case cdtypes.TrafficRoutingTypeAllAtOnce, "":
		return 0, nil
	case cdtypes.TrafficRoutingTypeTimeBasedCanary:
		if r.TimeBasedCanary == nil {
			return 0, fmt.Errorf("timeBasedCanary missing")
		}
		return time.Duration(r.TimeBasedCanary.CanaryInterval) * time.Minute, nil
	case cdtypes.TrafficRoutingTypeTimeBasedLinear:
		l := r.TimeBasedLinear
		if l == nil || l.LinearPercentage <= 0 {
			return 0, fmt.Errorf("timeBasedLinear missing or zero percentage")
		}
		steps := int(math.Ceil(100 / float64(l.LinearPercentage)))
		return time.Duration(steps-1) * time.Duration(l.LinearInterval) * time.Minute, nil
	}
	return 0, fmt.Errorf("unknown traffic routing type %q", r.Type)
}

func sameRouting(a, b *cdtypes.TrafficRoutingConfig) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case cdtypes.TrafficRoutingTypeTimeBasedCanary:
		return a.TimeBasedCanary != nil && b.TimeBasedCanary != nil && *a.TimeBasedCanary == *b.TimeBasedCanary
	case cdtypes.TrafficRoutingTypeTimeBasedLinear:
		return a.TimeBasedLinear != nil && b.TimeBasedLinear != nil && *a.TimeBasedLinear == *b.TimeBasedLinear
	}
	return true
}

func describeRouting(r *cdtypes.TrafficRoutingConfig) string {
	if r == nil {
		return "all at once"
	}
	switch r.Type {
	case cdtypes.TrafficRoutingTypeTimeBasedCanary:
		if c := r.TimeBasedCanary; c != nil {
			return fmt.Sprintf("canary %d%% for %dm", c.CanaryPercentage, c.CanaryInterval)
		}
	case cdtypes.TrafficRoutingTypeTimeBasedLinear:
		if l := r.TimeBasedLinear; l != nil {
			return fmt.Sprintf("linear %d%% every %dm", l.LinearPercentage, l.LinearInterval)
		}
	}
	return strings.ToLower(string(r.Type))
}

// PredefinedECSConfigs returns the names of CodeDeploy's predefined
// deployment configs for ECS.
func PredefinedECSConfigs() []string {
	return []string{
		"CodeDeployDefault.ECSAllAtOnce",
		"CodeDeployDefault.ECSCanary10Percent5Minutes",
		"CodeDeployDefault.ECSCanary10Percent15Minutes",
		"CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
		"CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
	}
}
