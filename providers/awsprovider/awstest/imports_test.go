package awstest_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsNoProvider: awstest is the fake side of the wire; it must not
// import the providers it is used to test (awsprovider and below), or the
// fakes would start sharing code with what they check.
func TestImportsNoProvider(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Imports) == 0 {
		t.Fatal("no imports read: the test proves nothing")
	}
	const module = "github.com/safecutover/safecutover/"
	allowed := map[string]bool{module + "cutover": true, module + "providers": true}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, module) && !allowed[imp] {
			t.Errorf("awstest imports %s; it may import only cutover and providers of this module", imp)
		}
	}
}
