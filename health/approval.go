package health

import (
	"context"
	"errors"
	"fmt"

	"github.com/safecutover/safecutover/cutover"
)

// ApprovalOptions configure a manual approval gate. The zero value is valid.
type ApprovalOptions struct {
	// Name names the gate in reports; default "approval".
	Name string
	// Stage, if set, accepts only approvals for that stage (an approve
	// command whose Stage is this name); otherwise any approve command of
	// the cutover counts.
	Stage string
	// NotBy, if set, is an actor whose approvals do not count, in addition
	// to what cutover.CheckApproval refuses (the initiator under the
	// journal's two-person rule).
	NotBy string
}

type approval struct {
	j    cutover.Journal
	id   string
	opts ApprovalOptions
	recs []cutover.Record // read so far
	by   *cutover.Record
}

// NewApproval returns a gate that is Pending until the journal of cutover id
// holds a valid approve command (see cutover.Send), and passes from then
// on. Valid means what cutover.CheckApproval says, for the stage
// ApprovalOptions.Stage names: an approval naming no stage counts for
// every stage, and an approval without an actor, or by the initiator under
// the journal's two-person rule, never counts.
func NewApproval(j cutover.Journal, id string, opts ApprovalOptions) (cutover.Gate, error) {
	if j == nil {
		return nil, fmt.Errorf("approval: journal is nil")
	}
	if id == "" {
		return nil, fmt.Errorf("approval: cutover id must not be empty")
	}
	return &approval{j: j, id: id, opts: opts}, nil
}

// Name returns the gate's name.
func (g *approval) Name() string {
	if g.opts.Name != "" {
		return g.opts.Name
	}
	return "approval"
}

// Evaluate reads the journal records it has not seen yet.
func (g *approval) Evaluate(ctx context.Context) (cutover.Verdict, error) {
	if g.by == nil {
		if err := g.read(ctx); err != nil {
			return cutover.Verdict{}, err
		}
	}
	if g.by == nil {
		what := "an approval"
		if g.opts.Stage != "" {
			what = fmt.Sprintf("an approval of stage %q", g.opts.Stage)
		}
		if g.opts.NotBy != "" {
			what += fmt.Sprintf(" by someone other than %s", g.opts.NotBy)
		}
		return cutover.Verdict{Decision: cutover.Pending,
			Reason: fmt.Sprintf("waiting for %s: send the approve command to cutover %s", what, g.id)}, nil
	}
	reason := "approved by " + g.by.Actor
	if g.by.Reason != "" {
		reason += ": " + g.by.Reason
	}
	return cutover.Verdict{Decision: cutover.Pass, Reason: reason,
		Figures: map[string]float64{"seq": float64(g.by.Seq)}}, nil
}

// read reads the records not read yet and looks for a valid approval.
func (g *approval) read(ctx context.Context) error {
	var after uint64
	if n := len(g.recs); n > 0 {
		after = g.recs[n-1].Seq
	}
	more, err := g.j.Read(ctx, g.id, after)
	if err != nil {
		return fmt.Errorf("approval: read journal %s: %w", g.id, err)
	}
	if len(more) == 0 {
		return nil
	}
	from := len(g.recs)
	g.recs = append(g.recs, more...)
	st, err := cutover.Fold(g.id, g.recs)
	if err != nil {
		return fmt.Errorf("approval: %w", err)
	}
	p, err := cutover.JournalPlan(g.recs)
	if err != nil && !errors.Is(err, cutover.ErrNoOutline) {
		return fmt.Errorf("approval: %w", err)
	}
	for i := from; i < len(g.recs); i++ {
		r := &g.recs[i]
		if r.Type != cutover.RecCommand || r.Command != cutover.CmdApprove {
			continue
		}
		if g.opts.Stage != "" && r.Stage != "" && r.Stage != g.opts.Stage {
			continue
		}
		if g.opts.NotBy != "" && r.Actor == g.opts.NotBy || cutover.CheckApproval(&p, &st, r) != nil {
			continue
		}
		by := *r
		g.by = &by
		g.recs = nil // no longer needed
		return nil
	}
	return nil
}
