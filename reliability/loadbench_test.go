package reliability_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
)

// BenchmarkLoadCutover runs the load test's cutover (a 5-step canary on
// the fake cloud and the memory journal) once per iteration, on a clock a
// million times the wall clock. With -benchmem, B/op is what one cutover
// allocates in all (plan, runner, journal, fake cloud and gate);
// records/op is how many journal records it keeps (counted by a read
// that is not measured).
//
//	go test -run '^$' -bench BenchmarkLoadCutover -benchmem ./reliability
func BenchmarkLoadCutover(b *testing.B) {
	clock, err := cutover.NewScaledClock(time.Time{}, 1e6)
	if err != nil {
		b.Fatal(err)
	}
	cloud := fake.MustNew(fake.Options{Clock: clock, MaxCalls: -1})
	j := cutover.NewMemJournal()
	var records int
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("load-%07d", i)
		_, p, err := loadPlan(cloud, clock, id, 30*time.Second, 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		st, err := cutover.MustNewRunner(j, cutover.RunnerOptions{Actor: initiator, Clock: clock, PollInterval: 10 * time.Second}).Run(context.Background(), id, p)
		if err != nil || st.Phase != cutover.PhaseCompleted {
			b.Fatalf("%s: %s: %v", id, st.Phase, err)
		}
		// The count is not the cutover's cost: the read is not measured.
		b.StopTimer()
		recs, err := j.Read(context.Background(), id, 0)
		if err != nil {
			b.Fatal(err)
		}
		records += len(recs)
		b.StartTimer()
	}
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
}
