package cutover

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unique"
)

// MemJournal is a Journal held in memory, for tests, examples and
// single-process tools that do not need to survive a restart.
//
// It is safe for concurrent use. It copies records on Append and on Read,
// so a caller cannot change what is stored. Appends to different cutovers
// do not contend beyond a short map lookup.
type MemJournal struct {
	mu       sync.RWMutex
	logs     map[string]*memLog
	lastJSON atomic.Pointer[memLastJSON] // see packOther
}

type memLog struct {
	mu   sync.RWMutex
	recs []memRec // recs[i] holds Seq i+1
}

// memRec is a stored record in compact form: 32 bytes instead of the 256
// of a Record and the allocations its strings, verdict and figures hang
// on. The Seq is implied by the position; the time is kept as nanoseconds
// of the Unix epoch with its zone (UTC or Local); every string of the
// record, and its verdict, are one interned memText, shared by every
// record that has the same ones (the stage names, gates, reasons and
// traffic notes of a fleet of cutovers repeat). A record that sets other
// fields (a start, a command) is interned as its JSON encoding when that
// decodes to the same record. Anything else, or a time in another zone,
// is kept whole, as a private copy. Nothing is dropped: Read returns what
// Append was given (the time without its monotonic reading, as every
// journal that stores it does).
type memRec struct {
	nanos int64
	text  unique.Handle[memText]
	full  *Record // the whole record, when it does not fit the fields above
	index int32
	typ   uint8 // index in storageTypeList
	zone  uint8 // memZero, memUTC or memLocal
}

// The zones of memRec.zone.
const (
	memZero  uint8 = iota // the zero time
	memUTC                // time.UTC
	memLocal              // time.Local
)

// memText is the interned part of a compact record: its strings, and its
// verdict with the figures encoded (see memFigures); or, for another
// record, its JSON encoding without Seq and Time.
type memText struct {
	stage, action, gate, key, value, err string
	reason, figures                      string
	// verdict is 0 without a verdict; otherwise 1 + the decision, with
	// memFinal and memFigures set as the verdict is final and has a
	// non-nil Figures map.
	verdict uint8
	json    string
}

// Flags of memText.verdict.
const (
	memFinal   uint8 = 1 << 7
	memFigures uint8 = 1 << 6
	memDecMask uint8 = memFigures - 1
)

// memPack returns the compact form of r, whose type is known, sharing
// nothing mutable with it; last is the journal's memory of the last record
// packOther interned.
func memPack(r Record, last *atomic.Pointer[memLastJSON]) memRec {
	m := memRec{index: int32(r.Index), typ: uint8(storageTypeIndex[r.Type])}
	timeFits := true
	switch loc := r.Time.Location(); {
	case r.Time.IsZero() && loc == time.UTC:
		m.zone = memZero
	case loc == time.UTC || loc == time.Local:
		m.nanos = r.Time.UnixNano()
		m.zone = memUTC
		if loc == time.Local {
			m.zone = memLocal
		}
		timeFits = time.Unix(0, m.nanos).Equal(r.Time)
	default:
		timeFits = false
	}
	if !timeFits {
		full := storageCopyRecord(r)
		return memRec{full: &full}
	}
	fits := int(m.index) == r.Index
	t := memText{stage: r.Stage, action: r.Action, gate: r.Gate, key: r.Key, value: r.Value, err: r.Error}
	if v := r.Verdict; v != nil {
		fits = fits && v.Decision >= 0 && int(v.Decision) < int(memDecMask)
		t.verdict = uint8(v.Decision+1) & memDecMask
		if v.Final {
			t.verdict |= memFinal
		}
		if v.Figures != nil {
			t.verdict |= memFigures
			t.figures = encodeFigures(v.Figures)
		}
		t.reason = v.Reason
	}
	// The fields checked here are all those memText and memRec have no
	// room for; TestMemRecordFields fails when Record or Verdict gains a
	// field, so that it is added here (and to sameOther) and kept too.
	if fits && r.Plan == "" && r.Stages == nil && r.Command == "" && r.Actor == "" && r.Reason == "" &&
		r.Attempt == 0 && r.Outline == nil && !r.TwoPerson && r.Ref == 0 && r.Signed == nil && r.Identity == "" {
		m.text = unique.Make(t)
		return m
	}
	return packOther(r, m, last)
}

// memLastJSON is the last record MemJournal.Append interned as JSON (see
// packOther), without Seq and Time, and its interned text.
type memLastJSON struct {
	bare Record
	text unique.Handle[memText]
}

// packOther returns the compact form of r, a record with fields memRec
// has no room for (a start, a command), given m with its time: its JSON
// encoding interned when that decodes to the same record, else a copy.
// The start records of one plan's cutovers are all alike: a record equal
// to the last one interned (last) takes its text without being encoded
// again.
func packOther(r Record, m memRec, last *atomic.Pointer[memLastJSON]) memRec {
	bare := r
	bare.Seq, bare.Time = 0, time.Time{}
	m.index, m.typ = 0, 0
	if l := last.Load(); l != nil && sameOther(&l.bare, &bare) {
		m.text = l.text
		return m
	}
	if b, err := json.Marshal(bare); err == nil {
		var back Record
		if json.Unmarshal(b, &back) == nil && reflect.DeepEqual(back, bare) {
			m.text = unique.Make(memText{json: string(b)})
			last.Store(&memLastJSON{bare: back, text: m.text})
			return m
		}
	}
	full := storageCopyRecord(r)
	return memRec{full: &full}
}

// sameOther reports whether a and b, records without a verdict or a
// signature, are equal, nil and empty lists apart; false for any record
// with either.
func sameOther(a, b *Record) bool {
	if a.Verdict != nil || b.Verdict != nil || a.Signed != nil || b.Signed != nil {
		return false
	}
	if a.Seq != b.Seq || a.Type != b.Type || !a.Time.Equal(b.Time) || a.Time.Location() != b.Time.Location() ||
		a.Plan != b.Plan || a.Stage != b.Stage || a.Index != b.Index || a.Action != b.Action || a.Gate != b.Gate ||
		a.Command != b.Command || a.Actor != b.Actor || a.Reason != b.Reason || a.Key != b.Key || a.Value != b.Value ||
		a.Error != b.Error || a.Attempt != b.Attempt || a.TwoPerson != b.TwoPerson || a.Ref != b.Ref || a.Identity != b.Identity ||
		!sameStrings(a.Stages, b.Stages) || (a.Outline == nil) != (b.Outline == nil) || len(a.Outline) != len(b.Outline) {
		return false
	}
	for i := range a.Outline {
		x, y := &a.Outline[i], &b.Outline[i]
		if x.Reversibility != y.Reversibility || x.Window != y.Window || x.Bake != y.Bake ||
			x.Approval != y.Approval || x.Pause != y.Pause || !sameStrings(x.Gates, y.Gates) {
			return false
		}
	}
	return true
}

// sameStrings reports whether a and b are equal, nil and empty apart.
func sameStrings(a, b []string) bool {
	return (a == nil) == (b == nil) && slices.Equal(a, b)
}

// unpack returns a copy of the stored record with Seq seq.
func (m *memRec) unpack(seq uint64) Record {
	if m.full != nil {
		return storageCopyRecord(*m.full)
	}
	t := m.text.Value()
	var r Record
	if t.json != "" {
		// Decoded as it was checked to decode when it was stored.
		_ = json.Unmarshal([]byte(t.json), &r)
		r.Seq = seq
	} else {
		r = Record{Seq: seq, Type: storageTypeList[m.typ], Stage: t.stage, Index: int(m.index),
			Action: t.action, Gate: t.gate, Key: t.key, Value: t.value, Error: t.err}
	}
	switch m.zone {
	case memUTC:
		r.Time = time.Unix(0, m.nanos).UTC()
	case memLocal:
		r.Time = time.Unix(0, m.nanos)
	}
	if t.verdict != 0 {
		v := &Verdict{Decision: Decision(t.verdict&memDecMask) - 1, Reason: t.reason, Final: t.verdict&memFinal != 0}
		if t.verdict&memFigures != 0 {
			v.Figures = decodeFigures(t.figures)
		}
		r.Verdict = v
	}
	return r
}

// encodeFigures returns figures as a string, the same for equal maps:
// for each name in order, its length (uvarint), the name and the value's
// IEEE 754 bits (8 bytes, little-endian).
func encodeFigures(figures map[string]float64) string {
	if len(figures) == 0 {
		return ""
	}
	var buf [8]string
	names := buf[:0]
	n := 0
	for k := range figures {
		names = append(names, k)
		n += binary.MaxVarintLen64 + len(k) + 8
	}
	slices.Sort(names)
	var stack [128]byte // most verdicts have a few figures: no allocation but the string's
	b := stack[:0]
	if n > len(stack) {
		b = make([]byte, 0, n)
	}
	for _, k := range names {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(figures[k]))
	}
	return string(b)
}

// decodeFigures returns a new map of the figures encodeFigures encoded
// in s.
func decodeFigures(s string) map[string]float64 {
	figures := make(map[string]float64)
	for len(s) > 0 {
		n, w := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
		s = s[w:]
		k := s[:n]
		figures[k] = math.Float64frombits(binary.LittleEndian.Uint64([]byte(s[n : n+8])))
		s = s[n+8:]
	}
	return figures
}

// NewMemJournal returns an empty memory journal.
func NewMemJournal() *MemJournal {
	return &MemJournal{logs: make(map[string]*memLog)}
}

// Append adds rec to the journal of cutover id if rec.Seq is one more than
// the Seq of its last record; otherwise it returns an error wrapping
// ErrConflict that gives the expected and the given Seq. An invalid id (see
// ValidateID) or an unknown record type is an error.
func (j *MemJournal) Append(ctx context.Context, id string, rec Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("journal %s: append: %w", id, context.Cause(ctx))
	}
	if err := ValidateID(id); err != nil {
		return err
	}
	if err := storageCheckType(rec.Type); err != nil {
		return fmt.Errorf("journal %s: append seq %d: %w", id, rec.Seq, err)
	}
	l := j.log(id, true)
	l.mu.Lock()
	defer l.mu.Unlock()
	if want := uint64(len(l.recs)) + 1; rec.Seq != want {
		return storageConflict(id, want, rec.Seq)
	}
	if len(l.recs) == cap(l.recs) {
		// Grow by a quarter (at least 8) rather than double: journals are
		// many and short, and slack would be most of their memory.
		// (slices.Grow would double.)
		grown := make([]memRec, len(l.recs), len(l.recs)+max(8, len(l.recs)/4))
		copy(grown, l.recs)
		l.recs = grown
	}
	l.recs = append(l.recs, memPack(rec, &j.lastJSON))
	return nil
}

// Read returns copies of the records of cutover id with Seq greater than
// after, in order. An unknown id has no records.
func (j *MemJournal) Read(ctx context.Context, id string, after uint64) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("journal %s: read: %w", id, context.Cause(ctx))
	}
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	l := j.log(id, false)
	if l == nil {
		return nil, nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if after >= uint64(len(l.recs)) {
		return nil, nil
	}
	out := make([]Record, 0, uint64(len(l.recs))-after)
	for i := range l.recs[after:] {
		out = append(out, l.recs[after+uint64(i)].unpack(after+uint64(i)+1))
	}
	return out, nil
}

// List returns the IDs of the cutovers that have records, sorted.
func (j *MemJournal) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("journal: list: %w", context.Cause(ctx))
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	ids := make([]string, 0, len(j.logs))
	for id, l := range j.logs {
		l.mu.RLock()
		n := len(l.recs)
		l.mu.RUnlock()
		if n > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// log returns the log of id, creating it if create is set; nil if it does
// not exist and create is not set.
func (j *MemJournal) log(id string, create bool) *memLog {
	j.mu.RLock()
	l := j.logs[id]
	j.mu.RUnlock()
	if l != nil || !create {
		return l
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if l = j.logs[id]; l == nil {
		l = &memLog{}
		j.logs[id] = l
	}
	return l
}

// storageConflict is the error of an append whose Seq is not the next one.
func storageConflict(id string, want, got uint64) error {
	return fmt.Errorf("journal %s: append seq %d, want seq %d: %w", id, got, want, ErrConflict)
}

// storageCopyRecord returns a deep copy of r: its Stages, Verdict and
// Figures are not shared with r.
func storageCopyRecord(r Record) Record {
	if r.Stages != nil {
		r.Stages = append(make([]string, 0, len(r.Stages)), r.Stages...)
	}
	if r.Outline != nil {
		o := make([]StageOutline, len(r.Outline))
		for i, so := range r.Outline {
			so.Gates = slices.Clone(so.Gates)
			o[i] = so
		}
		r.Outline = o
	}
	if r.Verdict != nil {
		v := *r.Verdict
		if v.Figures != nil {
			v.Figures = maps.Clone(v.Figures)
		}
		r.Verdict = &v
	}
	if r.Signed != nil {
		sig := *r.Signed
		sig.Blob = slices.Clone(sig.Blob)
		r.Signed = &sig
	}
	return r
}

// storageTypeList are the record types a journal stores. Keep in step
// with the constants in journal.go (a test checks it).
var storageTypeList = []RecordType{
	RecStart, RecIntent, RecApplied, RecApplyFailed, RecVerdict, RecBaked, RecReverted,
	RecRevertFailed, RecCommand, RecData, RecWaiting, RecCompleted, RecRolledBack, RecFailed,
	RecAck, RecSuspended,
}

// storageTypeIndex maps each record type to its index in storageTypeList.
var storageTypeIndex = func() map[RecordType]int {
	m := make(map[RecordType]int, len(storageTypeList))
	for i, t := range storageTypeList {
		m[t] = i
	}
	return m
}()

// storageCheckType returns an error if t is not a known record type.
func storageCheckType(t RecordType) error {
	if _, ok := storageTypeIndex[t]; !ok {
		return fmt.Errorf("record field type: unknown record type %q", t)
	}
	return nil
}

// maxCutoverIDLen is the longest cutover ID accepted.
const maxCutoverIDLen = 128

// ValidateID returns an error naming the field "cutover id" unless id
// is 1 to 128 characters from [A-Za-z0-9._-], does not start with '.' and
// does not contain "..". Such an ID is safe as a file name, a DynamoDB key
// and a log field. The memory and file journals and leases reject other IDs.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("cutover id: empty; want 1 to %d characters from [A-Za-z0-9._-]", maxCutoverIDLen)
	case len(id) > maxCutoverIDLen:
		return fmt.Errorf("cutover id: %d characters long; want 1 to %d", len(id), maxCutoverIDLen)
	case id[0] == '.':
		return fmt.Errorf("cutover id %q: starts with '.'; want a letter, digit, '_' or '-' first", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("cutover id %q: character %q at byte %d not allowed; want [A-Za-z0-9._-]", id, id[i:i+1], i)
		}
		if c == '.' && i > 0 && id[i-1] == '.' {
			return fmt.Errorf("cutover id %q: contains \"..\"", id)
		}
	}
	return nil
}
