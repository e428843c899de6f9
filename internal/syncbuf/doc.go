// Package syncbuf holds Buffer, a bytes.Buffer safe for concurrent use:
// the output of a run, a child process or a logger, captured while it is
// still being written.
//
//	var out syncbuf.Buffer
//	cmd.Stdout, cmd.Stderr = &out, &out
//	// ... later, from another goroutine:
//	if strings.Contains(out.String(), "ready") { ... }
package syncbuf
