package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/safecutover/safecutover/internal/promtest"
)

func needPrometheus(t *testing.T) {
	if _, err := promtest.Binary(); err != nil {
		if os.Getenv(promtest.EnvRequire) != "" {
			t.Fatalf("%s is set: %v", promtest.EnvRequire, err)
		}
		t.Skip(err.Error())
	}
}

func TestExample(t *testing.T) {
	needPrometheus(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-scrape", "250ms", "-rate", "20000"}, "completed after"},
		{[]string{"-scrape", "250ms", "-rate", "20000", "-bad-green"}, "rolled_back after"},
	} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), tc.args, &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s%s", tc.args, err, out.String(), errOut.String())
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Fatalf("%v: output\n%s\nwant %q", tc.args, out.String(), tc.want)
		}
	}
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"-scrape", "1ms"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "-scrape 1ms") {
		t.Fatalf("-scrape 1ms: %v, want an error naming the flag", err)
	}
}
