package canary_test

import (
	"strings"
	"testing"

	"github.com/safecutover/safecutover/canary"
)

// FuzzNew checks that New never panics and either names the option it
// rejects or returns a schedule that increases within 1–100.
func FuzzNew(f *testing.F) {
	f.Add(0, 0.0, 0, 0, []byte{1, 5, 25, 50, 100})
	f.Add(10, 0.0, 5, 40, []byte{})
	f.Add(0, 2.0, 1, 50, []byte{})
	f.Add(0, 0.0, 0, 3, []byte{10, 5})
	f.Fuzz(func(t *testing.T, linear int, factor float64, start, capW int, steps []byte) {
		opts := canary.Options{Linear: linear, Factor: factor, Start: start, Cap: capW}
		for _, b := range steps {
			opts.Steps = append(opts.Steps, canary.Step{Weight: int(int8(b))})
		}
		c, err := canary.New(newRouter(), opts)
		if err != nil {
			if !strings.Contains(err.Error(), "Options.") {
				t.Errorf("error %q names no option", err)
			}
			return
		}
		prev := 0
		for _, w := range c.Schedule() {
			if w <= prev || w > 100 {
				t.Fatalf("schedule %v from %+v", c.Schedule(), opts)
			}
			prev = w
		}
	})
}
