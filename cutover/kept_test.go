package cutover

import (
	"math"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A verdict kept by the drive comes back as it was, figures included, nil
// and empty figures apart; equal verdicts share one interned text.
func TestKeptVerdictRoundTrip(t *testing.T) {
	for _, v := range []Verdict{
		{},
		{Decision: Pass, Reason: "ok", Final: true},
		{Decision: Fail, Reason: "5xx 3%", Figures: map[string]float64{}},
		{Decision: Pending, Figures: map[string]float64{"rate": 0.005, "": -1, "max": math.MaxFloat64}},
	} {
		k := keep(v)
		if diff := cmp.Diff(v, k.verdict()); diff != "" {
			t.Errorf("keep(%+v) (-want +got):\n%s", v, diff)
		}
		if (v.Figures == nil) != (k.verdict().Figures == nil) {
			t.Errorf("keep(%+v): nil figures came back as %v", v, k.verdict().Figures)
		}
	}
	a := keep(Verdict{Decision: Pass, Reason: "r", Figures: map[string]float64{"x": 1}})
	b := keep(Verdict{Decision: Pass, Reason: "r", Figures: map[string]float64{"x": 1}})
	if a.text != b.text {
		t.Error("equal verdicts were not interned as one")
	}
	got := a.verdict()
	got.Figures["x"] = 2
	if a.verdict().Figures["x"] != 1 {
		t.Error("changing a returned verdict changed the kept one")
	}
}

// memPack, sameOther and keep name every field of Record, Verdict and
// StageOutline. A field added to one of them fails here, as a reminder to
// handle it there too: otherwise the memory journal could drop it.
func TestMemRecordFields(t *testing.T) {
	for _, c := range []struct {
		typ  reflect.Type
		want []string
	}{
		{reflect.TypeFor[Record](), []string{"Seq", "Type", "Time", "Plan", "Stages", "Stage", "Index", "Action", "Gate", "Verdict",
			"Command", "Actor", "Reason", "Key", "Value", "Error", "Attempt", "Outline", "TwoPerson", "Ref", "Signed", "Identity"}},
		{reflect.TypeFor[Verdict](), []string{"Decision", "Reason", "Figures", "Final"}},
		{reflect.TypeFor[StageOutline](), []string{"Reversibility", "Window", "Bake", "Approval", "Pause", "Gates"}},
	} {
		var got []string
		for f := range c.typ.Fields() {
			got = append(got, f.Name)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("fields of %s changed (-handled +now): handle them in memPack, sameOther and keep\n%s", c.typ, diff)
		}
	}
}
