// Package cutover is the core of safecutover: it runs a plan of stages that
// move production traffic from what runs now to what should run next,
// journals every step, tracks the point of no return (PNR), and rolls back
// by itself.
//
// A Plan is a named list of Stages. Each stage has an Apply and a Revert
// (both idempotent), a Reversibility (reversible, reversible within a
// window, irreversible), a bake time and the Gates judged while it bakes.
// Plan.Validate rejects bad plans with a *ValidationError naming the stage
// and field; Plan.Analyze says where the PNR is and lints the stage order.
//
// A Runner drives a cutover, identified by an ID, through a plan:
//
//	j := cutover.NewMemJournal()
//	r, err := cutover.NewRunner(j, cutover.RunnerOptions{Actor: "alice", PollInterval: 5 * time.Second})
//	if err != nil {
//		return err // an option out of range, named: "runner options: PollInterval: ..."
//	}
//	st, err := r.Run(ctx, "checkout-2024-06-01", plan)
//	switch {
//	case err == nil:                                // completed
//	case errors.Is(err, cutover.ErrRolledBack):     // every applied stage reverted
//	case errors.Is(err, cutover.ErrPNRNotApproved): // waiting: approve, then Run again (or set RunnerOptions.WaitForApproval)
//	}
//	log.Printf("cutover %s: %s", st.ID, st.Phase)
//
// # Life cycle
//
// For each stage the runner journals an intent, calls Apply and Verify,
// journals the stage as applied, then bakes it: every PollInterval it reads
// new commands from the journal and judges every gate. A gate's verdict is
// journaled when its decision changes, and its last verdict when the bake
// ends. The stage has baked when its bake time is over and every gate
// passes; it bakes for less when every gate passes and at least one with a
// Final Pass (a sequential test has concluded), or when a promote command
// arrives (a promote also skips the stage's Pause). A
// pause command, or a stage's Pause, holds the cutover after the stage has
// baked until a resume or promote. A Fail verdict, a gate still Pending (or
// erroring) at the stage's deadline, an Apply or Verify error, an abort
// command or the caller's context being cancelled start a rollback.
//
// The bake and the deadline count from the time the stage was applied, as
// journaled; a runner that resumes a bake after a crash gives the gates,
// which start afresh, at least the stage's grace (deadline minus bake) from
// the moment it resumes.
//
// A gate that returns an error counts as Pending, with the error as its
// reason. Gates are evaluated with a context that ends one poll after the
// stage's deadline (outside a bake: after RunnerOptions.Grace), so a gate
// that hangs fails closed too; and while a gate is slow the runner
// attends to the journal as it does during a slow stage call: commands
// are answered, and an abort cuts the gate's context short (its cause
// ErrAborted) and rolls back within a poll interval. A gate that ignores
// its context does not hold the rollback: a poll after the context ended
// the runner concludes the cutover without it and releases its lease (Run
// returns once the gate does).
//
// # Rollback
//
// A rollback reverts every applied stage, and the stage that failed to
// apply (it may be partly applied), in reverse order, on a context of its
// own bounded by RunnerOptions.RevertTimeout so that a cancelled caller does not
// leave traffic half-moved. A failing Revert is journaled and retried with
// exponential backoff. The error Run returns unwraps to ErrRolledBack and to
// the cause (*GateFailedError, *StageError, ErrAborted, the context's
// cause). When the bound runs out, the journal records the cutover as
// failed and Run returns ErrRollbackIncomplete; a later Run on the same ID
// continues the rollback.
//
// # Point of no return
//
// The PNR is the first stage that is irreversible or reversible only
// within a window. The runner never applies a stage that is Irreversible or
// has Approval set without an approve command in the journal that
// CheckApproval accepts (the one home of the approval rule): naming the
// stage or no stage (which approves every approval point), with an actor,
// and, under the two-person rule of the journal's start record, from
// someone other than the initiator. A window opens when its stage is
// applied; EvPNRApproaching is emitted RunnerOptions.PNRWarning before it
// closes, and when it would close within a poll interval without an
// approval the runner rolls back while it still can. The runner never
// leaves an open, unapproved window behind: it waits for the approval,
// watching green, whatever RunnerOptions.WaitForApproval says; ErrPNRNotApproved
// is a stop before a stage that needs an approval is applied. An approval
// written after a window closed is refused.
//
// Every phase counts: from the first stage applied until the PNR is
// crossed, green is judged in every phase the runner waits in — bakes,
// pauses, approval waits, open windows, the waits of the next stage's
// Apply or Verify (through Poll: a rolling batch's warm-up, a managed
// deployment, a read-back) each time they add up to a poll interval, and
// the waits between its attempts while it fails with transient errors — by
// the gates of the last stage applied (strategies add their background
// gates to every stage), and a Fail rolls back as in a bake (a waiting
// Apply is cut short first). A call that blocks without waiting through
// Poll is not judged during; the watch resumes when it returns. Before
// a stage that cannot be undone is applied, green is judged afresh (at
// least one gate passing, none failing), so a Run resumed hours after it
// stopped at the PNR rolls back a green gone bad.
// State.Judged and PNRStatus.Judged say when green was last judged.
//
// A Run whose context is cancelled with the cause ErrSuspended stops
// without rolling back: it journals RecSuspended (where the cutover
// stands), releases its lease and returns an error wrapping ErrSuspended;
// the next Run resumes exactly there. A Run whose lease is held waits up to
// a LeaseTTL and a poll for it (EvLeaseWait), since its holder may have
// died.
// A failure after the PNR reverts only the stages applied after it and
// returns ErrPNRCrossed; the cutover waits, failed, for a resume command
// (green fixed), after which a Run applies those stages again. An irreversible stage whose Apply fails cannot be
// reverted either (it may have partly happened), so it is rolled forward:
// applied again with backoff within RunnerOptions.RevertTimeout, and, if that
// bound runs out, by a later Run. A caller cancelling after the PNR stops
// the run without reverting anything (a cancellation is no evidence against
// green); a later Run goes on from the journal. Track gives the tracker's
// view at any moment.
//
// # Journal, commands, resume
//
// The Journal is append-only with compare-and-append on the sequence
// number; State is a Fold over its records. Send writes a command (pause,
// resume, promote, abort, approve) from any process; the runner obeys it
// within one poll and journals an answer (RecAck) that says what it does
// about it, or why it refuses it — also while a stage's Apply, Verify or
// Revert, or a gate, is slow or hung: the runner keeps polling the journal
// while the call runs, answers what it takes in, and, for a reversible stage's
// Apply or Verify, cancels the call's context (its cause ErrAborted, or
// the ErrPNRNotApproved of an earlier stage's window about to close) and
// rolls back as soon as the call returns. Send refuses a cutover that has ended
// (ErrEnded). Run on an ID with records resumes: a stage whose intent
// is journaled but whose outcome is not is applied (or reverted) again. An
// error from the journal other than a lost race stops the runner at once
// without acting further, so the journal never falls behind the cloud. A
// Lease, if set, keeps a second runner from driving the same cutover.
//
// Remember and Recall let a stage keep data (a deployment ID) in the
// journal for a resumed runner; NoteTraffic journals the weights a stage
// set. The start record carries an outline of the plan (reversibility,
// windows, bakes, approvals), so that JournalPlan and Track tell a tool
// that reads only the journal whether, and until when, rollback is
// possible; journals that implement Lister enumerate their cutovers.
//
// # Signed commands
//
// Without RunnerOptions.Approvers, whoever can write the journal can steer a
// cutover under any name. With it, the runner takes only commands signed
// (SendSigned) by a configured key whose entry allows them — start,
// approve, abort, promote, pause/resume — and answers every other with a
// refusal that says why (unsigned, unknown key, wrong role, bad
// signature, replayed) while nothing moves. RunnerOptions.Signer signs the
// start, and the two-person rule then compares keys, not names. The
// signature covers a canonical Payload: cutover, PlanHash, command,
// stage, actor, reason, time and a nonce. The Signer and KeyVerifier
// interfaces are implemented for SSH keys by package sshsign and for AWS
// KMS keys by package providers/awsprovider; Approvers.VerifyJournal
// audits a journal.
//
// # Waiting and retrying
//
// Poll is the one bounded wait of the module: Until checks a condition on
// a Clock, then again after each interval, until it holds, the check
// fails, the context ends, or its Timeout or Attempts run out, which is a
// *WaitTimeoutError wrapping ErrWaitTimeout that names what was waited
// for and what the last check saw. Backoff is the one spacing of retries:
// doubling from Initial up to the cap Max, with optional Jitter. The
// runner's retries, the gates' retries, the providers' read-backs and AWS
// waiters use them; so can a stage of your own:
//
//	err := cutover.Poll{
//		What:     "DNS answers green",
//		Interval: cutover.Backoff{Initial: time.Second, Max: 10 * time.Second},
//		Timeout:  5 * time.Minute,
//		Clock:    clock,
//	}.Until(ctx, func(ctx context.Context) (bool, string, error) {
//		addr, err := lookup(ctx)
//		return addr == greenAddr, "answers " + addr, err
//	})
package cutover
