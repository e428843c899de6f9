package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
)

// Sender delivers one message to a sink. Send returns once the sink has
// accepted the message, or with an error; the Notifier retries errors.
// Send honours ctx, which bounds one attempt. A Notifier calls Send from
// one goroutine at a time.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to the Sender interface.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f(ctx, m).
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

var _ Sender = SenderFunc(nil)

// DefaultEvents are the events sent when Options.Events is empty: the ones
// a person may have to act on (a suspended cutover is driven by nobody
// until a runner resumes it), and the ends of a cutover.
var DefaultEvents = []cutover.EventType{
	cutover.EvWaitingApproval,
	cutover.EvPNRApproaching,
	cutover.EvRolledBack,
	cutover.EvFailed,
	cutover.EvSuspended,
	cutover.EvCompleted,
}

// The defaults of Options.
const (
	DefaultQueue       = 100
	DefaultMaxAttempts = 5
	DefaultBackoff     = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultTimeout     = 10 * time.Second
)

// Options configure a Notifier. The zero value is valid.
type Options struct {
	// Name names the notifier in logs; default "notify".
	Name string
	// Events are the event types delivered; empty means DefaultEvents.
	Events []cutover.EventType
	// Queue is how many messages may wait for delivery; an event that
	// finds the queue full is dropped. 0 means DefaultQueue; ≥ 0.
	Queue int
	// MaxAttempts bounds the attempts to deliver one message. 0 means
	// DefaultMaxAttempts; ≥ 0.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles after
	// each, up to MaxBackoff. 0 means DefaultBackoff and DefaultMaxBackoff;
	// ≥ 0.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt. 0 means DefaultTimeout; ≥ 0.
	Timeout time.Duration
	// Clock times the backoff; default cutover.RealClock.
	Clock cutover.Clock
	// Logger receives a warning for every dropped message; nil means none.
	Logger *zap.Logger
}

// Notifier is a cutover.Observer that delivers the events it is
// configured for to a Sender, in order, from a goroutine of its own.
// Observe never blocks. Safe for concurrent use; Close it to flush.
type Notifier struct {
	send    Sender
	o       Options
	events  map[cutover.EventType]bool
	queue   chan Message
	ctx     context.Context // cancelled when Close runs out of time
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex // guards closed and sends on queue
	closed  bool
	dropped atomic.Int64
	sent    atomic.Int64
}

var _ cutover.Observer = (*Notifier)(nil)

// New returns a notifier that delivers to s and starts its goroutine.
func New(s Sender, opts Options) (*Notifier, error) {
	if s == nil {
		return nil, fmt.Errorf("notify: sender is nil")
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"Queue", int64(opts.Queue)}, {"MaxAttempts", int64(opts.MaxAttempts)}, {"Backoff", int64(opts.Backoff)}, {"MaxBackoff", int64(opts.MaxBackoff)}, {"Timeout", int64(opts.Timeout)}} {
		if f.v < 0 {
			return nil, fmt.Errorf("notify: %s %d: want ≥ 0 (0 means the default)", f.name, f.v)
		}
	}
	if opts.Name == "" {
		opts.Name = "notify"
	}
	if opts.Queue == 0 {
		opts.Queue = DefaultQueue
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Backoff == 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = max(DefaultMaxBackoff, opts.Backoff)
	}
	if opts.MaxBackoff < opts.Backoff {
		return nil, fmt.Errorf("notify: MaxBackoff %v: want ≥ Backoff %v", opts.MaxBackoff, opts.Backoff)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Clock == nil {
		opts.Clock = cutover.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if len(opts.Events) == 0 {
		opts.Events = DefaultEvents
	}
	n := &Notifier{send: s, o: opts, events: map[cutover.EventType]bool{}, queue: make(chan Message, opts.Queue), done: make(chan struct{})}
	for i, e := range opts.Events {
		if e == "" {
			return nil, fmt.Errorf("notify: Events[%d]: empty event type", i)
		}
		n.events[e] = true
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	go n.run()
	return n, nil
}

// Observe queues e's Message if e is of a configured type. It never
// blocks: when the queue is full, or the notifier closed, the event is
// dropped, counted and logged.
func (n *Notifier) Observe(e cutover.Event) {
	if n.events[e.Type] {
		n.Notify(NewMessage(e))
	}
}

// Notify queues m, as Observe does, if its type is configured: for
// programs that make messages from something other than a runner's events
// (a journal, with FromRecord).
func (n *Notifier) Notify(m Message) {
	if !n.events[m.Type] {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.drop(m, errors.New("notifier closed"))
		return
	}
	select {
	case n.queue <- m:
	default:
		n.drop(m, fmt.Errorf("queue full (%d messages)", n.o.Queue))
	}
}

// Dropped returns how many messages were dropped: queue full, retries
// exhausted, or not delivered when Close ran out of time.
func (n *Notifier) Dropped() int64 { return n.dropped.Load() }

// Sent returns how many messages were delivered.
func (n *Notifier) Sent() int64 { return n.sent.Load() }

// Close stops taking events and delivers those queued, within ctx's bound:
// when ctx ends first, the delivery in flight is cancelled and what is left
// is dropped and counted. It returns an error if any message was dropped
// over the notifier's life. Close is idempotent.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	select {
	case <-n.done:
	case <-ctx.Done():
		n.cancel()
		<-n.done
	}
	n.cancel()
	if d := n.Dropped(); d > 0 {
		return fmt.Errorf("%s: %d messages dropped, %d sent", n.o.Name, d, n.Sent())
	}
	return nil
}

func (n *Notifier) drop(m Message, why error) {
	n.dropped.Add(1)
	n.o.Logger.Warn("notification dropped", zap.String("notifier", n.o.Name), zap.String("cutover", m.Cutover),
		zap.String("event", string(m.Type)), zap.Error(why), zap.Int64("dropped", n.dropped.Load()))
}

// run delivers the queue in order until it is closed and empty.
func (n *Notifier) run() {
	defer close(n.done)
	for m := range n.queue {
		if n.ctx.Err() != nil {
			n.drop(m, context.Cause(n.ctx))
			continue
		}
		if err := n.deliver(m); err != nil {
			n.drop(m, err)
			continue
		}
		n.sent.Add(1)
	}
}

// deliver tries to send m up to MaxAttempts times with backoff.
func (n *Notifier) deliver(m Message) error {
	backoff := cutover.Backoff{Initial: n.o.Backoff, Max: n.o.MaxBackoff}
	var err error
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(n.ctx, n.o.Timeout)
		err = n.send.Send(ctx, m)
		cancel()
		if err == nil {
			return nil
		}
		if attempt == n.o.MaxAttempts {
			return fmt.Errorf("%d attempts: %w", attempt, err)
		}
		n.o.Logger.Debug("notification retry", zap.String("notifier", n.o.Name), zap.Int("attempt", attempt), zap.Error(err))
		if backoff.Wait(n.ctx, n.o.Clock, attempt-1) != nil {
			return fmt.Errorf("closed while retrying: %w", err)
		}
	}
}
