package health_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// newCloud returns a fake cloud whose router "alb" sends 90 % of 1000
// requests/s to blue and 10 % to green, both serving 0.5 % errors. Call it
// inside a synctest bubble.
func newCloud(t *testing.T) *fake.Cloud {
	t.Helper()
	return newCloudWith(t, fake.Options{Seed: 7})
}

// newCloudWith is newCloud with the fake cloud's options opts.
func newCloudWith(t *testing.T, opts fake.Options) *fake.Cloud {
	t.Helper()
	c := fake.MustNew(opts)
	r := c.Router("alb", "blue", "green")
	if err := r.SetWeights(t.Context(), providers.Weights{"blue": 90, "green": 10}); err != nil {
		t.Fatal(err)
	}
	return c
}

func setErrorRate(t *testing.T, c *fake.Cloud, target string, rate float64) {
	t.Helper()
	p := fake.DefaultProfile
	p.ErrorRate = rate
	if err := c.SetProfile(target, p); err != nil {
		t.Fatal(err)
	}
}

// evaluate evaluates g and fails the test on an error.
func evaluate(t *testing.T, g cutover.Gate) cutover.Verdict {
	t.Helper()
	v, err := g.Evaluate(t.Context())
	if err != nil {
		t.Fatalf("%s: Evaluate: %v", cutover.GateName(g, 0), err)
	}
	return v
}

// want checks a verdict's decision and that its reason mentions every
// fragment.
func want(t *testing.T, what string, v cutover.Verdict, d cutover.Decision, fragments ...string) {
	t.Helper()
	if v.Decision != d {
		t.Errorf("%s: %v, want %v", what, v, d)
		return
	}
	for _, f := range fragments {
		if !strings.Contains(v.Reason, f) {
			t.Errorf("%s: reason %q does not mention %q", what, v.Reason, f)
		}
	}
}

// refused fails the test unless err, what a constructor returned for the
// bad input named what, mentions fragment.
func refused(t *testing.T, what string, err error, fragment string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), fragment) {
		t.Errorf("%s: err = %v, want one mentioning %q", what, err, fragment)
	}
}

// script is a gate that returns its verdicts in turn (the last one
// repeats) and counts its evaluations and resets.
type script struct {
	name     string
	verdicts []cutover.Verdict
	errs     []error
	calls    int
	resets   int
}

func (s *script) Name() string { return s.name }
func (s *script) Reset()       { s.resets++ }
func (s *script) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	i := min(s.calls, len(s.verdicts)-1)
	s.calls++
	var err error
	if i < len(s.errs) {
		err = s.errs[i]
	}
	return s.verdicts[i], err
}

func seq(name string, ds ...cutover.Decision) *script {
	s := &script{name: name}
	for _, d := range ds {
		s.verdicts = append(s.verdicts, cutover.Verdict{Decision: d, Reason: name + " " + d.String()})
	}
	return s
}

// sleep advances the bubble's clock.
func sleep(d time.Duration) { time.Sleep(d) }

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
