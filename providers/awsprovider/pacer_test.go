package awsprovider_test

import (
	"math"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/safecutover/safecutover/providers/awsprovider"
)

// NewPacer refuses a rate or burst out of range, naming it and what 0
// means; zeros are valid (no limit; a burst of 1).
func TestNewPacerArguments(t *testing.T) {
	bad := []struct {
		perSecond float64
		burst     int
		want      string
	}{
		{-1, 1, "perSecond: -1: want a finite number ≥ 0 (0: no limit)"},
		{math.NaN(), 1, "perSecond: NaN"},
		{math.Inf(1), 1, "perSecond: +Inf"},
		{5, -1, "burst: -1: want ≥ 0 (0: 1)"},
	}
	for _, tt := range bad {
		if p, err := awsprovider.NewPacer(tt.perSecond, tt.burst); err == nil || p != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewPacer(%v, %d): %v, %v; want an error naming %q", tt.perSecond, tt.burst, p, err, tt.want)
		}
	}
	good := []struct {
		perSecond float64
		burst     int
		limit     rate.Limit
		wantBurst int
	}{
		{0, 0, rate.Inf, 1},
		{5, 0, 5, 1},
		{2.5, 4, 2.5, 4},
	}
	for _, tt := range good {
		p, err := awsprovider.NewPacer(tt.perSecond, tt.burst)
		if err != nil || p.Limit() != tt.limit || p.Burst() != tt.wantBurst {
			t.Errorf("NewPacer(%v, %d): %v; want limit %v, burst %d", tt.perSecond, tt.burst, err, tt.limit, tt.wantBurst)
		}
	}
}
