package cutover

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.uber.org/zap"
)

// RepairReport says what FileJournal.Repair did to one cutover's file.
type RepairReport struct {
	ID   string // the cutover
	File string // its journal file
	// Records is how many records the journal holds after the repair.
	Records int
	// Removed is the torn tail that was cut off (empty if the file was
	// sound); Line and Offset say where it started in the file, TornFile
	// where it was kept.
	Removed  []byte
	Line     int
	Offset   int64
	TornFile string
}

// String describes the repair in one line for an operator.
func (r RepairReport) String() string {
	if len(r.Removed) == 0 {
		return fmt.Sprintf("%s: sound, %d records, nothing removed", r.File, r.Records)
	}
	return fmt.Sprintf("%s:%d: removed a torn last line of %d bytes (kept in %s); %d records remain",
		r.File, r.Line, len(r.Removed), r.TornFile, r.Records)
}

// Repair recovers the file of cutover id after a crash left a torn last
// line: a line without its trailing newline, or a last line that is not JSON
// at all. It cuts that line off, appends it to <dir>/<id>.jsonl.torn (so
// nothing is lost; repeated repairs add to it) and replaces the journal file
// atomically with what remains, under the file's exclusive lock. The report
// says what was removed; a sound file is left alone.
//
// Repair does not touch any other kind of corruption — a bad line before the
// last one, or a last line that is JSON but out of sequence, of another
// cutover or of an unknown type: those were not made by a crash, so it
// returns the *CorruptJournalError for a person to look at.
//
// Only the last record's write can have been cut short, and a cut-short
// Append never returned success; so after Repair the journal holds exactly
// the appends that were reported durable, and a runner resumes from it.
func (j *FileJournal) Repair(ctx context.Context, id string) (RepairReport, error) {
	if err := ctx.Err(); err != nil {
		return RepairReport{}, fmt.Errorf("journal %s: repair: %w", id, context.Cause(ctx))
	}
	if err := ValidateID(id); err != nil {
		return RepairReport{}, err
	}
	path := j.Path(id)
	rep := RepairReport{ID: id, File: path}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return rep, nil // no file, nothing to repair
	}
	st, _, release, err := j.lock(ctx, id, true)
	if err != nil {
		return rep, err
	}
	defer release()
	st.fi = nil // judge the whole file afresh
	data, err := os.ReadFile(path)
	if err != nil {
		return rep, fmt.Errorf("journal %s: repair: %w", id, err)
	}
	n := 0
	_, scanErr := fileScan(path, id, data, 0, 1, 1, func(Record, int64) { n++ })
	rep.Records = n
	if scanErr == nil {
		return rep, nil
	}
	var ce *CorruptJournalError
	if !errors.As(scanErr, &ce) || !ce.Torn {
		return rep, fmt.Errorf("journal %s: repair: not a torn last line, so not repaired; fix by hand: %w", id, scanErr)
	}
	rep.Removed = append([]byte(nil), data[ce.Offset:]...)
	rep.Line, rep.Offset, rep.TornFile = ce.Line, ce.Offset, path+".torn"
	if err := fileKeepTorn(rep.TornFile, rep.Removed); err != nil {
		return rep, fmt.Errorf("journal %s: repair: keep torn line: %w", id, err)
	}
	if err := fileReplace(path, data[:ce.Offset]); err != nil {
		return rep, fmt.Errorf("journal %s: repair: %w", id, err)
	}
	j.log.Warn("journal repaired: torn last line removed",
		zap.String("cutover", id), zap.String("file", path), zap.Int("line", rep.Line),
		zap.Int("bytes", len(rep.Removed)), zap.String("kept_in", rep.TornFile), zap.Int("records", rep.Records))
	return rep, nil
}

// fileKeepTorn appends torn to the side file path, ending it with a
// newline, and fsyncs it.
func fileKeepTorn(path string, torn []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if len(torn) > 0 && torn[len(torn)-1] != '\n' {
		torn = append(torn[:len(torn):len(torn)], '\n')
	}
	if _, err := f.Write(torn); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// fileReplace atomically replaces the file at path with data: it writes a
// temporary file beside it, fsyncs it, renames it over path and fsyncs the
// directory.
func fileReplace(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return fileSyncDir(filepath.Dir(path))
}
