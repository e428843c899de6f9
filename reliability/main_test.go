package reliability_test

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/safecutover/safecutover/reliability"
)

// TestMain runs the child programs of the suite when the test binary is
// started as a child (see child_test.go), and otherwise the tests; with
// reliability.EnvReport set it writes the figures the tests collected.
func TestMain(m *testing.M) {
	if role := os.Getenv(envChild); role != "" {
		os.Exit(childMain(role))
	}
	code := m.Run()
	if path := os.Getenv(reliability.EnvReport); path != "" {
		if err := reliability.WriteReport(path, collected.report()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// full reports whether the suite runs in full (SAFECUTOVER_RELIABILITY=full).
func full() bool { return os.Getenv(reliability.EnvMode) == "full" }

// pick returns fullN in full mode and shortN otherwise.
func pick(shortN, fullN int) int {
	if full() {
		return fullN
	}
	return shortN
}

// collector gathers the figures of the tests for the report.
type collector struct {
	mu sync.Mutex
	r  reliability.Report
}

var collected collector

// add adds s to the summary.
func (c *collector) add(s reliability.Summary) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Summary.Add(s)
}

// figure records a named figure.
func (c *collector) figure(name string, v float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r.Figures == nil {
		c.r.Figures = map[string]float64{}
	}
	c.r.Figures[name] = v
}

// count adds delta to a named figure.
func (c *collector) count(name string, delta float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r.Figures == nil {
		c.r.Figures = map[string]float64{}
	}
	c.r.Figures[name] += delta
}

// fail records a broken property.
func (c *collector) fail(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Failures = append(c.r.Failures, fmt.Sprintf(format, a...))
}

func (c *collector) report() reliability.Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.r
}

// failures keeps the first few failure messages of many runs, so a broken
// property shows a handful of examples rather than thousands of lines.
type failures struct {
	mu   sync.Mutex
	n    int
	msgs []string
}

func (f *failures) add(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.msgs) < 8 {
		f.msgs = append(f.msgs, fmt.Sprintf(format, a...))
	}
}

// report fails t with the collected messages, if any, and records them.
func (f *failures) report(t *testing.T, what string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		return
	}
	for _, m := range f.msgs {
		t.Error(m)
	}
	t.Errorf("%s: %d failures (first %d shown)", what, f.n, len(f.msgs))
	collected.fail("%s: %d failures; first: %s", what, f.n, f.msgs[0])
}
