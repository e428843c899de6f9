package settle_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/internal/settle"
)

// mover reports a propagation and counts the reads.
type mover struct {
	d     time.Duration
	err   error
	reads int
}

func (m *mover) Propagation(context.Context) (time.Duration, error) {
	m.reads++
	return m.d, m.err
}

func TestPropagation(t *testing.T) {
	ctx := context.Background()
	m := &mover{d: time.Minute}
	p := settle.NewPropagation(0, m)
	if !p.Dynamic() || p.Now() != 0 {
		t.Fatalf("before the read: Dynamic %t, Now %v; want true, 0", p.Dynamic(), p.Now())
	}
	for range 3 {
		if d, err := p.Read(ctx); err != nil || d != time.Minute {
			t.Fatalf("Read = %v, %v; want 1m", d, err)
		}
	}
	if m.reads != 1 || p.Now() != time.Minute {
		t.Errorf("reads %d, Now %v; want 1 read, 1m", m.reads, p.Now())
	}
	if d, _ := settle.NewPropagation(5*time.Minute, m).Read(ctx); d != 5*time.Minute || m.reads != 1 {
		t.Errorf("a fixed propagation: %v after %d reads; want 5m, the mover not read", d, m.reads)
	}
	if p := settle.NewPropagation(0, struct{}{}); p.Dynamic() {
		t.Error("a mover without a propagation is dynamic")
	}
	boom := errors.New("throttled")
	if _, err := settle.NewPropagation(0, &mover{err: boom}).Read(ctx); !errors.Is(err, boom) {
		t.Errorf("Read of a failing mover: %v, want it wrapped", err)
	}
	if _, err := settle.NewPropagation(0, &mover{d: -time.Second}).Read(ctx); err == nil || !strings.Contains(err.Error(), "negative, want ≥ 0") {
		t.Errorf("Read of a negative propagation: %v", err)
	}
}

// The gate is Pending for the propagation after its first evaluation,
// then the wrapped gate's verdict; Reset starts the wait again.
func TestGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := settle.NewPropagation(time.Minute, nil)
		g := settle.Gate(cutover.GateFunc(func(context.Context) (cutover.Verdict, error) {
			return cutover.Verdict{Decision: cutover.Pass, Reason: "ok"}, nil
		}), "ok", p, nil)
		want := func(d cutover.Decision) {
			t.Helper()
			v, err := g.Evaluate(t.Context())
			if err != nil || v.Decision != d {
				t.Fatalf("Evaluate = %s %q, %v; want %s", v.Decision, v.Reason, err, d)
			}
		}
		want(cutover.Pending)
		time.Sleep(59 * time.Second)
		want(cutover.Pending)
		time.Sleep(time.Second)
		want(cutover.Pass)
		g.(cutover.Resetter).Reset()
		want(cutover.Pending)
	})
}
