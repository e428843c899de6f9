package notify_test

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/safecutover/safecutover/notify"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	parse := func(args ...string) *notify.Flags {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f notify.Flags
		f.Register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &f
	}
	cfg := &aws.Config{Region: "eu-west-1", Credentials: testCreds}
	g, err := parse().Group(context.Background(), cfg, notify.Options{})
	if err != nil || len(g) != 0 {
		t.Fatalf("no flags: %d notifiers, %v; want none", len(g), err)
	}
	g, err = parse("-notify-webhook", "http://127.0.0.1:9/x", "-notify-sns", "arn:aws:sns:eu-west-1:123456789012:deploys",
		"-notify-eventbridge", "default", "-notify-events", "completed, rolled_back").Group(context.Background(), cfg, notify.Options{})
	if err != nil || len(g) != 3 {
		t.Fatalf("three sinks: %d notifiers, %v; want 3", len(g), err)
	}
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-notify-webhook", "slack"}, "-notify-webhook"},
		{[]string{"-notify-sns", "deploys"}, "-notify-sns"},
	} {
		if _, err := parse(tc.args...).Group(context.Background(), cfg, notify.Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.args, err, tc.want)
		}
	}
}
