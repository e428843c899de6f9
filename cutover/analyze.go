package cutover

import "time"

// Finding is one lint finding of Analyze, naming the stage it concerns.
type Finding struct {
	Index   int    // stage index, or -1 for the plan
	Stage   string // stage name
	Code    string // stable identifier, e.g. "irreversible-too-early"
	Message string // what is wrong and how to fix it
}

// Analysis is what Analyze reports about a plan.
type Analysis struct {
	// PNRIndex and PNRStage name the point of no return, the first stage
	// that is irreversible or reversible only within a window. PNRIndex is
	// -1 when every stage is reversible.
	PNRIndex int
	PNRStage string
	// ReversibleStages counts the stages before the PNR; ReversibleBake is
	// their total bake time; TotalBake is the bake time of the whole plan.
	ReversibleStages int
	ReversibleBake   time.Duration
	TotalBake        time.Duration
	Findings         []Finding
}

// Validate reports the first thing wrong with p as a *ValidationError that
// names the stage and field.
func (p Plan) Validate() error {
	panic("not implemented")
}

// Analyze reports where the PNR of p is, how much of p stays reversible, and
// lint findings about the order of its stages.
func (p Plan) Analyze() Analysis {
	panic("not implemented")
}
