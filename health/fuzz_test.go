package health_test

import (
	"testing"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
)

// FuzzSequential: any options and counts give an error or a decision,
// never a panic, and a Pass or Fail is only reached with evidence at the
// threshold.
func FuzzSequential(f *testing.F) {
	f.Add(0.01, 0.0, 0.5, int64(100), 10.0, int64(61), int64(6000), int64(270), int64(54000))
	f.Add(0.2, 1.0, 3.0, int64(0), 0.5, int64(0), int64(1), int64(0), int64(1))
	f.Add(0.49, 0.0, 1e-9, int64(1), 1e6, int64(1e9), int64(1e9), int64(0), int64(1e12))
	f.Fuzz(func(t *testing.T, alpha, tol, margin float64, minReq int64, prior float64, cf, cr, bf, br int64) {
		s, err := health.NewSequential(health.SequentialOptions{Alpha: alpha, Tolerance: tol, Margin: margin, MinRequests: minReq, PriorStrength: prior})
		if err != nil {
			return
		}
		ev, err := s.Observe(health.Counts{Failures: cf, Requests: cr}, health.Counts{Failures: bf, Requests: br})
		if err != nil {
			return
		}
		switch ev.Decision {
		case cutover.Fail:
			if !(ev.LogFail >= ev.LogFailThreshold) {
				t.Errorf("fail with evidence %v < %v", ev.LogFail, ev.LogFailThreshold)
			}
		case cutover.Pass:
			if !(ev.LogPass >= ev.LogPassThreshold) {
				t.Errorf("pass with evidence %v < %v", ev.LogPass, ev.LogPassThreshold)
			}
		}
	})
}

// FuzzNewProbe: any URL and body pattern give a gate or an error, never a
// panic.
func FuzzNewProbe(f *testing.F) {
	f.Add("http://127.0.0.1:8080/healthz", `ok`)
	f.Add("http://[::1", "(")
	f.Add("https://example.test/%zz", `\d+`)
	f.Fuzz(func(t *testing.T, url, body string) {
		g, err := health.NewProbe(url, health.ProbeOptions{Body: body})
		if err == nil && g == nil {
			t.Error("no gate and no error")
		}
	})
}
