package cutover_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/safecutover/safecutover/cutover"
)

func TestRunCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCloud()
		j := cutover.NewMemJournal()
		rec := &recorder{}
		r := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: "alice", Observer: rec, PollInterval: 10 * time.Second})
		start := time.Now()
		st, err := r.Run(t.Context(), "c1", c.plan(3, time.Minute))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if st.Phase != cutover.PhaseCompleted {
			t.Errorf("phase %s, want completed", st.Phase)
		}
		if got, want := time.Since(start), 3*time.Minute; got != want {
			t.Errorf("took %s, want %s", got, want)
		}
		if diff := cmp.Diff(foldAll(t, j, "c1"), st); diff != "" {
			t.Errorf("Run's state differs from the journal's fold (-fold +run):\n%s", diff)
		}
		if v := st.Stages[2].Verdicts["ok"]; v.Decision != cutover.Pass {
			t.Errorf("verdicts of s2: %v", st.Stages[2].Verdicts)
		}
		if diff := cmp.Diff([]string{"s0", "s1", "s2"}, c.Applied()); diff != "" {
			t.Errorf("cloud (-want +got):\n%s", diff)
		}
		want := []string{"start", "intent:apply s0", "applied s0", "verdict s0", "baked s0",
			"intent:apply s1", "applied s1", "verdict s1", "baked s1",
			"intent:apply s2", "applied s2", "verdict s2", "baked s2", "completed"}
		if diff := cmp.Diff(want, recTypes(readAll(t, j, "c1"))); diff != "" {
			t.Errorf("journal (-want +got):\n%s", diff)
		}
		if n := rec.Count(cutover.EvGateJudged); n != 3*7 {
			t.Errorf("%d gate_judged events, want 21", n)
		}
		// A second Run on a completed cutover changes nothing.
		st2, err := r.Run(context.Background(), "c1", c.plan(3, time.Minute))
		if err != nil || st2.LastSeq != st.LastSeq {
			t.Errorf("rerun: %v, seq %d, want nil, %d", err, st2.LastSeq, st.LastSeq)
		}
	})
}
