package cutover

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type ctxKey struct{}

// The gates' context carries the bake timing and its deadline without a
// timer until a gate asks for Done, Err or a value; then it ends at the
// deadline, with the deadline as its cause, or with the Run's context.
func TestGateContext(t *testing.T) {
	timing := BakeTiming{Applied: time.Unix(100, 0), BakeEnd: time.Unix(200, 0), Deadline: time.Unix(300, 0)}
	t.Run("timing and deadline leave it unarmed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newGateContext(t.Context(), timing, time.Minute)
			defer c.release()
			if got, ok := BakeTimingFrom(c); !ok || got != timing {
				t.Errorf("BakeTimingFrom = %+v, %v; want %+v", got, ok, timing)
			}
			if d, ok := c.Deadline(); !ok || !d.Equal(time.Now().Add(time.Minute)) {
				t.Errorf("Deadline = %v, %v; want a minute from now", d, ok)
			}
			if c.armed != nil {
				t.Error("armed by BakeTimingFrom or Deadline")
			}
		})
	})
	t.Run("ends at the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newGateContext(t.Context(), timing, time.Minute)
			defer c.release()
			start := time.Now()
			if c.Err() != nil {
				t.Fatalf("Err before the deadline: %v", c.Err())
			}
			<-c.Done()
			if got := time.Since(start); got != time.Minute {
				t.Errorf("done after %v, want 1m", got)
			}
			if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(c), context.DeadlineExceeded) {
				t.Errorf("Err %v, Cause %v; want the deadline", c.Err(), context.Cause(c))
			}
		})
	})
	t.Run("the Run's earlier deadline and cancel", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			parent, cancel := context.WithTimeout(context.WithValue(t.Context(), ctxKey{}, "v"), time.Second)
			defer cancel()
			c := newGateContext(parent, timing, time.Minute)
			defer c.release()
			if d, _ := c.Deadline(); !d.Equal(time.Now().Add(time.Second)) {
				t.Errorf("Deadline %v, want the Run's, a second from now", d)
			}
			if c.Value(ctxKey{}) != "v" {
				t.Errorf("Value = %v, want the Run's", c.Value(ctxKey{}))
			}
			cancel()
			<-c.Done()
			if !errors.Is(c.Err(), context.Canceled) {
				t.Errorf("Err %v, want Canceled", c.Err())
			}
		})
	})
	t.Run("released", func(t *testing.T) {
		for _, armed := range []bool{false, true} {
			synctest.Test(t, func(t *testing.T) {
				c := newGateContext(context.WithValue(t.Context(), ctxKey{}, "v"), timing, time.Minute)
				ctxs := map[string]context.Context{"gates'": c}
				if armed {
					child, stop := context.WithCancel(c) // arms it
					defer stop()
					ctxs["child"] = child
				}
				c.release()
				if (c.armed == released) == armed {
					t.Errorf("armed %v: released context %v", armed, c.armed)
				}
				late, stop2 := context.WithCancel(c) // a gate's goroutine after the bake
				defer stop2()
				ctxs["child made after"] = late
				for name, ctx := range ctxs {
					select {
					case <-ctx.Done():
					default:
						t.Errorf("armed %v: %s context not done after release", armed, name)
					}
					if !errors.Is(ctx.Err(), context.Canceled) {
						t.Errorf("armed %v: %s context: Err %v, want Canceled", armed, name, ctx.Err())
					}
					if ctx.Value(ctxKey{}) != "v" {
						t.Errorf("armed %v: %s context lost the Run's values", armed, name)
					}
				}
			})
		}
	})
}

// Gates may use the context from goroutines of their own while the bake
// ends (go test -race).
func TestGateContextConcurrent(t *testing.T) {
	for range 50 {
		c := newGateContext(t.Context(), BakeTiming{}, time.Minute)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				<-c.Done()
				if c.Err() == nil {
					t.Error("done without an error")
				}
			})
		}
		c.release()
		wg.Wait()
	}
}
