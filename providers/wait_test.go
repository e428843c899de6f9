package providers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// slowCloud is a router, switcher and fleet whose state reaches what was
// asked only after lag reads, and whose reads fail every failEvery-th time.
type slowCloud struct {
	lag, reads, failEvery int
	weights               providers.Weights
	active                string
	healthy               int
}

var errRead = errors.New("read failed")

func (c *slowCloud) read() error {
	c.reads++
	if c.failEvery > 0 && c.reads%c.failEvery == 0 {
		return errRead
	}
	return nil
}

func (c *slowCloud) settled() bool { return c.reads > c.lag }

func (c *slowCloud) SetWeights(context.Context, providers.Weights) error { return nil }

func (c *slowCloud) Weights(context.Context) (providers.Weights, error) {
	if err := c.read(); err != nil {
		return nil, err
	}
	if c.settled() {
		return providers.Weights{"blue": 0, "green": 100}, nil
	}
	return c.weights, nil
}

func (c *slowCloud) Switch(context.Context, string) error { return nil }

func (c *slowCloud) Active(context.Context) (string, error) {
	if err := c.read(); err != nil {
		return "", err
	}
	if c.settled() {
		return "green", nil
	}
	return c.active, nil
}

func (c *slowCloud) SetDesired(context.Context, int) error { return nil }

func (c *slowCloud) Capacity(context.Context) (providers.Capacity, error) {
	if err := c.read(); err != nil {
		return providers.Capacity{}, err
	}
	if c.settled() {
		return providers.Capacity{Desired: 3, Running: 3, Healthy: 3}, nil
	}
	return providers.Capacity{Desired: 3, Running: 3, Healthy: c.healthy}, nil
}

// TestWaits: each wait returns once the cloud shows what was asked, reads
// that fail are tried again, and a cloud that never gets there fails
// closed at the bound with ErrWaitTimeout and what was seen last.
func TestWaits(t *testing.T) {
	every := cutover.Backoff{Initial: time.Second}
	waits := []struct {
		name string
		p    cutover.Poll
		wait func(ctx context.Context, c *slowCloud, p cutover.Poll) error
		last string // in the error when it never settles
	}{
		{"ReadBack", cutover.Poll{Interval: every, Attempts: 5}, func(ctx context.Context, c *slowCloud, p cutover.Poll) error {
			return providers.ReadBack(ctx, c, providers.Weights{"blue": 0, "green": 100}, p)
		}, "read back weights blue=0 green=100: got blue=100 green=0 after 5 attempts"},
		{"ReadBackActive", cutover.Poll{Interval: every, Attempts: 5}, func(ctx context.Context, c *slowCloud, p cutover.Poll) error {
			return providers.ReadBackActive(ctx, c, "green", p)
		}, "read back active target green: got blue after 5 attempts"},
		{"WaitHealthy", cutover.Poll{Interval: every, Timeout: 4 * time.Second}, func(ctx context.Context, c *slowCloud, p cutover.Poll) error {
			return providers.WaitHealthy(ctx, c, 3, p)
		}, "wait for 3 healthy: still 1 of 3 healthy (3 running) after 4s"},
	}
	for _, w := range waits {
		t.Run(w.name+"/settles", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := &slowCloud{lag: 3, failEvery: 2, weights: providers.Weights{"blue": 100, "green": 0}, active: "blue", healthy: 1}
				start := time.Now()
				if err := w.wait(t.Context(), c, w.p); err != nil {
					t.Fatal(err)
				}
				if c.reads != 5 || time.Since(start) != 4*time.Second {
					t.Errorf("%d reads in %v, want 5 in 4s (one a second, failed reads tried again)", c.reads, time.Since(start))
				}
			})
		})
		t.Run(w.name+"/never", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := &slowCloud{lag: 1000, weights: providers.Weights{"blue": 100, "green": 0}, active: "blue", healthy: 1}
				err := w.wait(t.Context(), c, w.p)
				if !errors.Is(err, cutover.ErrWaitTimeout) || !strings.Contains(err.Error(), w.last) {
					t.Fatalf("got %v, want ErrWaitTimeout saying %q", err, w.last)
				}
			})
		})
		t.Run(w.name+"/read fails last", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := &slowCloud{lag: 1000, failEvery: 1}
				err := w.wait(t.Context(), c, w.p)
				if !errors.Is(err, cutover.ErrWaitTimeout) || !errors.Is(err, errRead) {
					t.Fatalf("got %v, want ErrWaitTimeout wrapping the read's error", err)
				}
			})
		})
		t.Run(w.name+"/cancelled", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				c := &slowCloud{lag: 1000}
				err := w.wait(ctx, c, w.p)
				if !errors.Is(err, context.Canceled) || c.reads > 1 {
					t.Fatalf("got %v after %d reads, want context.Canceled at once", err, c.reads)
				}
			})
		})
	}
}
