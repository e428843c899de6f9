package layering

import (
	"bufio"
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Graph is the import graph of one module: for each of its packages, by
// path relative to the module root ("" for the root, "providers/fake"),
// the import paths it imports outside its tests.
type Graph struct {
	Module  string              // the module path
	Imports map[string][]string // package → import paths
}

// Rule says what the packages it covers may import.
type Rule struct {
	// Packages is the package (a path relative to the module root) or,
	// ending in "/...", the tree of packages the rule covers.
	Packages string
	// May lists the packages of the module they may import, as paths or
	// trees ("providers/..."); "..." alone allows all of them.
	May []string
	// MustNot lists prefixes of import paths outside the module they must
	// not import ("github.com/aws/").
	MustNot []string
	// Why is the rule in words, for the violation.
	Why string
}

// Violation is one import a rule forbids, or a package no rule covers
// (Import empty).
type Violation struct {
	Package, Import, Why string
}

// String says what imports what and why it must not.
func (v Violation) String() string {
	if v.Import == "" {
		return fmt.Sprintf("%s: %s", show(v.Package), v.Why)
	}
	return fmt.Sprintf("%s imports %s: %s", show(v.Package), v.Import, v.Why)
}

func show(pkg string) string {
	if pkg == "" {
		return "(module root)"
	}
	return pkg
}

const (
	core       = "the core (cutover) imports no other package of the module and nothing of AWS"
	strategy   = "strategies and health import only cutover, providers and internal packages, never each other (a helper two of them need lives in providers or an internal package)"
	provider   = "provider implementations import only providers and cutover (and their own internal packages)"
	inMemory   = "the fake cloud is in memory: no AWS import (AWS wire fakes live in providers/awsprovider/awstest)"
	anyPackage = "..."
)

// Rules returns the layering of the module, most specific rule first; the
// first rule that covers a package applies. It is the table the design's
// "dependencies point one way" paragraph is checked by.
func Rules() []Rule {
	sp := []string{"cutover", "providers"}
	// What strategies and health share lives in providers or an internal
	// package (internal/settle: propagation).
	spi := []string{"cutover", "providers", "internal/..."}
	// The AWS provider's own helpers (the bound of one call attempt).
	awsp := []string{"cutover", "providers", "providers/awsprovider/internal/..."}
	return []Rule{
		{Packages: "", Why: "the root package is documentation only"},
		{Packages: "cutover", MustNot: []string{"github.com/aws/"}, Why: core},
		{Packages: "cutover/journaltest", May: []string{"cutover"}, Why: "the journal conformance suite tests the core only"},
		{Packages: "providers", May: []string{"cutover"}, Why: "providers imports only cutover"},
		{Packages: "canary", May: spi, Why: strategy},
		{Packages: "bluegreen", May: spi, Why: strategy},
		{Packages: "rolling", May: spi, Why: strategy},
		{Packages: "health", May: spi, Why: strategy},
		{Packages: "providers/fake", May: sp, MustNot: []string{"github.com/aws/"}, Why: inMemory},
		{Packages: "providers/providertest", May: sp, Why: "the provider conformance suite tests providers only"},
		{Packages: "providers/awsprovider/awstest", May: sp, Why: "the AWS wire fakes must not import the providers they are used to test, or the fakes would share code with what they check"},
		{Packages: "providers/awsprovider/managed", May: append(awsp, "providers/awsprovider"), Why: "managed deployments import only providers, cutover and the AWS provider they extend (one ECSAPI)"},
		{Packages: "providers/awsprovider", May: awsp, Why: provider},
		{Packages: "providers/prometheus", May: sp, Why: provider},
		{Packages: "journalflag", May: []string{"cutover", "providers", "providers/awsprovider"}, Why: "opening a journal needs the core and the journals of the providers, nothing above them"},
		{Packages: "report", May: []string{"cutover"}, Why: "reports are drawn from the journal alone"},
		{Packages: "notify", May: []string{"cutover"}, Why: "notifications are observers of the core's events"},
		{Packages: "sshsign", May: []string{"cutover"}, Why: "signing implements the core's Signer"},
		{Packages: "providers/awsprovider/internal/...", May: sp, Why: "the AWS provider's internal helpers import only cutover and providers"},
		{Packages: "internal/...", May: spi, Why: "internal packages hold what strategies and health share: they import only cutover, providers and each other"},
		{Packages: "cmd/...", May: []string{anyPackage}, Why: "commands import anything"},
		{Packages: "examples/...", May: []string{anyPackage}, Why: "examples import anything"},
		{Packages: "bench/...", May: []string{anyPackage}, Why: "benchmarks import anything"},
		{Packages: "reliability/...", May: []string{anyPackage}, Why: "the reliability suite imports anything"},
	}
}

// covers reports whether pattern (a path, a tree "x/..." or "...") names pkg.
func covers(pattern, pkg string) bool {
	switch {
	case pattern == anyPackage:
		return true
	case strings.HasSuffix(pattern, "/..."):
		root := strings.TrimSuffix(pattern, "/...")
		return pkg == root || strings.HasPrefix(pkg, root+"/")
	}
	return pattern == pkg
}

// Check returns every import in g that rules do not allow, and every
// package of g no rule covers, sorted by package and then by full import
// path.
func Check(g Graph, rules []Rule) []Violation {
	var out []Violation
	pkgs := make([]string, 0, len(g.Imports))
	for p := range g.Imports {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, pkg := range pkgs {
		i := slices.IndexFunc(rules, func(r Rule) bool { return covers(r.Packages, pkg) })
		if i < 0 {
			out = append(out, Violation{Package: pkg, Why: "no layering rule covers this package: add one to layering.Rules"})
			continue
		}
		r := rules[i]
		imports := slices.Sorted(slices.Values(g.Imports[pkg]))
		for _, imp := range imports {
			if rel, ok := inModule(g.Module, imp); ok {
				if rel != pkg && !slices.ContainsFunc(r.May, func(m string) bool { return covers(m, rel) }) {
					out = append(out, Violation{Package: pkg, Import: rel, Why: r.Why})
				}
				continue
			}
			if slices.ContainsFunc(r.MustNot, func(p string) bool { return strings.HasPrefix(imp, p) }) {
				out = append(out, Violation{Package: pkg, Import: imp, Why: r.Why})
			}
		}
	}
	return out
}

// inModule returns imp relative to module, if it is a package of it.
func inModule(module, imp string) (string, bool) {
	if imp == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(imp, module+"/")
	return rel, ok
}

// Load reads the module rooted at root (the folder of its go.mod): every
// package below it, except in testdata, vendor, node_modules, folders
// whose name starts with "." or "_", and nested modules, with its
// non-test imports for the current platform.
func Load(root string) (Graph, error) {
	module, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return Graph{}, err
	}
	g := Graph{Module: module, Imports: map[string][]string{}}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root {
			if name == "testdata" || name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		p, err := build.Default.ImportDir(path, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load %s: %w", path, err)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if rel == "." {
			rel = ""
		}
		g.Imports[filepath.ToSlash(rel)] = p.Imports
		return nil
	})
	if err != nil {
		return Graph{}, err
	}
	return g, nil
}

// modulePath reads the module line of a go.mod file.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", gomod, err)
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}
