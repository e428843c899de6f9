package providers

import (
	"context"
	"fmt"

	"github.com/safecutover/safecutover/cutover"
)

// The waits below are what strategies do after they change the cloud:
// read the change back until it shows, or wait for capacity to become
// healthy. They live here, next to the interfaces they read, so that every
// strategy (and user code) uses the same bounded, fail-closed loop
// (cutover.Poll) instead of one of its own.

// ReadBack reads router's weights until they equal want, as p bounds it
// (its Attempts, Timeout and Interval; its Clock), and fails closed: a
// read that fails is tried again, and weights that never match are an
// error wrapping cutover.ErrWaitTimeout that says what was read last. It
// honours ctx. p.What defaults to "read back weights WANT".
func ReadBack(ctx context.Context, router TrafficRouter, want Weights, p cutover.Poll) error {
	if p.What == "" {
		p.What = "read back weights " + want.String()
	}
	p.Retry = retryAll
	return p.Until(ctx, func(ctx context.Context) (bool, string, error) {
		got, err := router.Weights(ctx)
		if err != nil {
			return false, "", err
		}
		if got.Equal(want) {
			return true, "", nil
		}
		return false, "got " + got.String(), nil
	})
}

// ReadBackActive reads which target switcher sends traffic to until it is
// target, as p bounds it, and fails closed like ReadBack. p.What defaults
// to "read back active target TARGET".
func ReadBackActive(ctx context.Context, switcher Switcher, target string, p cutover.Poll) error {
	if p.What == "" {
		p.What = "read back active target " + target
	}
	p.Retry = retryAll
	return p.Until(ctx, func(ctx context.Context) (bool, string, error) {
		active, err := switcher.Active(ctx)
		if err != nil {
			return false, "", err
		}
		return active == target, "got " + active, nil
	})
}

// WaitHealthy reads fleet's capacity until at least n of its members are
// healthy, as p bounds it (usually by Timeout), and fails closed: a read
// that fails is tried again, and a fleet that never gets there is an error
// wrapping cutover.ErrWaitTimeout that says what it saw last. It honours
// ctx. p.What defaults to "wait for N healthy".
func WaitHealthy(ctx context.Context, fleet Fleet, n int, p cutover.Poll) error {
	if p.What == "" {
		p.What = fmt.Sprintf("wait for %d healthy", n)
	}
	p.Retry = retryAll
	return p.Until(ctx, func(ctx context.Context) (bool, string, error) {
		c, err := fleet.Capacity(ctx)
		if err != nil {
			return false, "", err
		}
		if c.Healthy >= n {
			return true, "", nil
		}
		return false, fmt.Sprintf("still %d of %d healthy (%d running)", c.Healthy, n, c.Running), nil
	})
}

// retryAll tries every error again: a wait that reads back fails closed
// only when its bound runs out.
func retryAll(error) bool { return true }
