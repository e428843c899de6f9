package demo

import (
	"context"
	"os"
	"os/signal"
	"sync"
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

// ApproveAtWindow returns an observer that passes every event to next and,
// when the runner waits for the approval of a reversibility window (its
// approval point: the runner waits there rather than return), calls
// approve with the stage's name in a goroutine that wg tracks. The
// examples send -approve this way, only once the cutover has got there.
func ApproveAtWindow(next cutover.Observer, plan cutover.Plan, wg *sync.WaitGroup, approve func(stage string)) cutover.Observer {
	return cutover.ObserverFunc(func(e cutover.Event) {
		next.Observe(e)
		if e.Type == cutover.EvWaitingApproval && e.Index >= 0 && e.Index < len(plan.Stages) &&
			plan.Stages[e.Index].Reversibility.Kind == cutover.KindWindow {
			wg.Go(func() { approve(e.Stage) })
		}
	})
}
