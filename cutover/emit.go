package cutover

import (
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
	e := Event{Type: t, Time: now, Cutover: d.id, Index: i, PNR: track(d.p, &d.st, now)}
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
	if d.logOn {
		d.logEvent(e)
	}
}

// logEvent writes e to the logger, at its level. It is apart from send,
// whose frame is on the stack of every event, logged or not.
func (d *drive) logEvent(e *Event) {
	ce := d.log.Check(eventLevel(e), e.Message)
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

// eventLevel is the level e is logged at: a rollback, its steps and
// anything that needs a person are warnings, a failure an error, gate
// verdicts debug (a Fail verdict a warning), the rest information.
func eventLevel(e *Event) zapcore.Level {
	switch e.Type {
	case EvGateJudged:
		if e.Verdict != nil && e.Verdict.Decision == Fail {
			return zapcore.WarnLevel
		}
		return zapcore.DebugLevel
	case EvRollingBack, EvRevertFailed, EvApplyRetry, EvStageReverted, EvRolledBack,
		EvWaitingApproval, EvPNRApproaching, EvPNRCrossed:
		return zapcore.WarnLevel
	case EvFailed:
		return zapcore.ErrorLevel
	}
	return zapcore.InfoLevel
}

// logsAny reports whether l writes at any level the runner logs at; a
// logger that writes none (zap.NewNop) costs the runner nothing.
func logsAny(l *zap.Logger) bool {
	c := l.Core()
	for lv := zapcore.DebugLevel; lv <= zapcore.ErrorLevel; lv++ {
		if c.Enabled(lv) {
			return true
		}
	}
	return false
}

// logCommand logs a command taken from the journal.
func (d *drive) logCommand(rec *Record) {
	if ce := d.log.Check(zapcore.InfoLevel, "command"); ce != nil {
		ce.Write(zap.String("cutover", d.id), zap.String("command", string(rec.Command)),
			zap.String("actor", rec.Actor), zap.String("reason", rec.Reason), zap.String("stage", rec.Stage), zap.Uint64("seq", rec.Seq))
	}
}
