package report_test

import (
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// t0 is when the hand-built journals start.
var t0 = time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)

// journal builds a cutover's records by hand.
type journal struct{ recs []cutover.Record }

// at appends rec at t0+d with the next Seq.
func (j *journal) at(d time.Duration, rec cutover.Record) *journal {
	rec.Seq = uint64(len(j.recs) + 1)
	rec.Time = t0.Add(d)
	j.recs = append(j.recs, rec)
	return j
}

// stage appends a record of type typ about stage i named name.
func (j *journal) stage(d time.Duration, typ cutover.RecordType, i int, name string) *journal {
	rec := cutover.Record{Type: typ, Stage: name, Index: i}
	if typ == cutover.RecIntent {
		rec.Action = "apply"
	}
	return j.at(d, rec)
}

func traffic(i int, name, value string) cutover.Record {
	return cutover.Record{Type: cutover.RecData, Stage: name, Index: i, Key: cutover.DataTraffic, Value: value}
}

func verdict(i int, name, gate string, d cutover.Decision, reason string, figures map[string]float64) cutover.Record {
	return cutover.Record{Type: cutover.RecVerdict, Stage: name, Index: i, Gate: gate,
		Verdict: &cutover.Verdict{Decision: d, Reason: reason, Figures: figures}}
}

// windowJournal is a cutover still running: green took the traffic, blue
// is kept warm for an hour (a window), retiring it waits ahead.
func windowJournal() []cutover.Record {
	j := &journal{}
	j.at(0, cutover.Record{Type: cutover.RecStart, Plan: "checkout", Actor: "alice",
		Stages: []string{"shift", "keep blue", "retire blue"},
		Outline: []cutover.StageOutline{
			{Reversibility: "reversible", Bake: 10 * time.Minute, Gates: []string{"errors"}},
			{Reversibility: "window", Window: time.Hour},
			{Reversibility: "irreversible", Approval: true},
		}})
	j.stage(time.Second, cutover.RecIntent, 0, "shift")
	j.at(2*time.Second, traffic(0, "shift", `{"blue":0,"green":100}`))
	j.stage(3*time.Second, cutover.RecApplied, 0, "shift")
	j.at(4*time.Second, verdict(0, "shift", "errors", cutover.Pending, "no data yet", nil))
	j.at(10*time.Minute, verdict(0, "shift", "errors", cutover.Pass, "0.4% ≤ 1%", map[string]float64{"requests": 12000, "rate": 0.004}))
	j.stage(10*time.Minute, cutover.RecBaked, 0, "shift")
	j.stage(10*time.Minute+time.Second, cutover.RecIntent, 1, "keep blue")
	j.stage(10*time.Minute+2*time.Second, cutover.RecApplied, 1, "keep blue")
	j.stage(10*time.Minute+3*time.Second, cutover.RecBaked, 1, "keep blue")
	j.at(10*time.Minute+4*time.Second, cutover.Record{Type: cutover.RecWaiting, Stage: "retire blue", Index: 2,
		Error: `stage "retire blue" (irreversible) needs an approval before it is applied`})
	return j.recs
}
