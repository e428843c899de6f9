package health

import (
	"context"
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
	// NotBy, if set, is an actor whose approvals do not count (the
	// initiator, for a two-person rule).
	NotBy string
}

type approval struct {
	j    cutover.Journal
	id   string
	opts ApprovalOptions
	seq  uint64 // records read so far
	by   *cutover.Record
}

// NewApproval returns a gate that is Pending until the journal of cutover id
// holds an approve command (see cutover.Send), and passes from then on.
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
		recs, err := g.j.Read(ctx, g.id, g.seq)
		if err != nil {
			return cutover.Verdict{}, fmt.Errorf("approval: read journal %s: %w", g.id, err)
		}
		for i := range recs {
			r := recs[i]
			g.seq = r.Seq
			if r.Type != cutover.RecCommand || r.Command != cutover.CmdApprove {
				continue
			}
			if g.opts.Stage != "" && r.Stage != g.opts.Stage {
				continue
			}
			if g.opts.NotBy != "" && r.Actor == g.opts.NotBy {
				continue
			}
			g.by = &r
			break
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
	if g.by.Actor == "" {
		reason = "approved"
	}
	if g.by.Reason != "" {
		reason += ": " + g.by.Reason
	}
	return cutover.Verdict{Decision: cutover.Pass, Reason: reason,
		Figures: map[string]float64{"seq": float64(g.by.Seq)}}, nil
}
