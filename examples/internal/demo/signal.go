package demo

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/safecutover/safecutover/cutover"
)

// SignalContext returns a context for a runner that a signal stops:
// SIGTERM (a controller being redeployed) cancels it with the cause
// cutover.ErrSuspended, so the runner journals the suspension without
// rolling back and the next run resumes; Ctrl-C (SIGINT), a person at the
// terminal, cancels it plainly, so the runner rolls back what it applied
// while it still can. stop releases the signals.
func SignalContext(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			if sig == syscall.SIGTERM {
				cancel(cutover.ErrSuspended)
			} else {
				cancel(context.Canceled)
			}
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}
