package health

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// AlarmOptions configure an alarm gate. The zero value is valid.
type AlarmOptions struct {
	// Name names the gate in reports; default "alarms <names>".
	Name string
	// NoData says what an alarm in INSUFFICIENT_DATA does: NoDataFail
	// (the default, as CodeDeploy does), NoDataPending (wait, then fail
	// closed at the deadline) or NoDataZero (ignore the alarm).
	NoData NoData
	// Deadline, if positive, fails the gate when it has been Pending that
	// long since its first evaluation (after Reset).
	Deadline time.Duration
	// Retry bounds the retries of a source that errors.
	Retry Retry
	// Clock defaults to cutover.RealClock.
	Clock cutover.Clock
}

type alarmGate struct {
	src   providers.AlarmSource
	names []string
	opts  AlarmOptions
	dl    deadline
}

// NewAlarm returns a gate that fails while any of the named alarms is in
// ALARM, and passes when all are OK. An alarm the source does not report
// fails the gate.
func NewAlarm(src providers.AlarmSource, names []string, opts AlarmOptions) (cutover.Gate, error) {
	const what = "alarm gate"
	if src == nil {
		return nil, fmt.Errorf("%s: alarm source is nil", what)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: names: want at least one alarm", what)
	}
	seen := map[string]bool{}
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("%s: names[%d] is empty", what, i)
		}
		if seen[n] {
			return nil, fmt.Errorf("%s: names[%d] %q is repeated", what, i, n)
		}
		seen[n] = true
	}
	var err error
	if opts.NoData, err = opts.NoData.or(what, NoDataFail); err != nil {
		return nil, err
	}
	dl, err := sourceOptions(what, opts.Deadline, &opts.Retry, &opts.Clock)
	if err != nil {
		return nil, err
	}
	return &alarmGate{src: src, names: append([]string(nil), names...), opts: opts, dl: dl}, nil
}

// Name returns the gate's name.
func (g *alarmGate) Name() string {
	if g.opts.Name != "" {
		return g.opts.Name
	}
	return "alarms " + strings.Join(g.names, ",")
}

// Reset restarts the gate's deadline.
func (g *alarmGate) Reset() { g.dl.reset() }

// Evaluate reads the alarms' states.
func (g *alarmGate) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	alarms, bad, err := fetch(ctx, g.opts.Retry, g.opts.Clock, g.Name(), func(ctx context.Context) ([]providers.Alarm, error) {
		return g.src.Alarms(ctx, g.names)
	})
	if bad != nil || err != nil {
		return verdictOr(bad), err
	}
	byName := make(map[string]providers.Alarm, len(alarms))
	for _, a := range alarms {
		byName[a.Name] = a
	}
	var firing, insufficient, missing, unknown []string
	for _, name := range g.names {
		a, ok := byName[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case a.State == providers.AlarmAlarm:
			s := name
			if a.Reason != "" {
				s += " (" + a.Reason + ")"
			}
			firing = append(firing, s)
		case a.State == providers.AlarmInsufficientData:
			insufficient = append(insufficient, name)
		case a.State != providers.AlarmOK:
			unknown = append(unknown, fmt.Sprintf("%s (state %q)", name, a.State))
		}
	}
	figures := map[string]float64{
		"alarms": float64(len(g.names)), "in_alarm": float64(len(firing)),
		"insufficient_data": float64(len(insufficient)), "missing": float64(len(missing) + len(unknown)),
	}
	v := cutover.Verdict{Decision: cutover.Pass, Figures: figures}
	switch {
	case len(firing) > 0:
		v.Decision = cutover.Fail
		v.Reason = "in ALARM: " + strings.Join(firing, "; ") + "; investigate before retrying"
	case len(missing)+len(unknown) > 0:
		v = failClosed(v)
		v.Reason = "alarms not reported by the source: " + strings.Join(append(missing, unknown...), ", ") + "; check their names and region"
	case len(insufficient) > 0 && g.opts.NoData != NoDataZero:
		v.Decision = cutover.Pending
		if g.opts.NoData == NoDataFail {
			v = failClosed(v)
		}
		v.Reason = "INSUFFICIENT_DATA: " + strings.Join(insufficient, ", ") + "; check that their metrics are being published"
	default:
		v.Reason = fmt.Sprintf("%d alarms OK", len(g.names)-len(insufficient))
		if len(insufficient) > 0 {
			v.Reason += fmt.Sprintf(" (%d with insufficient data ignored)", len(insufficient))
		}
	}
	return g.dl.check(v), nil
}
