package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// cloud is a hand-written stand-in for the world the stages change: a set
// of applied stage names and a log of what was done to it.
type cloud struct {
	mu      sync.Mutex
	applied map[string]bool
	log     []string // "apply x", "revert x"
}

func newCloud() *cloud { return &cloud{applied: map[string]bool{}} }

func (c *cloud) do(op, name string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied[name] = on
	c.log = append(c.log, op+" "+name)
}

// Applied returns the names of the applied stages, sorted.
func (c *cloud) Applied() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for n, on := range c.applied {
		if on {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Log returns what was done, in order.
func (c *cloud) Log() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.log)
}

// Reverts returns the names of the reverted stages in order.
func (c *cloud) Reverts() []string {
	var out []string
	for _, l := range c.Log() {
		if n, ok := cutString(l, "revert "); ok {
			out = append(out, n)
		}
	}
	return out
}

func cutString(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// stage returns a reversible stage that marks name applied in c.
func (c *cloud) stage(name string, bake time.Duration, gates ...cutover.Gate) cutover.Stage {
	return cutover.Stage{
		Name:   name,
		Apply:  func(context.Context) error { c.do("apply", name, true); return nil },
		Revert: func(context.Context) error { c.do("revert", name, false); return nil },
		Bake:   bake,
		Gates:  gates,
	}
}

// irreversible returns an irreversible stage that marks name applied in c.
func (c *cloud) irreversible(name string) cutover.Stage {
	return cutover.Stage{
		Name:          name,
		Apply:         func(context.Context) error { c.do("apply", name, true); return nil },
		Reversibility: cutover.Irreversible(),
	}
}

// plan returns a plan of n reversible stages s0..s(n-1), each baking bake
// with one passing gate.
func (c *cloud) plan(n int, bake time.Duration) cutover.Plan {
	p := cutover.Plan{Name: "test-plan"}
	for i := range n {
		p.Stages = append(p.Stages, c.stage(fmt.Sprintf("s%d", i), bake, pass("ok")))
	}
	return p
}

// matches reports how the cloud differs from the journal's state: a stage
// baked or applied must be applied, a pending or reverted one must not.
func (c *cloud) matches(st cutover.State) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range st.Stages {
		switch s.Status {
		case cutover.StageApplied, cutover.StageBaked:
			if !c.applied[s.Name] {
				return fmt.Errorf("stage %s is %s in the journal but not applied in the cloud", s.Name, s.Status)
			}
		case cutover.StagePending, cutover.StageReverted:
			if c.applied[s.Name] {
				return fmt.Errorf("stage %s is %s in the journal but applied in the cloud", s.Name, s.Status)
			}
		}
	}
	return nil
}

// pass returns a gate named name that always passes.
func pass(name string) cutover.Gate {
	return cutover.Named(name, cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
		return cutover.Verdict{Decision: cutover.Pass, Reason: "fine"}, nil
	}))
}

// fixed returns a gate named name that always returns v.
func fixed(name string, v cutover.Verdict) cutover.Gate {
	return cutover.Named(name, cutover.GateFunc(func(context.Context) (cutover.Verdict, error) { return v, nil }))
}

// switchGate passes until fail is set.
type switchGate struct {
	name string
	fail atomic.Bool
}

func (g *switchGate) Name() string { return g.name }
func (g *switchGate) Evaluate(context.Context) (cutover.Verdict, error) {
	if g.fail.Load() {
		return cutover.Verdict{Decision: cutover.Fail, Reason: "error rate 5% > 1%"}, nil
	}
	return cutover.Verdict{Decision: cutover.Pass, Reason: "error rate 0%"}, nil
}

// recorder collects events.
type recorder struct {
	mu sync.Mutex
	ev []cutover.Event
}

func (r *recorder) Observe(e cutover.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ev = append(r.ev, e)
}

// Types returns the event types seen, in order.
func (r *recorder) Types() []cutover.EventType {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []cutover.EventType
	for _, e := range r.ev {
		out = append(out, e.Type)
	}
	return out
}

// First returns the first event of type t.
func (r *recorder) First(t cutover.EventType) (cutover.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.ev {
		if e.Type == t {
			return e, true
		}
	}
	return cutover.Event{}, false
}

// Count returns how many events of type t were seen.
func (r *recorder) Count(t cutover.EventType) int {
	n := 0
	for _, x := range r.Types() {
		if x == t {
			n++
		}
	}
	return n
}

var errCrash = errors.New("crash: the runner's process is gone")

// crashJournal wraps a journal and "kills the process" at the n-th append:
// that append and everything after it fail without writing.
type crashJournal struct {
	cutover.Journal
	n       int64
	appends atomic.Int64
	dead    atomic.Bool
}

func (j *crashJournal) Append(ctx context.Context, id string, rec cutover.Record) error {
	if j.appends.Add(1) >= j.n {
		j.dead.Store(true)
	}
	if j.dead.Load() {
		return errCrash
	}
	return j.Journal.Append(ctx, id, rec)
}

func (j *crashJournal) Read(ctx context.Context, id string, after uint64) ([]cutover.Record, error) {
	if j.dead.Load() {
		return nil, errCrash
	}
	return j.Journal.Read(ctx, id, after)
}

// records reads every record of id.
func readAll(t *testing.T, j cutover.Journal, id string) []cutover.Record {
	t.Helper()
	recs, err := j.Read(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// fold folds the journal of id.
func foldAll(t *testing.T, j cutover.Journal, id string) cutover.State {
	t.Helper()
	st, err := cutover.Fold(id, readAll(t, j, id))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// types returns the record types of recs, with stage names and actions.
func recTypes(recs []cutover.Record) []string {
	var out []string
	for _, r := range recs {
		s := string(r.Type)
		if r.Action != "" {
			s += ":" + r.Action
		}
		if r.Command != "" {
			s += ":" + string(r.Command)
		}
		if r.Stage != "" {
			s += " " + r.Stage
		}
		out = append(out, s)
	}
	return out
}

// appendRecords appends recs to j as cutover id, numbering them from 1.
func appendRecords(t *testing.T, j cutover.Journal, id string, recs ...cutover.Record) {
	t.Helper()
	for i, r := range recs {
		r.Seq = uint64(i + 1)
		if r.Time.IsZero() {
			r.Time = time.Now()
		}
		if err := j.Append(context.Background(), id, r); err != nil {
			t.Fatal(err)
		}
	}
}
