package health_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
)

// downAlarms is an alarm source that always fails, and notes when it was
// asked.
type downAlarms struct {
	start time.Time
	at    []time.Duration
}

func (d *downAlarms) Alarms(context.Context, []string) ([]providers.Alarm, error) {
	d.at = append(d.at, time.Since(d.start))
	return nil, errors.New("alarm source down")
}

// TestRetryBackoffCapped: a gate retries a failing source with waits that
// double up to MaxBackoff (30s by default) and never beyond, and its
// verdict names the source's own error.
func TestRetryBackoffCapped(t *testing.T) {
	s := time.Second
	for _, tt := range []struct {
		name  string
		retry health.Retry
		want  []time.Duration // when the source is called
	}{
		{"cap set", health.Retry{Attempts: 6, Backoff: s, MaxBackoff: 3 * s}, []time.Duration{0, 1 * s, 3 * s, 6 * s, 9 * s, 12 * s}},
		{"default cap", health.Retry{Attempts: 8}, []time.Duration{0, 1 * s, 3 * s, 7 * s, 15 * s, 31 * s, 61 * s, 91 * s}},
		{"backoff above the default cap", health.Retry{Attempts: 3, Backoff: time.Minute}, []time.Duration{0, 60 * s, 120 * s}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := &downAlarms{start: time.Now()}
				g, err := health.NewAlarm(src, []string{"a"}, health.AlarmOptions{Retry: tt.retry})
				if err != nil {
					t.Fatal(err)
				}
				v := evaluate(t, g)
				if diff := cmp.Diff(tt.want, src.at); diff != "" {
					t.Errorf("calls at (-want +got):\n%s", diff)
				}
				if v.Decision == cutover.Pass || !strings.Contains(v.Reason, "alarm source down") {
					t.Errorf("verdict %v, want no pass, naming the source's error", v)
				}
			})
		})
	}
}

func TestRetryMaxBackoffBadInput(t *testing.T) {
	for _, r := range []health.Retry{
		{MaxBackoff: -time.Second},
		{Backoff: time.Minute, MaxBackoff: time.Second},
	} {
		_, err := health.NewAlarm(&downAlarms{}, []string{"a"}, health.AlarmOptions{Retry: r})
		if err == nil || !strings.Contains(err.Error(), "Retry.MaxBackoff: ") {
			t.Errorf("Retry %+v: err = %v, want one naming Retry.MaxBackoff", r, err)
		}
	}
}
