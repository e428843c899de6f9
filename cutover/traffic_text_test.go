package cutover

import (
	"encoding/json"
	"testing"
)

// trafficText writes what encoding/json writes, on the direct path and on
// the names it leaves to encoding/json.
func TestTrafficTextMatchesJSON(t *testing.T) {
	for _, w := range []map[string]int{
		{},
		{"blue": 95, "green": 5},
		{"green": 100, "blue": 0, "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg-a/1": 7},
		{"a<b": 1, "c&d": 2, "e>f": 3},
		{"quote\"d": 4, "back\\slash": 5, "tab\t": 6, "é": 7, "\x7f": 8},
		{"-1": -1, "big": 1 << 40},
	} {
		want, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		got, err := trafficText(w)
		if err != nil || got != string(want) {
			t.Errorf("trafficText(%v) = %q, %v; want %q (encoding/json)", w, got, err, want)
		}
	}
}

// FuzzTrafficText checks the same on any two target names.
func FuzzTrafficText(f *testing.F) {
	f.Add("blue", "green", 3)
	f.Add("<", "\u2028", -1)
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		w := map[string]int{a: n, b: 100 - n}
		want, err := json.Marshal(w)
		if err != nil {
			t.Skip()
		}
		if got, err := trafficText(w); err != nil || got != string(want) {
			t.Errorf("trafficText(%v) = %q, %v; want %q", w, got, err, want)
		}
	})
}
