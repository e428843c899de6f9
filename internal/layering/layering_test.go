package layering_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/internal/layering"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
)

// TestModuleLayering checks the module's own import graph against the
// rules: it fails on an import the design forbids (a strategy importing
// another, the core importing a provider, AWS in the fake cloud) and on a
// package no rule covers.
func TestModuleLayering(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	g, err := layering.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	// The graph is the real one: a package this test knows must be in it
	// with the imports it knows, or the check would pass on nothing.
	for _, pkg := range []string{"cutover", "providers", "canary", "bluegreen", "rolling", "health", "providers/fake", "internal/layering"} {
		if _, ok := g.Imports[pkg]; !ok {
			t.Fatalf("package %s not loaded from %s", pkg, root)
		}
	}
	if !contains(g.Imports["bluegreen"], g.Module+"/providers") {
		t.Fatalf("bluegreen's imports %v do not include providers: graph not loaded", g.Imports["bluegreen"])
	}
	for _, v := range layering.Check(g, layering.Rules()) {
		t.Error(v)
	}
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// TestCheckFindsViolations runs the rules on a made-up graph with one
// violation of each kind, so that the check is seen to fail.
func TestCheckFindsViolations(t *testing.T) {
	const m = "example.com/mod"
	g := layering.Graph{Module: m, Imports: map[string][]string{
		"":                                       nil,
		"cutover":                                {"context", "go.uber.org/zap", m + "/providers", "github.com/aws/aws-sdk-go-v2/aws"},
		"providers":                              {m + "/cutover"},
		"canary":                                 {m + "/cutover", m + "/providers", m + "/internal/settle"},
		"internal/settle":                        {m + "/cutover", m + "/providers", m + "/canary"},
		"bluegreen":                              {m + "/cutover", m + "/providers", m + "/canary"},
		"rolling":                                {m + "/cutover", m + "/providers", m + "/bluegreen", m + "/providers/fake"},
		"health":                                 {m + "/cutover", m + "/providers", "net/http"},
		"providers/fake":                         {m + "/cutover", m + "/providers", "github.com/aws/smithy-go/encoding/cbor"},
		"providers/awsprovider":                  {m + "/cutover", m + "/providers", "github.com/aws/aws-sdk-go-v2/aws", m + "/examples/internal/demo", m + "/providers/awsprovider/internal/awscall"},
		"providers/awsprovider/internal/awscall": {"net/http", m + "/providers/awsprovider"},
		"internal/tool":                          {m + "/providers/awsprovider", m + "/cmd/cutoverctl"},
		"examples/canary":                        {m + "/canary", m + "/cutover", m + "/examples/internal/demo"},
		"brandnew":                               {m + "/cutover"},
	}}
	got := layering.Check(g, layering.Rules())
	type found struct{ Package, Import string }
	var pairs []found
	for _, v := range got {
		if v.Why == "" {
			t.Errorf("%v: no reason given", v)
		}
		pairs = append(pairs, found{v.Package, v.Import})
	}
	want := []found{
		{"bluegreen", "canary"},
		{"brandnew", ""},
		{"cutover", "providers"},
		{"cutover", "github.com/aws/aws-sdk-go-v2/aws"},
		{"internal/settle", "canary"},
		{"internal/tool", "cmd/cutoverctl"},
		{"internal/tool", "providers/awsprovider"},
		{"providers/awsprovider", "examples/internal/demo"},
		{"providers/awsprovider/internal/awscall", "providers/awsprovider"},
		{"providers/fake", "github.com/aws/smithy-go/encoding/cbor"},
		{"rolling", "bluegreen"},
		{"rolling", "providers/fake"},
	}
	if diff := cmp.Diff(want, pairs); diff != "" {
		t.Errorf("violations (-want +got):\n%s\nall: %v", diff, got)
	}
	if s := got[len(got)-1].String(); s != "rolling imports providers/fake: strategies and health import only cutover, providers and internal packages, never each other (a helper two of them need lives in providers or an internal package)" {
		t.Errorf("violation reads %q", s)
	}
}

// TestOneErrWaitTimeout: the providers' ErrWaitTimeout is the core's, so
// errors.Is works whichever package a caller names.
func TestOneErrWaitTimeout(t *testing.T) {
	err := &cutover.WaitTimeoutError{What: "x"}
	for name, target := range map[string]error{
		"cutover": cutover.ErrWaitTimeout, "awsprovider": awsprovider.ErrWaitTimeout, "managed": managed.ErrWaitTimeout,
	} {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(WaitTimeoutError, %s.ErrWaitTimeout) = false", name)
		}
	}
}
