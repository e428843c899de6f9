package reliability_test

// A rolling cutover of a desired count no fleet has: rolling.New must
// refuse it, or its batches must be sound. Batches is run in a child
// process with a memory watchdog, because a batch size of 0 makes it grow
// a slice without end.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/safecutover/safecutover/providers/fake"
	"github.com/safecutover/safecutover/rolling"
)

const (
	envDesired = "SC_DESIRED"
	envPercent = "SC_PERCENT"
	envSize    = "SC_SIZE"
	// runawayExit is the exit code of a child whose heap outgrew
	// runawayHeap.
	runawayExit = 3
	runawayHeap = 256 << 20
)

// rollingBatchesChild builds a rolling cutover from its environment and
// returns its batches, or exits with runawayExit if its heap grows past
// runawayHeap meanwhile.
func rollingBatchesChild() (childResult, error) {
	var res childResult
	atoi := func(name string) int { n, _ := strconv.Atoi(os.Getenv(name)); return n }
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			time.Sleep(10 * time.Millisecond)
			metrics.Read(s)
			if s[0].Value.Uint64() > runawayHeap {
				fmt.Fprintf(os.Stderr, "heap %d MB and growing: Batches does not end\n", s[0].Value.Uint64()>>20)
				os.Exit(runawayExit)
			}
		}
	}()
	c := fake.MustNew(fake.Options{})
	r, err := rolling.New(c.Fleet("blue", 0), c.Fleet("green", 0), atoi(envDesired),
		rolling.Options{BatchPercent: atoi(envPercent), BatchSize: atoi(envSize)})
	if err != nil {
		res.Err = err.Error()
		return res, nil
	}
	b := r.Batches()
	if len(b) > 1000 {
		b = append(b[:3], b[len(b)-3:]...) // enough to judge
	}
	res.Batches = b
	return res, nil
}

// TestRollingHugeDesired: a desired count beyond any fleet, with a batch
// percentage (desired×percent overflows int) or a batch size of 1 (a
// batch list longer than memory), is refused by rolling.New or gives
// sound batches.
func TestRollingHugeDesired(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		desired, percent, size int
	}{
		{"percent overflows", math.MaxInt / 50, 100, 0},
		{"percent overflows to a small batch", math.MaxInt/3 + 1, 25, 0},
		{"one by one", 1 << 62, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			res, _, err := runChild(ctx, "rolling-batches", map[string]string{
				envDesired: strconv.Itoa(tc.desired), envPercent: strconv.Itoa(tc.percent), envSize: strconv.Itoa(tc.size)})
			var ee interface{ ExitCode() int }
			switch {
			case errors.As(err, &ee) && ee.ExitCode() == runawayExit:
				t.Errorf("rolling.New(desired %d, BatchPercent %d, BatchSize %d) was accepted, and its Batches (so Stages) never ends: "+
					"it grows a list until memory runs out; want New to refuse a desired count no fleet has, and a batch size below 1",
					tc.desired, tc.percent, tc.size)
			case err != nil:
				t.Fatal(err)
			case res.Err != "":
				t.Logf("refused: %s", res.Err)
			default:
				b := res.Batches
				for i := range b {
					if b[i] < 1 || i > 0 && b[i] <= b[i-1] {
						t.Errorf("batches %v (first and last three): batch %d does not grow", b, i)
						break
					}
				}
			}
		})
	}
}
