// Package demo is what the runnable examples share: their flags, the fake
// cloud on an accelerated clock (or saved in a -journal directory so a
// killed run resumes), the gates, the approval flow at the point of no
// return, live progress in the terminal, the closing summary (with the
// report drawn from the journal, package report), -report DIR to write
// that report as Markdown, SVG and text, and the exit status.
//
// With -aws a scenario builds the same plan over real providers instead
// (made from the flags by package awsdemo), on the real clock, journaled
// in files or in DynamoDB; Env's Router, Switcher, Fleet and Desired serve
// both modes, and Optional lets a scenario do without a resource the flags
// do not name.
//
// Exit status: 0 completed, 3 rolled back, 4 stopped before the point of
// no return waiting for an approval, 1 any other error. The summary names
// it too, since go run reports any non-zero status as its own status 1.
package demo
