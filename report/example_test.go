package report_test

import (
	"os"
	"time"

	"github.com/safecutover/safecutover/report"
)

// A report on a cutover that is still running: blue is kept warm for an
// hour, so rollback is possible until that window closes.
func Example() {
	recs := windowJournal() // what journal.Read(ctx, "checkout-42", 0) returned
	r, err := report.Build("checkout-42", recs, report.Options{Now: recs[0].Time.Add(25 * time.Minute)})
	if err != nil {
		panic(err)
	}
	_ = r.WriteText(os.Stdout, report.TextOptions{Width: 72})
	// Output:
	// cutover checkout-42 · plan “checkout”
	//   result    waiting for an approval: stage "retire blue" (irreversible)
	//             needs an approval before it is applied
	//   stage     “retire blue”
	//   started   2025-06-01 09:00:00 UTC by alice
	//   reported  2025-06-01 09:25:00 UTC (+25m), still open
	//   time      25m in all; rollback possible for 25m of it
	//   rollback  possible until 2025-06-01 10:10:02 UTC (+1h10m2s), 45m2s
	//             after this report
	//   PNR       “keep blue” (stage 2), not crossed; not approved
	//
	// stages
	//   #  stage         reversible    started  applied  ended   outcome
	//   1  shift         reversible    +1s      +3s      +10m    baked
	//   2  keep blue  ⚑  for 1h        +10m1s   +10m2s   +10m3s  baked
	//   3  retire blue   irreversible  –        –        –       waiting for an approval
	//   ⚑ the point of no return
	//
	// gate verdicts (the last of each gate in each stage, and every fail; 2 in
	//   the journal)
	//   +10m      “shift” · “errors”: pass
	//             0.4% ≤ 1%
	//             rate=0.004 requests=12000
	//
	// approvals
	//   none
	//
	// traffic
	//   +2s       shift        blue 0% · green 100%
}
