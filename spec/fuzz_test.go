package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad loads arbitrary pairs of files: loading and rendering must never
// panic, every diagnostic of a file must have a subject in it, and a
// project without errors must be complete.
//
//	go test ./spec -run '^$' -fuzz FuzzLoad -fuzztime 60s
func FuzzLoad(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"testdata/valid/*/*.hcl", "testdata/errors/*.hcl", "testdata/render/*.hcl"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, paths...)
	}
	if len(seeds) == 0 {
		f.Fatal("no seeds")
	}
	for _, path := range seeds {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, []byte(nil))
	}
	f.Add([]byte("project \"p\" {\n  title = \"P\"\n}\n"), []byte("model \"m\" {\n  field \"x\" {\n    type = \"string\"\n  }\n}\n"))

	f.Fuzz(func(t *testing.T, a, b []byte) {
		files := map[string][]byte{"a.hcl": a}
		if b != nil {
			files["b.hcl"] = b
		}
		p, diags := LoadFiles(files)
		if p == nil {
			t.Fatal("nil project")
		}
		for _, d := range diags {
			if d == nil {
				t.Fatal("nil diagnostic")
			}
			if d.Subject == nil {
				t.Fatalf("diagnostic without subject: %s: %s", d.Summary, d.Detail)
			}
			if _, ok := files[d.Subject.Filename]; !ok {
				t.Fatalf("diagnostic in unknown file %q", d.Subject.Filename)
			}
		}
		if !diags.HasErrors() {
			if p.Name == "" || strings.TrimSpace(p.Title) == "" || len(p.Languages) == 0 {
				t.Fatalf("valid project incomplete: %+v", p)
			}
			for _, m := range p.Models {
				checkFields(t, m.Fields)
			}
		}
		var out bytes.Buffer
		if err := WriteDiagnostics(&out, p.Files, diags); err != nil {
			t.Fatal(err)
		}
		if err := WriteDiagnosticsShort(&out, diags); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if err := WriteDiagnosticsJSON(&out, diags); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("invalid JSON: %s", out.Bytes())
		}
	})
}

// checkFields checks invariants of a valid project's fields.
func checkFields(t *testing.T, fields []*Field) {
	t.Helper()
	for _, f := range fields {
		switch f.Type {
		case TypeObject:
			if len(f.Fields) == 0 {
				t.Fatalf("object field %q without fields", f.Name)
			}
			checkFields(t, f.Fields)
		case TypeArray:
			if f.Items == nil {
				t.Fatalf("array field %q without items", f.Name)
			}
			checkFields(t, []*Field{f.Items})
		}
	}
}
