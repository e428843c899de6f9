// Command operated drives a cutover on the fake cloud that a person steers
// with cutoverctl from another terminal: it is the runner half of the
// operator's command line. Green is stood up beside blue, traffic moves to
// it by canary weights (10 %, 50 %, 100 %) judged against blue, blue is
// kept warm, and then the runner waits — for as long as it runs — for an
// approval to retire blue, the point of no return.
//
// Run it in one terminal:
//
//	go run ./examples/operated -journal /tmp/cut
//
// and steer it from another:
//
//	go run ./cmd/cutoverctl -journal /tmp/cut list
//	go run ./cmd/cutoverctl -journal /tmp/cut show operated -watch
//	go run ./cmd/cutoverctl -journal /tmp/cut pause operated
//	go run ./cmd/cutoverctl -journal /tmp/cut resume operated
//	go run ./cmd/cutoverctl -journal /tmp/cut approve operated -as bob -reason "error rate flat"
//	go run ./cmd/cutoverctl -journal /tmp/cut abort operated -reason "p99 up"
//
// The journal is a directory (a file journal and a file lease; the fake
// cloud is saved beside them, so a killed runner started again with the
// same command resumes) or dynamodb:TABLE, a DynamoDB journal and lease in
// one table that runners and operators on several machines share
// (-create-table creates it; -endpoint URL points at a local server such as
// dynalite). The clock is accelerated (-speed, simulated seconds per wall
// second): -bake sets each canary step's bake and -warm how long blue is
// kept warm, in simulated time. -two-person makes the runner refuse an
// approval by its -actor (default: the OS user); -bad-green makes green
// fail a gate, and the cutover rolls back by itself. -timeout bounds the
// run: when it runs out, or on Ctrl-C, the runner rolls back if it still can.
//
// -keys DIR shows signed commands: the first time, it makes two throwaway
// SSH keys in DIR (the initiator's and an approver's, never to be reused)
// and an allowed_signers file; the runner then signs the start with the
// initiator's key and takes only commands signed by a configured key, and
// the approval must come from the other key:
//
//	go run ./examples/operated -journal /tmp/cut -keys /tmp/cut-keys
//	go run ./cmd/cutoverctl -journal /tmp/cut approve operated -as approver -sign-key /tmp/cut-keys/approver -reason "error rate flat"
//	go run ./cmd/cutoverctl -journal /tmp/cut verify operated -allowed-signers /tmp/cut-keys/allowed_signers
//
// Exit status: 0 completed, 3 rolled back, 2 a bad command line, 1 any
// other error (stopped past the point of no return, journal unreachable).
package main
