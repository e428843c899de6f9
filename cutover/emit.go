package cutover

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// emit sends an event of type t about stage i (-1: none) to the observer
// and the logger.
func (d *drive) emit(t EventType, i int, err error, msg string) {
	if d.obs == nil && !d.logOn {
		return
	}
	e := d.event(t, i)
	e.Err, e.Message = err, msg
	d.send(&e)
}

// event returns an event of type t about stage i with the tracker's view.
func (d *drive) event(t EventType, i int) Event {
	now := d.clock.Now()
	e := Event{Type: t, Time: now, Cutover: d.id, Index: i, PNR: track(d.p, &d.st, now, d.o.TwoPersonRule)}
	if i >= 0 && i < len(d.p.Stages) {
		e.Stage = d.p.Stages[i].Name
		e.Bake = d.p.Stages[i].Bake
	}
	return e
}

// emitVerdict sends EvGateJudged for gate st of stage i.
func (d *drive) emitVerdict(i int, st *gateState, elapsed time.Duration) {
	e := d.event(EvGateJudged, i)
	v := st.cur
	e.Gate, e.Verdict, e.Elapsed = st.name, &v, elapsed
	e.Message = st.name + ": " + v.String()
	d.send(&e)
}

// send delivers e.
func (d *drive) send(e *Event) {
	if d.obs != nil {
		d.obs.Observe(*e)
	}
	if !d.logOn {
		return
	}
	level := zapcore.InfoLevel
	switch e.Type {
	case EvGateJudged:
		level = zapcore.DebugLevel
	case EvRollingBack, EvRevertFailed, EvWaitingApproval, EvPNRApproaching:
		level = zapcore.WarnLevel
	case EvFailed:
		level = zapcore.ErrorLevel
	}
	ce := d.log.Check(level, e.Message)
	if ce == nil {
		return
	}
	fields := []zap.Field{zap.String("cutover", e.Cutover), zap.String("event", string(e.Type))}
	if e.Index >= 0 {
		fields = append(fields, zap.String("stage", e.Stage), zap.Int("index", e.Index))
	}
	if e.Verdict != nil {
		fields = append(fields, zap.String("gate", e.Gate), zap.Stringer("decision", e.Verdict.Decision), zap.String("reason", e.Verdict.Reason))
	}
	if e.Err != nil {
		fields = append(fields, zap.Error(e.Err))
	}
	fields = append(fields, zap.Bool("can_roll_back", e.PNR.CanRollBack))
	ce.Write(fields...)
}

// logCommand logs a command taken from the journal.
func (d *drive) logCommand(rec *Record) {
	if ce := d.log.Check(zapcore.InfoLevel, "command"); ce != nil {
		ce.Write(zap.String("cutover", d.id), zap.String("command", string(rec.Command)),
			zap.String("actor", rec.Actor), zap.String("reason", rec.Reason), zap.String("stage", rec.Stage), zap.Uint64("seq", rec.Seq))
	}
}

// holdLease acquires the lease on the cutover and renews it every TTL/3 in
// a goroutine until the returned stop is called; stop waits for the
// goroutine and releases the lease. When the lease is lost, d.leaseCtx is
// cancelled with a cause wrapping ErrLeaseLost.
func (d *drive) holdLease(ctx context.Context) (stop func(), err error) {
	l, owner, ttl := d.o.Lease, d.o.Owner, d.o.LeaseTTL
	if owner == "" {
		// One random owner per Run, so that two Runs of one Runner on the
		// same cutover exclude each other too.
		owner = "runner-" + rand.Text()
	}
	if err := l.Acquire(ctx, d.id, owner, ttl); err != nil {
		return nil, fmt.Errorf("cutover %s: acquire lease as %q: %w", d.id, owner, err)
	}
	leaseCtx, lose := context.WithCancelCause(context.Background())
	d.leaseCtx = leaseCtx
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		last := d.clock.Now()
		for {
			select {
			case <-done:
				return
			case <-d.clock.After(ttl / 3):
			}
			// The lease holds until last+ttl. A renewal gets ttl/6 (of wall
			// time: the lease may judge expiry on another clock than the
			// runner's), and when the next attempt would start too late
			// the runner stops at once: it must never act on the cloud
			// after its lease may have passed to another runner.
			expires := last.Add(ttl)
			rctx, cancel := context.WithTimeout(context.Background(), ttl/6)
			err := l.Renew(rctx, d.id, owner, ttl)
			cancel()
			if err == nil {
				last = d.clock.Now()
				continue
			}
			d.log.Warn("renew lease", zap.String("cutover", d.id), zap.String("owner", owner), zap.Error(err))
			if errors.Is(err, ErrLeaseLost) {
				lose(fmt.Errorf("renew lease as %q: %w", owner, err))
				return
			}
			if !d.clock.Now().Add(ttl / 3).Before(expires) {
				lose(fmt.Errorf("renew lease as %q: not renewed since %s, and the lease expires before the next attempt: %w (last error: %w)",
					owner, last.Format(time.RFC3339), ErrLeaseLost, err))
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		lose(nil)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
		if err := l.Release(rctx, d.id, owner); err != nil {
			d.log.Warn("release lease", zap.String("cutover", d.id), zap.String("owner", owner), zap.Error(err))
		}
	}, nil
}
