package cutover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
)

// FileJournalOptions configure a FileJournal. The zero value is valid.
type FileJournalOptions struct {
	// LockTimeout bounds how long one operation waits for the lock on a
	// cutover's file while another handle or process holds it. Default 10s.
	LockTimeout time.Duration
	// Logger receives repairs. Default: zap.NewNop().
	Logger *zap.Logger
}

// FileJournal is a Journal that keeps each cutover in its own file,
// <dir>/<id>.jsonl, one JSON record per line. It is the embedded default:
// no server, and an operator can read the audit trail with any text tool.
//
// Every Append is fsynced before it returns (and the directory, when the file
// is new). One writer at a time holds an exclusive flock on the file, so
// compare-and-append on Seq holds across goroutines, across FileJournal
// values and across processes on one machine; readers take a shared lock.
// It is safe for concurrent use.
//
// Reading is strict: a line that does not decode, a record of an unknown
// type or of another cutover, and a Seq that repeats, goes back or skips are
// errors wrapping ErrCorruptJournal (as a *CorruptJournalError with the file
// and line), never skipped. A torn last line — a write cut short by a crash —
// is reported the same way and Append refuses to write after it until an
// operator calls Repair.
//
// Read is cheap for incremental polling: the journal remembers, per cutover,
// the byte offset of every record it has validated and reads only from the
// first record asked for, validating only what is new since the last call.
type FileJournal struct {
	dir    string
	locker *fileLocker
	log    *zap.Logger

	mu    sync.Mutex
	files map[string]*fileState
}

// fileState is what a FileJournal knows about one cutover's file.
type fileState struct {
	// The fields are guarded by holding the journal's lock on the file.

	// fi identifies the file the cache describes (nil: no cache). A file
	// replaced by Repair is another file.
	fi os.FileInfo
	// end is the offset after the last validated line.
	end int64
	// offsets[i] is the offset of the line holding Seq i+1.
	offsets []int64
}

var _ Journal = (*FileJournal)(nil)

// fileJournalExt ends the name of every journal file.
const fileJournalExt = ".jsonl"

// fileMaxLine is the longest journal line accepted, in bytes.
const fileMaxLine = 1 << 20

// checkFileStore checks the directory and lock timeout of a file journal
// or lease (what) and returns the lock timeout to use.
func checkFileStore(what, dir string, lock time.Duration) (time.Duration, error) {
	if dir == "" {
		return 0, fmt.Errorf("%s: dir: empty; want a directory path", what)
	}
	if lock < 0 {
		return 0, fmt.Errorf("%s: LockTimeout: %s; want ≥ 0 (0 means 10s)", what, lock)
	}
	if lock == 0 {
		return 10 * time.Second, nil
	}
	return lock, nil
}

// NewFileJournal returns a journal that keeps its files in dir, creating the
// directory if needed.
func NewFileJournal(dir string, opts FileJournalOptions) (*FileJournal, error) {
	var err error
	if opts.LockTimeout, err = checkFileStore("file journal", dir, opts.LockTimeout); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("file journal: dir: %w", err)
	}
	return &FileJournal{dir: dir, locker: newFileLocker(opts.LockTimeout), log: opts.Logger, files: make(map[string]*fileState)}, nil
}

// Dir returns the directory the journal keeps its files in.
func (j *FileJournal) Dir() string { return j.dir }

// Path returns the file that holds the records of cutover id.
func (j *FileJournal) Path(id string) string {
	return filepath.Join(j.dir, id+fileJournalExt)
}

// Locate returns "file:line" of record seq of cutover id: a journal file
// holds record n on line n (reading refuses any other layout).
func (j *FileJournal) Locate(id string, seq uint64) string {
	return fmt.Sprintf("%s:%d", j.Path(id), seq)
}

var _ Locator = (*FileJournal)(nil)

// Append writes rec as one line at the end of the file of cutover id and
// fsyncs it, if rec.Seq is one more than the Seq of the last record;
// otherwise it returns an error wrapping ErrConflict. It refuses, with an
// error wrapping ErrCorruptJournal, to write after a corrupt or torn line.
// A record that JSON cannot carry faithfully (a string that is not UTF-8, a
// figure that is NaN or infinite, a year outside 0-9999) is an error naming
// the field. If the write or the fsync fails the error says so; after a
// failed fsync the record may or may not be in the file, which a retry
// reveals as ErrConflict.
func (j *FileJournal) Append(ctx context.Context, id string, rec Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("journal %s: append: %w", id, context.Cause(ctx))
	}
	if err := ValidateID(id); err != nil {
		return err
	}
	line, err := fileEncodeLine(id, rec)
	if err != nil {
		return fmt.Errorf("journal %s: append seq %d: %w", id, rec.Seq, err)
	}
	st, f, release, err := j.lock(ctx, id, true)
	if err != nil {
		return err
	}
	defer release()
	path := j.Path(id)
	if _, err := st.scan(path, id, f, 0, false); err != nil {
		return fmt.Errorf("journal %s: append seq %d refused: %w", id, rec.Seq, err)
	}
	if want := uint64(len(st.offsets)) + 1; rec.Seq != want {
		return storageConflict(id, want, rec.Seq)
	}
	if _, err := f.Write(line); err != nil {
		// Do not leave a torn line behind if we can help it.
		_ = f.Truncate(st.end)
		st.fi = nil
		return fmt.Errorf("journal %s: append seq %d: write %s: %w", id, rec.Seq, path, err)
	}
	if err := f.Sync(); err != nil {
		st.fi = nil
		return fmt.Errorf("journal %s: append seq %d: fsync %s: %w", id, rec.Seq, path, err)
	}
	if st.end == 0 {
		if err := fileSyncDir(j.dir); err != nil {
			st.fi = nil
			return fmt.Errorf("journal %s: append seq %d: %w", id, rec.Seq, err)
		}
	}
	st.offsets = append(st.offsets, st.end)
	st.end += int64(len(line))
	return nil
}

// Read returns the records of cutover id with Seq greater than after, in
// order. A cutover without a file has no records. Any corrupt line from the
// first record asked for on, and any corrupt line not validated before, is
// an error wrapping ErrCorruptJournal that names the file and line.
func (j *FileJournal) Read(ctx context.Context, id string, after uint64) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("journal %s: read: %w", id, context.Cause(ctx))
	}
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	st, f, release, err := j.lock(ctx, id, false)
	if err != nil || f == nil {
		return nil, err
	}
	defer release()
	return st.scan(j.Path(id), id, f, after, true)
}

// List returns the IDs of the cutovers that have a journal file with
// something in it, sorted.
func (j *FileJournal) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("journal: list: %w", context.Cause(ctx))
	}
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	var ids []string
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), fileJournalExt)
		if !ok || !e.Type().IsRegular() || ValidateID(id) != nil {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Size() > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids) // "a-b.jsonl" sorts before "a.jsonl"
	return ids, nil
}

// state returns the state of cutover id, creating it.
func (j *FileJournal) state(id string) *fileState {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := j.files[id]
	if st == nil {
		st = &fileState{}
		j.files[id] = st
	}
	return st
}

// lock opens the file of cutover id and locks it (see fileLocker.lock),
// creating it if write is set. Without write, a missing file gives a nil file
// and no error. The caller must call release.
func (j *FileJournal) lock(ctx context.Context, id string, write bool) (st *fileState, f *os.File, release func(), err error) {
	st = j.state(id)
	f, release, err = j.locker.lock(ctx, id, j.Path(id), write)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("journal %s: %w", id, err)
	}
	return st, f, release, nil
}

// scan brings the cache up to date with f, which the caller holds locked,
// validating every line not validated before; with want set it also returns
// the records with Seq greater than after. If f is not the file the cache
// describes, or shrank, it starts again from the top. On error the cache is
// dropped.
func (st *fileState) scan(path, id string, f *os.File, after uint64, want bool) ([]Record, error) {
	fi, err := f.Stat()
	if err != nil {
		st.fi = nil
		return nil, fmt.Errorf("journal %s: stat: %w", id, err)
	}
	if st.fi == nil || !os.SameFile(st.fi, fi) || fi.Size() < st.end {
		st.fi, st.end, st.offsets = fi, 0, st.offsets[:0]
	}
	known := uint64(len(st.offsets))
	start, line, next := st.end, int(known)+1, known+1
	if want && after < known {
		start, line, next = st.offsets[after], int(after)+1, after+1
	}
	size := fi.Size()
	if start >= size {
		return nil, nil
	}
	buf := make([]byte, size-start)
	if _, err := f.ReadAt(buf, start); err != nil {
		st.fi = nil
		return nil, fmt.Errorf("journal %s: read %s: %w", id, path, err)
	}
	var out []Record
	end, err := fileScan(path, id, buf, start, line, next, func(r Record, off int64) {
		if r.Seq > uint64(len(st.offsets)) {
			st.offsets = append(st.offsets, off)
		}
		if want && r.Seq > after {
			out = append(out, r)
		}
	})
	if err != nil {
		st.fi = nil
		return nil, err
	}
	st.end = max(st.end, end)
	return out, nil
}

// CorruptJournalError says where and how a journal file is corrupt. It
// unwraps to ErrCorruptJournal.
type CorruptJournalError struct {
	File   string // the journal file
	Line   int    // 1-based line number
	Offset int64  // byte offset of the start of the line
	Msg    string // what is wrong
	// Torn is set when the bad line is the last one and is incomplete (no
	// trailing newline) or not JSON at all: the mark of a write cut short
	// by a crash, which FileJournal.Repair can remove.
	Torn bool
}

// Error returns "journal <file>:<line>: <what>: corrupt journal".
func (e *CorruptJournalError) Error() string {
	return fmt.Sprintf("journal %s:%d: %s: %s", e.File, e.Line, e.Msg, ErrCorruptJournal)
}

// Unwrap returns ErrCorruptJournal.
func (e *CorruptJournalError) Unwrap() error { return ErrCorruptJournal }

// fileLine is the form of one journal line: the record with its cutover.
type fileLine struct {
	Cutover string `json:"cutover"`
	Record
}

// fileEncodeLine encodes rec of cutover id as a journal line with its
// newline, or says which field JSON cannot carry faithfully.
func fileEncodeLine(id string, rec Record) ([]byte, error) {
	if err := storageCheckType(rec.Type); err != nil {
		return nil, err
	}
	if err := storageCheckEncodable(rec); err != nil {
		return nil, err
	}
	b, err := json.Marshal(fileLine{Cutover: id, Record: rec})
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	if len(b) >= fileMaxLine {
		return nil, fmt.Errorf("record: %d bytes encoded; want < %d", len(b), fileMaxLine)
	}
	return append(b, '\n'), nil
}

// fileScan decodes journal lines from data, which starts at byte offset off
// of file path, at line number line, and must continue with Seq next. It
// calls emit with each good record and the offset of its line, and stops at
// the first bad line. It returns the offset after the last good line.
func fileScan(path, id string, data []byte, off int64, line int, next uint64, emit func(Record, int64)) (int64, error) {
	bad := func(msg string, torn bool) error {
		return &CorruptJournalError{File: path, Line: line, Offset: off, Msg: msg, Torn: torn}
	}
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return off, bad(fmt.Sprintf("torn last line: %d bytes without a trailing newline (a write cut short?)", len(data)), true)
		}
		text, last := data[:nl], nl == len(data)-1
		rec, err := fileDecodeLine(id, text)
		if err != nil {
			// Only a last line that is not JSON at all looks like a write cut
			// short; a complete object followed by more is not.
			return off, bad(err.Error(), last && !json.Valid(text) && !errors.Is(err, storageErrTrailing))
		}
		if rec.Seq != next {
			return off, bad(storageSeqMsg(rec.Seq, next), false)
		}
		emit(rec, off)
		next++
		line++
		off += int64(nl) + 1
		data = data[nl+1:]
	}
	return off, nil
}

// storageSeqMsg says what is wrong with a record numbered seq where want was
// expected.
func storageSeqMsg(seq, want uint64) string {
	switch {
	case want == 1:
		return fmt.Sprintf("first record has seq %d, want 1", seq)
	case seq < want:
		return fmt.Sprintf("seq %d after seq %d: duplicate or out of order", seq, want-1)
	}
	return fmt.Sprintf("seq %d after seq %d: gap of %d", seq, want-1, seq-want)
}

// storageErrTrailing: a journal line holds more than one JSON value.
var storageErrTrailing = errors.New("undecodable record: data after the JSON object")

// fileDecodeLine decodes one journal line (without its newline) strictly:
// unknown fields, trailing data, another cutover's record and an unknown
// record type are errors.
func fileDecodeLine(id string, text []byte) (Record, error) {
	if len(text) == 0 {
		return Record{}, errors.New("empty line")
	}
	if len(text) >= fileMaxLine {
		return Record{}, fmt.Errorf("line of %d bytes; want < %d", len(text), fileMaxLine)
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	var fl fileLine
	if err := dec.Decode(&fl); err != nil {
		return Record{}, fmt.Errorf("undecodable record: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, storageErrTrailing
	}
	switch {
	case fl.Cutover == "":
		return Record{}, fmt.Errorf("record seq %d has no cutover field", fl.Seq)
	case fl.Cutover != id:
		return Record{}, fmt.Errorf("record seq %d is of cutover %q, not %q", fl.Seq, fl.Cutover, id)
	}
	if err := storageCheckType(fl.Type); err != nil {
		return Record{}, fmt.Errorf("record seq %d: %w", fl.Seq, err)
	}
	return fl.Record, nil
}

// storageCheckEncodable returns an error naming the first field of rec that
// JSON would not carry faithfully: a string that is not valid UTF-8 (JSON
// would replace bytes silently), a NaN or infinite float (JSON has none), a
// time outside years 0-9999. It walks the record by reflection so that a
// field added to Record later is checked too.
func storageCheckEncodable(rec Record) error {
	return storageCheckValue("record", reflect.ValueOf(rec))
}

var storageTimeType = reflect.TypeFor[time.Time]()

func storageCheckValue(path string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); !utf8.ValidString(s) {
			return fmt.Errorf("%s: %q is not valid UTF-8", path, s)
		}
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s: %v is not a finite number", path, f)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return storageCheckValue(path, v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := storageCheckValue(fmt.Sprintf("%s[%d]", path, i), v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			k := fmt.Sprint(it.Key().Interface())
			if err := storageCheckValue(path+" key", it.Key()); err != nil {
				return err
			}
			if err := storageCheckValue(fmt.Sprintf("%s[%q]", path, k), it.Value()); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if v.Type() == storageTimeType {
			if y := v.Interface().(time.Time).Year(); y < 0 || y > 9999 {
				return fmt.Errorf("%s: year %d outside 0-9999", path, y)
			}
			return nil
		}
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "" {
				name = sf.Name
			}
			if err := storageCheckValue(path+"."+name, v.Field(i)); err != nil {
				return err
			}
		}
	}
	return nil
}
