package health_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/canary"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// shortestRealUse is the "shortest real use" of the package doc, line for
// line (TestShortestRealUseIsTheDoc checks).
func shortestRealUse(metrics providers.MetricSource, router providers.TrafficRouter) (cutover.Plan, error) {
	judge, err := health.NewJudge(metrics, "blue", "green", health.JudgeOptions{})
	if err != nil {
		return cutover.Plan{}, err
	}
	shift, err := canary.New(router, canary.Options{Bake: 5 * time.Minute, Comparative: []cutover.Gate{judge}})
	if err != nil {
		return cutover.Plan{}, err
	}
	return cutover.Sequence("release", shift)
}

func TestShortestRealUseIsTheDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("shortest_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body := string(src)
	body = body[strings.Index(body, "\tjudge, err :="):strings.Index(body, "\treturn cutover.Sequence")]
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ReplaceAll(s, "//", "")), " ") }
	want := norm(strings.ReplaceAll(body, "return cutover.Plan{}, err", "..."))
	if !strings.Contains(norm(string(doc)), want) {
		t.Errorf("doc.go's shortest real use is not the code the tests run:\n%s", want)
	}
}

// The shortest real use, on the fake cloud, on the reference schedule
// (1-5-25-50-100): a healthy green is promoted, a bad one rolled back.
func TestShortestRealUse(t *testing.T) {
	for _, tc := range []struct {
		name      string
		greenRate float64
		wantErr   error
	}{
		{"healthy green is promoted", 0.005, nil},
		{"bad green is rolled back", 0.05, cutover.ErrRolledBack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cloud := fake.MustNew(fake.Options{Seed: 11})
				router := cloud.Router("alb", "blue", "green")
				setErrorRate(t, cloud, "green", tc.greenRate)
				plan, err := shortestRealUse(cloud, router)
				if err != nil {
					t.Fatal(err)
				}
				_, err = cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{}).Run(t.Context(), "c", plan)
				if !errors.Is(err, tc.wantErr) && (err != nil || tc.wantErr != nil) {
					t.Fatalf("run: %v, want %v", err, tc.wantErr)
				}
				t.Logf("run: %v; weights %v", err, router.Current())
			})
		})
	}
}
