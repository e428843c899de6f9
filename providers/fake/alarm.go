package fake

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/safecutover/safecutover/providers"
)

// AlarmSpec defines an alarm over a target's simulated traffic: the value
// of Metric (divided by Per when set) over the last Window, against
// Threshold. With no traffic in the window the alarm is INSUFFICIENT_DATA.
type AlarmSpec struct {
	Target string `json:"target"`
	// Metric is one of the providers.Metric names.
	Metric string `json:"metric"`
	// Per, if set, is a metric to divide by: Metric "errors" Per
	// "requests" alarms on the error rate.
	Per string `json:"per,omitempty"`
	// Threshold is the value beyond which the alarm fires.
	Threshold float64 `json:"threshold"`
	// Below fires when the value is below Threshold; by default it fires
	// when the value is above.
	Below bool `json:"below,omitempty"`
	// Window is how far back the alarm looks. Zero means one minute.
	Window time.Duration `json:"window"`
}

func (s AlarmSpec) validate() error {
	switch {
	case s.Target == "":
		return invalid("alarm: Target is empty")
	case !knownMetric(s.Metric):
		return invalid("alarm: Metric %q unknown", s.Metric)
	case s.Per != "" && !knownMetric(s.Per):
		return invalid("alarm: Per %q unknown", s.Per)
	case s.Window < 0 || s.Window > MaxWindow:
		return invalid("alarm: Window %s outside 0–%s", s.Window, MaxWindow)
	}
	return nil
}

func knownMetric(m string) bool {
	switch m {
	case providers.MetricRequests, providers.MetricErrors, providers.MetricSlow, providers.MetricLatencyAvg, providers.MetricLatencyP99:
		return true
	}
	return false
}

type alarm struct {
	spec    *AlarmSpec // nil: set directly
	state   providers.AlarmState
	reason  string
	updated time.Time
}

// DefineAlarm creates or replaces the alarm called name, derived from
// traffic as spec says. The target must exist by the time the alarm is
// read.
func (c *Cloud) DefineAlarm(name string, spec AlarmSpec) error {
	if name == "" {
		return &Error{Op: "DefineAlarm", Err: invalid("alarm: empty name")}
	}
	if err := spec.validate(); err != nil {
		return &Error{Op: "DefineAlarm", Resource: name, Err: err}
	}
	if spec.Window == 0 {
		spec.Window = time.Minute
	}
	c.alarmMu.Lock()
	c.alarms[name] = &alarm{spec: &spec, state: providers.AlarmInsufficientData, reason: "not evaluated yet", updated: c.clock.Now()}
	c.alarmMu.Unlock()
	return c.changed()
}

// SetAlarm creates or replaces the alarm called name with a fixed state.
func (c *Cloud) SetAlarm(name string, state providers.AlarmState, reason string) error {
	if name == "" {
		return &Error{Op: "SetAlarm", Err: invalid("alarm: empty name")}
	}
	switch state {
	case providers.AlarmOK, providers.AlarmAlarm, providers.AlarmInsufficientData:
	default:
		return &Error{Op: "SetAlarm", Resource: name, Err: invalid("alarm state %q: want %s, %s or %s", state,
			providers.AlarmOK, providers.AlarmAlarm, providers.AlarmInsufficientData)}
	}
	c.alarmMu.Lock()
	a := c.alarms[name]
	if a == nil || a.spec != nil || a.state != state || a.reason != reason {
		c.alarms[name] = &alarm{state: state, reason: reason, updated: c.clock.Now()}
	}
	c.alarmMu.Unlock()
	return c.changed()
}

// Alarms returns the alarms called names, in that order. Any name the
// cloud does not know makes the call fail, naming every unknown one.
func (c *Cloud) Alarms(ctx context.Context, names []string) ([]providers.Alarm, error) {
	var out []providers.Alarm
	err := c.call(ctx, OpAlarms, strings.Join(names, ","), nil, func() error {
		c.alarmMu.Lock()
		var missing []string
		found := make([]*alarm, len(names))
		for i, n := range names {
			if found[i] = c.alarms[n]; found[i] == nil {
				missing = append(missing, fmt.Sprintf("%q", n))
			}
		}
		c.alarmMu.Unlock()
		if len(missing) > 0 {
			return fmt.Errorf("alarms %s: %w", strings.Join(missing, ", "), ErrNotFound)
		}
		out = make([]providers.Alarm, len(names))
		for i, a := range found {
			al, err := c.evaluate(names[i], a)
			if err != nil {
				return err
			}
			out[i] = al
		}
		return nil
	})
	return out, err
}

// evaluate returns the alarm's state now, judging a derived alarm on the
// traffic of its window.
func (c *Cloud) evaluate(name string, a *alarm) (providers.Alarm, error) {
	if a.spec != nil {
		state, reason, err := c.judge(*a.spec)
		if err != nil {
			return providers.Alarm{}, fmt.Errorf("alarm %q: %w", name, err)
		}
		c.alarmMu.Lock()
		if state != a.state {
			a.state, a.updated = state, c.clock.Now()
		}
		a.reason = reason
		c.alarmMu.Unlock()
	}
	c.alarmMu.Lock()
	defer c.alarmMu.Unlock()
	return providers.Alarm{Name: name, State: a.state, Reason: a.reason, Updated: a.updated}, nil
}

func (c *Cloud) judge(s AlarmSpec) (providers.AlarmState, string, error) {
	now := c.clock.Now()
	q := providers.MetricQuery{Target: s.Target, Metric: s.Metric, Start: now.Add(-s.Window), End: now}
	v, err := c.metric(q)
	if err != nil {
		return "", "", err
	}
	what, value := s.Metric, v.Value
	if v.Points > 0 && s.Per != "" {
		q.Metric = s.Per
		d, err := c.metric(q)
		if err != nil {
			return "", "", err
		}
		what += "/" + s.Per
		if d.Points == 0 || d.Value == 0 {
			v.Points = 0
		} else {
			value /= d.Value
		}
	}
	if v.Points == 0 {
		return providers.AlarmInsufficientData, fmt.Sprintf("no data for %s of %s over %s", what, s.Target, s.Window), nil
	}
	op, firing := ">", value > s.Threshold
	if s.Below {
		op, firing = "<", value < s.Threshold
	}
	if firing {
		return providers.AlarmAlarm, fmt.Sprintf("%s of %s %.4g %s %.4g over %s", what, s.Target, value, op, s.Threshold, s.Window), nil
	}
	return providers.AlarmOK, fmt.Sprintf("%s of %s %.4g, threshold %s %.4g over %s", what, s.Target, value, op, s.Threshold, s.Window), nil
}
