package providers_test

import (
	"strings"
	"testing"

	"github.com/safecutover/safecutover/providers"
)

func TestSides(t *testing.T) {
	for _, tc := range []struct {
		blue, green string
		wantBlue    string
		wantGreen   string
		err         string // in the error; "" = none
	}{
		{"", "", "blue", "green", ""},
		{"v1", "", "v1", "green", ""},
		{"", "v2", "blue", "v2", ""},
		{"x", "x", "", "", `Options.Blue and Options.Green are both "x"`},
		{"green", "", "", "", `both "green"`},
	} {
		b, g, err := providers.Sides(tc.blue, tc.green)
		switch {
		case tc.err == "" && (err != nil || b != tc.wantBlue || g != tc.wantGreen):
			t.Errorf("Sides(%q, %q) = %q, %q, %v; want %q, %q", tc.blue, tc.green, b, g, err, tc.wantBlue, tc.wantGreen)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Sides(%q, %q): error %v, want one saying %s", tc.blue, tc.green, err, tc.err)
		}
	}
}
