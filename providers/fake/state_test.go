package fake_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/fake"
)

// observe returns what a test could ask a cloud: weights, active targets,
// capacity, target health, alarms and every metric per minute.
func observe(t *testing.T, c *fake.Cloud, start time.Time, minutes int) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{
		"alb":   c.Router("alb").Current().String(),
		"cname": c.Switcher("cname").Current(),
		"fleet": c.Fleet("green", 0).Current(),
	}
	th, err := c.TargetHealth(ctx, "green")
	if err != nil {
		t.Fatal(err)
	}
	out["health"] = th
	as, err := c.Alarms(ctx, []string{"green-5xx", "manual"})
	if err != nil {
		t.Fatal(err)
	}
	out["alarms"] = as
	for _, tg := range []string{"blue", "green"} {
		for _, m := range allMetrics {
			for i := range minutes {
				a := start.Add(time.Duration(i) * time.Minute)
				out[tg+" "+m+" "+a.Format("15:04")] = metric(t, c, tg, m, a, a.Add(time.Minute))
			}
		}
	}
	return out
}

// build makes a cloud with some of everything and a few minutes of history.
func build(t *testing.T, c *fake.Cloud, clk *cutover.ManualClock) {
	t.Helper()
	ctx := context.Background()
	r := c.Router("alb", "blue", "green")
	s := c.Switcher("cname", "blue", "green")
	f := c.Fleet("green", 2)
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(c.SetProfile("green", fake.Profile{ErrorRate: 0.02, LatencyMedian: 70 * time.Millisecond, LatencySigma: 0.7}))
	check(c.SetProfileAt("green", clk.Now().Add(3*time.Minute), fake.Profile{ErrorRate: 0.3, LatencyMedian: time.Second, LatencySigma: 0.2}))
	check(c.DefineAlarm("green-5xx", fake.AlarmSpec{Target: "green", Metric: providers.MetricErrors, Per: providers.MetricRequests, Threshold: 0.1}))
	check(c.SetAlarm("manual", providers.AlarmOK, "fine"))
	check(f.SetWarmUp(time.Minute))
	for i, g := range []int{10, 30, 60, 100} {
		check(r.SetWeights(ctx, providers.Weights{"blue": 100 - g, "green": g}))
		if i == 2 {
			check(s.Switch(ctx, "green"))
			check(f.SetDesired(ctx, 4))
			check(f.SetUnhealthy(1))
			check(r.SetRate(400))
		}
		clk.Advance(90 * time.Second)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	clk := cutover.NewManualClock(epoch)
	c := fake.MustNew(fake.Options{Clock: clk, Seed: 77, LatencyObjective: 100 * time.Millisecond})
	build(t, c, clk)
	path := filepath.Join(t.TempDir(), "cloud.json")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	before := observe(t, c, epoch, 6)
	loaded, err := fake.Load(path, fake.Options{Clock: clk, Seed: 1}) // the file's seed wins
	if err != nil {
		t.Fatal(err)
	}
	after := observe(t, loaded, epoch, 6)
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("loaded cloud differs (-saved +loaded):\n%s", d)
	}
	if d := cmp.Diff(c.Router("alb").History(), loaded.Router("alb").History()); d != "" {
		t.Errorf("router history differs (-saved +loaded):\n%s", d)
	}
	if at, err := fake.SavedAt(path); err != nil || !at.Equal(clk.Now()) {
		t.Errorf("SavedAt = %v, %v; want %v", at, err, clk.Now())
	}
	// Both, asked the same, save the same file.
	path1, path2 := filepath.Join(t.TempDir(), "saved.json"), filepath.Join(t.TempDir(), "loaded.json")
	if err := c.Save(path1); err != nil {
		t.Fatal(err)
	}
	if err := loaded.Save(path2); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path1)
	b, _ := os.ReadFile(path2)
	if d := cmp.Diff(string(a), string(b)); d != "" {
		t.Errorf("saved twice, files differ:\n%s", d)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
	}{
		{"missing", filepath.Join(dir, "nope.json")},
		{"not JSON", write("bad.json", "{")},
		{"other version", write("v9.json", `{"version":9}`)},
		{"weights do not match targets", write("w.json", `{"version":1,"routers":[{"name":"alb","targets":["a","b"],"history":[{"at":"2026-01-01T00:00:00Z","rate":1,"weights":[100]}]}]}`)},
		{"bad profile", write("p.json", `{"version":1,"targets":[{"name":"a","profiles":[{"at":"2026-01-01T00:00:00Z","profile":{"error_rate":2}}]}]}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := fake.Load(tc.path, fake.Options{}); err == nil {
				t.Error("Load: nil error, want one")
			}
		})
	}
}

func TestOpenSavesEveryChange(t *testing.T) {
	clk := cutover.NewManualClock(epoch)
	path := filepath.Join(t.TempDir(), "cloud.json")
	c, err := fake.Open(path, fake.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Router("alb", "blue", "green")
	clk.Advance(time.Minute)
	if err := r.SetWeights(context.Background(), providers.Weights{"blue": 80, "green": 20}); err != nil {
		t.Fatal(err)
	}
	// A lost response still reaches the file.
	if err := c.InjectFault(fake.Fault{Op: fake.OpSetWeights, Err: fake.ErrTimeout, AfterEffect: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.SetWeights(context.Background(), providers.Weights{"blue": 60, "green": 40}); !errors.Is(err, fake.ErrTimeout) {
		t.Fatalf("SetWeights error = %v, want ErrTimeout", err)
	}
	again, err := fake.Open(path, fake.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Router("alb").Current(); !got.Equal(providers.Weights{"blue": 60, "green": 40}) {
		t.Errorf("reopened weights = %v, want blue=60 green=40", got)
	}
	matches, _ := filepath.Glob(path + ".tmp-*")
	if len(matches) > 0 {
		t.Errorf("temporary files left behind: %q", matches)
	}
}

// TestCrashAcrossProcesses kills a child process that drives the cloud
// with SIGKILL and resumes its state in this process.
func TestCrashAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FAKE_CHILD_STATE="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	// Wait, bounded, for the child to have moved traffic to green=50.
	deadline := time.Now().Add(30 * time.Second)
	var c *fake.Cloud
	for {
		var err error
		c, err = fake.Load(path, fake.Options{})
		if err == nil && c.Router("alb").Current()["green"] == 50 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("child never reached green=50 (last load error %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	cmd.Wait()
	c, err := fake.Open(path, fake.Options{})
	if err != nil {
		t.Fatalf("open after SIGKILL: %v", err)
	}
	r := c.Router("alb")
	if got := r.Current(); !got.Equal(providers.Weights{"blue": 50, "green": 50}) {
		t.Errorf("resumed weights = %v, want blue=50 green=50", got)
	}
	if err := r.SetWeights(context.Background(), providers.Weights{"blue": 100}); err != nil {
		t.Fatal(err)
	}
	if got := c.Fleet("green", 0).Current().Desired; got != 3 {
		t.Errorf("resumed fleet desired = %d, want 3", got)
	}
}

// FuzzLoad feeds arbitrary state files to Load: errors, never panics, and
// a loaded cloud answers queries.
func FuzzLoad(f *testing.F) {
	clk := cutover.NewManualClock(epoch)
	c := fake.MustNew(fake.Options{Clock: clk})
	build(&testing.T{}, c, clk)
	path := filepath.Join(f.TempDir(), "seed.json")
	if err := c.Save(path); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"routers":[{"name":"a","targets":["b"],"history":[{"at":"2026-01-01T00:00:00Z","rate":5,"weights":[100]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := fake.Load(p, fake.Options{Clock: clk})
		if err != nil {
			return
		}
		ctx := context.Background()
		for _, tg := range []string{"blue", "green", "b"} {
			for _, m := range allMetrics {
				_, _ = c.Metric(ctx, providers.MetricQuery{Target: tg, Metric: m, Start: epoch, End: clk.Now()})
			}
			_, _ = c.TargetHealth(ctx, tg)
		}
		_, _ = c.Alarms(ctx, []string{"green-5xx", "manual"})
	})
}
