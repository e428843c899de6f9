package cutover_test

import (
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// A final Pass ends the bake early even when other gates pass without being
// final (an alarm that is OK now cannot conclude anything): every gate must
// pass, and at least one must have concluded.
func TestFinalPassWithNonFinalPassesEndsBake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		alarm := &resettable{name: "alarm", answer: func(int) (cutover.Verdict, error) {
			return cutover.Verdict{Decision: cutover.Pass, Reason: "alarm OK"}, nil
		}}
		judge := &resettable{name: "judge", answer: func(call int) (cutover.Verdict, error) {
			if call < 3 {
				return cutover.Verdict{Decision: cutover.Pending, Reason: "not enough evidence"}, nil
			}
			return cutover.Verdict{Decision: cutover.Pass, Final: true, Reason: "no worse than blue"}, nil
		}}
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s", time.Hour, alarm, judge)}}
		var baked time.Time
		obs := cutover.ObserverFunc(func(e cutover.Event) {
			if e.Type == cutover.EvStageBaked {
				baked = e.Time
			}
		})
		st, err := cutover.NewRunner(cutover.NewMemJournal(), cutover.Options{Observer: obs, PollInterval: poll}).Run(t.Context(), "c", p)
		if err != nil {
			t.Fatal(err)
		}
		if got := baked.Sub(st.Stages[0].AppliedAt); got != 2*poll {
			t.Errorf("bake took %s, want %s (ended by the judge's final pass)", got, 2*poll)
		}
	})
}

// A gate whose figures are not finite (a ratio over zero requests) is still
// journaled, by a journal that refuses NaN and Inf, with the figures made
// finite.
func TestNonFiniteFiguresAreJournaled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		g := &resettable{name: "ratio", answer: func(int) (cutover.Verdict, error) {
			return cutover.Verdict{Decision: cutover.Pass, Reason: "no requests on blue",
				Figures: map[string]float64{"ratio": math.Inf(1), "low": math.Inf(-1), "undefined": math.NaN(), "requests": 0}}, nil
		}}
		p := cutover.Plan{Name: "p", Stages: []cutover.Stage{c.stage("s", time.Minute, g)}}
		j, err := cutover.NewFileJournal(t.TempDir(), cutover.FileJournalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cutover.NewRunner(j, cutover.Options{PollInterval: poll}).Run(t.Context(), "c", p); err != nil {
			t.Fatal(err)
		}
		var figs map[string]float64
		for _, r := range readAll(t, j, "c") {
			if r.Type == cutover.RecVerdict {
				figs = r.Verdict.Figures
			}
		}
		want := map[string]float64{"ratio": math.MaxFloat64, "low": -math.MaxFloat64, "requests": 0}
		if len(figs) != len(want) {
			t.Fatalf("journaled figures %v, want %v", figs, want)
		}
		for k, v := range want {
			if figs[k] != v {
				t.Errorf("figure %s = %v, want %v", k, figs[k], v)
			}
		}
	})
}
