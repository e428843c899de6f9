package safecutover_test

// TestDocSnippets builds every Go snippet of README.md and docs/*.md, so
// the documentation cannot drift from the code.
//
// A ```go block that starts with "package" is a whole file and is built
// as it is. Any other block is a fragment: it becomes the body of
//
//	func snippet(ctx context.Context, GIVENS) error { BODY; return nil }
//
// where GIVENS are the parameters an HTML comment right above the block
// declares — <!-- snippet: cfg aws.Config, journal cutover.Journal --> —
// for what the fragment takes from the text around it. Imports are added
// for the packages the fragment names (see snippetImports), and every
// variable the fragment declares at its top level is used once at its
// end, so a fragment may stop where the reader goes on. Errors are
// reported at the Markdown file's own lines.
//
// The snippets are built through an overlay (go build -overlay): nothing
// is written into the repository.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// snippetImports maps a package name a fragment may use to its import
// path.
var snippetImports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "log": "log", "os": "os", "time": "time",
	"cutover": "github.com/safecutover/safecutover/cutover", "canary": "github.com/safecutover/safecutover/canary",
	"bluegreen": "github.com/safecutover/safecutover/bluegreen", "rolling": "github.com/safecutover/safecutover/rolling",
	"health": "github.com/safecutover/safecutover/health", "providers": "github.com/safecutover/safecutover/providers",
	"fake": "github.com/safecutover/safecutover/providers/fake", "report": "github.com/safecutover/safecutover/report",
	"awsprovider": "github.com/safecutover/safecutover/providers/awsprovider",
	"managed":     "github.com/safecutover/safecutover/providers/awsprovider/managed",
	"aws":         "github.com/aws/aws-sdk-go-v2/aws", "config": "github.com/aws/aws-sdk-go-v2/config",
	"dynamodb": "github.com/aws/aws-sdk-go-v2/service/dynamodb", "elbv2": "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2",
	"autoscaling": "github.com/aws/aws-sdk-go-v2/service/autoscaling", "elasticbeanstalk": "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk",
	"ecs": "github.com/aws/aws-sdk-go-v2/service/ecs", "cloudwatch": "github.com/aws/aws-sdk-go-v2/service/cloudwatch",
	"zap": "go.uber.org/zap", "sshsign": "github.com/safecutover/safecutover/sshsign",
	"prometheus": "github.com/safecutover/safecutover/providers/prometheus", "notify": "github.com/safecutover/safecutover/notify",
	"journalflag": "github.com/safecutover/safecutover/journalflag",
}

// docSnippet is one ```go block.
type docSnippet struct {
	file   string // as the test names it: README.md, docs/iam.md
	line   int    // of the block's first line of code
	givens string // from <!-- snippet: ... -->
	code   string
}

var givensRE = regexp.MustCompile(`^<!--\s*snippet:\s*(.*?)\s*-->$`)

// docSnippets returns the ```go blocks of file.
func docSnippets(t *testing.T, file string) []docSnippet {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out            []docSnippet
		cur            *docSnippet
		prev           string
		n              int
		body           []string
		givensForBlock string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			if m := givensRE.FindStringSubmatch(strings.TrimSpace(prev)); m != nil {
				givensForBlock = m[1]
			} else {
				givensForBlock = ""
			}
			cur, body = &docSnippet{file: filepath.ToSlash(file), line: n + 1, givens: givensForBlock}, nil
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = strings.Join(body, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body = append(body, line)
		}
		prev = line
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Errorf("%s:%d: a ```go block that never ends", file, cur.line)
	}
	return out
}

// source returns the Go file that builds s.
func (s docSnippet) source() (string, error) {
	if strings.HasPrefix(strings.TrimSpace(s.code), "package ") {
		return fmt.Sprintf("//line %s:%d\n%s", s.file, s.line, s.code), nil
	}
	givens := s.givens
	wrapped := fmt.Sprintf("package main\n\nfunc snippet(ctx context.Context, %s) error {\n%s\nreturn nil\n}\n", givens, s.code)
	f, err := parser.ParseFile(token.NewFileSet(), "", wrapped, parser.SkipObjectResolution)
	if err != nil {
		return "", fmt.Errorf("%s:%d: snippet does not parse: %w", s.file, s.line, err)
	}
	names := map[string]bool{"context": true}
	var declared []string
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && snippetImports[id.Name] != "" {
				names[id.Name] = true
			}
		}
		return true
	})
	fn := f.Decls[0].(*ast.FuncDecl)
	for _, st := range fn.Body.List {
		if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			for _, l := range as.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name != "_" && !slices.Contains(declared, id.Name) {
					declared = append(declared, id.Name)
				}
			}
		}
	}
	// A name the givens or the fragment declare is no package.
	for _, g := range strings.Split(givens, ",") {
		if fs := strings.Fields(g); len(fs) > 0 {
			delete(names, fs[0])
		}
	}
	for _, d := range declared {
		delete(names, d)
	}
	names["context"] = true
	var imports []string
	for n := range names {
		imports = append(imports, fmt.Sprintf("%s %q", n, snippetImports[n]))
	}
	sort.Strings(imports)
	var use strings.Builder
	for _, d := range declared {
		fmt.Fprintf(&use, "_ = %s\n", d)
	}
	return fmt.Sprintf("package main\n\nimport (\n%s\n)\n\nfunc main() {}\n\nfunc snippet(ctx context.Context, %s) error {\n_ = ctx\n//line %s:%d\n%s\n%sreturn nil\n}\n",
		strings.Join(imports, "\n"), givens, s.file, s.line, s.code, use.String()), nil
}

func TestDocSnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every snippet: not in -short")
	}
	files, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"README.md"}, files...)
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	overlay := map[string]string{}
	var pkgs []string
	where := map[string]docSnippet{}
	for _, file := range files {
		for i, s := range docSnippets(t, file) {
			src, err := s.source()
			if err != nil {
				t.Error(err)
				continue
			}
			name := fmt.Sprintf("%s_%d", regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(file), "_"), i+1)
			real := filepath.Join(tmp, name+".go")
			if err := os.WriteFile(real, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			overlay[filepath.Join(root, "internal", "docsnippets", name, "main.go")] = real
			pkgs = append(pkgs, "./internal/docsnippets/"+name)
			where[name] = s
		}
	}
	if len(pkgs) < 6 {
		t.Fatalf("found %d Go snippets in README.md and docs/*.md; want at least 6 (is the test run from the repository's root?)", len(pkgs))
	}
	ov, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	ovFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovFile, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "bin") + string(filepath.Separator)
	cmd := exec.Command("go", append([]string{"build", "-overlay", ovFile, "-o", bin}, pkgs...)...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Name every snippet that failed, by its file and line, with the
		// compiler's errors (which carry the Markdown's own lines).
		failed := false
		for name, s := range where {
			if strings.Contains(string(out), "docsnippets/"+name+"\n") || strings.Contains(string(out), "docsnippets/"+name+" ") {
				t.Errorf("the Go snippet at %s:%d does not build", s.file, s.line)
				failed = true
			}
		}
		if !failed {
			t.Errorf("go build of the snippets failed")
		}
		t.Errorf("%s", out)
	}
}
