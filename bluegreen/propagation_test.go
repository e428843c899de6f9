package bluegreen_test

import (
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/bluegreen"
	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/fake"
)

// A rollback window can never be shorter than the time clients take to
// follow a switch (a DNS TTL): the constructor refuses such options, naming
// them.
func TestPropagationBoundsWindows(t *testing.T) {
	t.Parallel()
	cloud := fake.MustNew(fake.Options{})
	pass := cutover.GateFunc(nil)
	for _, tc := range []struct {
		name string
		opts bluegreen.Options
		want string
	}{
		{"warm window shorter", bluegreen.Options{Window: time.Minute, Propagation: 5 * time.Minute}, "Options.Window"},
		{"bake shorter with gates", bluegreen.Options{Bake: time.Minute, Propagation: 5 * time.Minute, Gates: []cutover.Gate{cutover.Named("ok", pass)}}, "Options.Bake"},
		{"negative", bluegreen.Options{Propagation: -time.Second}, "Options.Propagation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Router = cloud.Router("dns-"+tc.name, "blue", "green")
			if _, err := bluegreen.New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one naming %s", err, tc.want)
			}
		})
	}
	ok := bluegreen.Options{Router: cloud.Router("dns-ok", "blue", "green"), Bake: 5 * time.Minute, Window: time.Hour, Propagation: 5 * time.Minute}
	if _, err := bluegreen.New(ok); err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
}
