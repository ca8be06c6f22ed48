package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/render")

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./spec -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// renderAll renders diags in the three forms.
func renderAll(t *testing.T, files map[string]*hcl.File, diags hcl.Diagnostics) (human, short, js []byte) {
	t.Helper()
	var h, s, j bytes.Buffer
	if err := WriteDiagnostics(&h, files, diags); err != nil {
		t.Fatal(err)
	}
	if err := WriteDiagnosticsShort(&s, diags); err != nil {
		t.Fatal(err)
	}
	if err := WriteDiagnosticsJSON(&j, diags); err != nil {
		t.Fatal(err)
	}
	return h.Bytes(), s.Bytes(), j.Bytes()
}

// TestRenderGolden renders the diagnostics of each testdata/render/*.hcl
// file in the three forms and compares them with the golden files.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/render/*.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no render inputs: %v", err)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		base := strings.TrimSuffix(path, ".hcl")
		t.Run(strings.TrimSuffix(name, ".hcl"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, diags := LoadFiles(map[string][]byte{name: src})
			if len(diags) == 0 {
				t.Fatal("no diagnostics to render")
			}
			human, short, js := renderAll(t, p.Files, diags)
			checkGolden(t, base+".txt.golden", human)
			checkGolden(t, base+".short.golden", short)
			checkGolden(t, base+".json.golden", js)
			if !json.Valid(js) {
				t.Error("JSON output is not valid JSON")
			}
		})
	}
}

// TestRenderWithoutSources renders diagnostics whose source is unknown or
// that have no subject, and a warning.
func TestRenderWithoutSources(t *testing.T) {
	t.Parallel()
	rng := hcl.Range{Filename: "gone.hcl", Start: hcl.Pos{Line: 3, Column: 5, Byte: 20}, End: hcl.Pos{Line: 3, Column: 9, Byte: 24}}
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "No spec files", Detail: "The directory \"x\" holds no *.hcl files."},
		{Severity: hcl.DiagWarning, Summary: "Deprecated argument", Detail: "Line one.\nLine two.", Subject: &rng},
		{Severity: hcl.DiagError, Summary: "No detail", Subject: &rng},
	}
	human, short, js := renderAll(t, nil, diags)
	checkGolden(t, "testdata/render/nosource.txt.golden", human)
	checkGolden(t, "testdata/render/nosource.short.golden", short)
	checkGolden(t, "testdata/render/nosource.json.golden", js)
}

// TestRenderUsesAttachedSources checks that WriteDiagnostics falls back on
// the sources Load attaches when it is given no files, so both forms
// agree.
func TestRenderUsesAttachedSources(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/render/typos.hcl")
	if err != nil {
		t.Fatal(err)
	}
	p, diags := LoadFiles(map[string][]byte{"typos.hcl": src})
	var withFiles, without bytes.Buffer
	if err := WriteDiagnostics(&withFiles, p.Files, diags); err != nil {
		t.Fatal(err)
	}
	if err := WriteDiagnostics(&without, nil, diags); err != nil {
		t.Fatal(err)
	}
	if withFiles.String() != without.String() {
		t.Errorf("rendering differs without files:\n%s\n---\n%s", withFiles.String(), without.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// TestRenderWriteError checks that writers report a failing io.Writer.
func TestRenderWriteError(t *testing.T) {
	t.Parallel()
	diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "x"}}
	for name, write := range map[string]func() error{
		"human": func() error { return WriteDiagnostics(failingWriter{}, nil, diags) },
		"short": func() error { return WriteDiagnosticsShort(failingWriter{}, diags) },
		"json":  func() error { return WriteDiagnosticsJSON(failingWriter{}, diags) },
	} {
		if err := write(); err == nil {
			t.Errorf("%s: no error from a failing writer", name)
		}
	}
}
