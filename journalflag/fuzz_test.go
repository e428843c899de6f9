package journalflag_test

import (
	"testing"

	"github.com/safecutover/safecutover/journalflag"
)

// FuzzParse: Parse never panics; what it accepts names exactly one journal
// and prints back as the value it came from.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", ".safecutover", "dynamodb:", "dynamodb:cutovers", "dynamodb:a/b", "dynamodb:dynamodb:x", "/tmp/x"} {
		f.Add(s, false, false)
	}
	f.Fuzz(func(t *testing.T, value string, endpoint, create bool) {
		opts := journalflag.Options{CreateTable: create}
		if endpoint {
			opts.Endpoint = "http://127.0.0.1:1"
		}
		spec, err := journalflag.Parse(value, opts)
		if err != nil {
			return
		}
		if (spec.Dir == "") == (spec.Table == "") {
			t.Fatalf("Parse(%q) = %+v: want exactly one of Dir and Table", value, spec)
		}
		if spec.Dir != "" && (endpoint || create) {
			t.Fatalf("Parse(%q) accepted a directory with a DynamoDB option", value)
		}
		if spec.String() != value {
			t.Fatalf("Parse(%q).String() = %q", value, spec.String())
		}
	})
}
