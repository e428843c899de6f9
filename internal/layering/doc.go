// Package layering states which packages of the module may import which,
// and checks an import graph against it. The rules are those of the
// design: the core (cutover) imports no other package of the module and
// nothing of AWS; providers imports only cutover; strategies (canary,
// bluegreen, rolling) and health import only cutover, providers and the
// internal packages that hold what they share, never each other; provider
// implementations import only providers and cutover, and the in-memory
// cloud nothing of AWS; commands, examples, benchmarks and the
// reliability suite import anything.
//
// Its test loads the module's own graph (non-test imports, with go/build)
// and fails on any import the rules do not allow, and on any package they
// do not cover, so that a new package gets a rule of its own:
//
//	g, err := layering.Load(root)
//	for _, v := range layering.Check(g, layering.Rules()) {
//		fmt.Println(v) // rolling imports bluegreen: strategies and health import only cutover, providers and …
//	}
package layering
