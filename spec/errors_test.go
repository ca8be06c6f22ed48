package spec

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// expectedErrors reads the `# ERROR: <summary>` and `# WARNING: <summary>`
// comments of a fixture: one "line: summary" entry per comment, sorted.
func expectedErrors(src []byte) []string {
	var want []string
	for i, line := range strings.Split(string(src), "\n") {
		for _, marker := range []string{"# ERROR: ", "# WARNING: "} {
			for _, summary := range strings.Split(line, marker)[1:] {
				summary, _, _ = strings.Cut(summary, "#")
				want = append(want, fmt.Sprintf("%d: %s", i+1, strings.TrimSpace(summary)))
			}
		}
	}
	slices.Sort(want)
	return want
}

// expectedWarnings returns the "line: summary" entries of a fixture's
// `# WARNING: <summary>` comments, sorted.
func expectedWarnings(src []byte) []string {
	var want []string
	for i, line := range strings.Split(string(src), "\n") {
		for _, summary := range strings.Split(line, "# WARNING: ")[1:] {
			summary, _, _ = strings.Cut(summary, "#")
			want = append(want, fmt.Sprintf("%d: %s", i+1, strings.TrimSpace(summary)))
		}
	}
	slices.Sort(want)
	return want
}

// TestErrorFixtures loads each testdata/errors/*.hcl file alone and checks
// that its diagnostics are exactly the ones its comments announce.
func TestErrorFixtures(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/errors/*.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".hcl"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedErrors(src)
			if len(want) == 0 {
				t.Fatal("fixture announces no error")
			}
			p, diags := LoadFiles(map[string][]byte{name: src})
			if p == nil {
				t.Fatal("LoadFiles returned a nil project")
			}
			var got, warnings []string
			for _, d := range diags {
				if d.Severity == hcl.DiagWarning && d.Subject != nil {
					warnings = append(warnings, fmt.Sprintf("%d: %s", d.Subject.Start.Line, d.Summary))
				}
				if d.Subject == nil {
					t.Errorf("diagnostic without subject: %s: %s", d.Summary, d.Detail)
					continue
				}
				if d.Subject.Filename != name {
					t.Errorf("diagnostic in file %q, want %q", d.Subject.Filename, name)
				}
				if d.Detail == "" {
					t.Errorf("line %d: %s: no detail", d.Subject.Start.Line, d.Summary)
				}
				got = append(got, fmt.Sprintf("%d: %s", d.Subject.Start.Line, d.Summary))
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("diagnostics differ (-want +got):\n%s\nall diagnostics:\n%s", lineDiff(want, got), short(diags))
			}
			slices.Sort(warnings)
			if w := expectedWarnings(src); !slices.Equal(warnings, w) {
				t.Errorf("warnings differ (-want +got):\n%s", lineDiff(w, warnings))
			}
		})
	}
}

// lineDiff lists the entries only in want (-) and only in got (+).
func lineDiff(want, got []string) string {
	count := make(map[string]int)
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
	}
	var b strings.Builder
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for n := count[k]; n > 0; n-- {
			fmt.Fprintf(&b, "- %s\n", k)
		}
		for n := count[k]; n < 0; n++ {
			fmt.Fprintf(&b, "+ %s\n", k)
		}
	}
	return b.String()
}

// summariesTestedElsewhere are diagnostics that no small fixture can show:
// those without a subject (TestLoadFailures, TestUnreadableFile) and
// "Too many problems" (TestTooManyProblems).
var summariesTestedElsewhere = []string{"Cannot read spec directory", "Cannot read spec file", "No spec files", "Too many problems"}

// TestDiagnosticCoverage checks that every diagnostic summary this package
// can emit appears in some error fixture.
func TestDiagnosticCoverage(t *testing.T) {
	t.Parallel()
	patterns := emittedSummaries(t)
	if len(patterns) < 30 {
		t.Fatalf("found only %d summaries in the source; is the analysis broken?", len(patterns))
	}
	paths, err := filepath.Glob("testdata/errors/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	var announced []string
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range expectedErrors(src) {
			announced = append(announced, e[strings.Index(e, ": ")+2:])
		}
	}
	for _, p := range patterns {
		re := summaryRegexp(p)
		if slices.ContainsFunc(summariesTestedElsewhere, re.MatchString) {
			continue
		}
		if !slices.ContainsFunc(announced, re.MatchString) {
			t.Errorf("no error fixture covers the summary %q", p)
		}
	}
}

// emittedSummaries returns the summary (or summary format) of every
// diagnostic built in the package's source: errorDiag calls and
// hcl.Diagnostic literals.
func emittedSummaries(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	add := func(e ast.Expr) {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(e.Value)
			if err == nil {
				out = append(out, s)
				return
			}
		case *ast.CallExpr: // fmt.Sprintf("format", ...)
			if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" && len(e.Args) > 0 {
				if lit, ok := e.Args[0].(*ast.BasicLit); ok {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						out = append(out, s)
						return
					}
				}
			}
		case *ast.Ident: // errorDiag's own parameter
			if e.Name == "summary" {
				return
			}
		case *ast.SelectorExpr: // a rendered diagnostic's d.Summary
			if e.Sel.Name == "Summary" {
				return
			}
		}
		t.Errorf("%s: cannot analyse summary expression", fset.Position(e.Pos()))
	}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "errorDiag" && len(n.Args) == 3 {
					add(n.Args[1])
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Summary" {
					add(n.Value)
				}
			}
			return true
		})
	}
	return out
}

// summaryRegexp turns a summary format into a regexp matching its output.
func summaryRegexp(format string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(format); i++ {
		if format[i] == '%' && i+1 < len(format) {
			i++
			b.WriteString(".*")
			continue
		}
		b.WriteString(regexp.QuoteMeta(format[i : i+1]))
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
