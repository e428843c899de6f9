//go:build unix

package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/safecutover/safecutover/cutover"
)

// A crash cut the last append short. Reading reports it with the file and
// line, appending is refused, and Repair moves the torn line aside.
func ExampleFileJournal_Repair() {
	dir, _ := os.MkdirTemp("", "journal")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	j, _ := cutover.NewFileJournal(dir, cutover.FileJournalOptions{})
	_ = j.Append(ctx, "checkout", cutover.Record{Seq: 1, Type: cutover.RecStart, Plan: "canary"})
	_ = j.Append(ctx, "checkout", cutover.Record{Seq: 2, Type: cutover.RecIntent, Stage: "5%", Action: "apply"})

	// The crash: half a line at the end of the file.
	f, _ := os.OpenFile(j.Path("checkout"), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString(`{"cutover":"checkout","seq":3,"type":"appl`)
	_ = f.Close()

	_, err := j.Read(ctx, "checkout", 0)
	var ce *cutover.CorruptJournalError
	fmt.Println(errors.As(err, &ce), ce.Line, ce.Torn, ce.Msg)
	err = j.Append(ctx, "checkout", cutover.Record{Seq: 3, Type: cutover.RecApplied})
	fmt.Println("append refused:", errors.Is(err, cutover.ErrCorruptJournal))

	rep, err := j.Repair(ctx, "checkout")
	fmt.Println(err, rep.Line, rep.Records, string(rep.Removed))
	recs, err := j.Read(ctx, "checkout", 0)
	fmt.Println(len(recs), err)
	// Output:
	// true 3 true torn last line: 42 bytes without a trailing newline (a write cut short?)
	// append refused: true
	// <nil> 3 2 {"cutover":"checkout","seq":3,"type":"appl
	// 2 <nil>
}
