package fixedapi_test

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/exhgen/exhgen/runtime/fixedapi"
	"github.com/exhgen/exhgen/runtime/fixedapi/internal/oasgen"
)

// TestGeneratedCodeIsCurrent regenerates package oas in memory and compares
// it byte for byte with the committed files. On failure run
// `go generate ./runtime/fixedapi`.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	t.Parallel()
	spec, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(spec, fixedapi.Fragment()) {
		t.Fatal("Fragment() differs from openapi.yaml")
	}
	want, err := oasgen.Generate("openapi.yaml", spec, "oas")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("oas")
	if err != nil {
		t.Fatal(err)
	}
	var committed []string
	for _, e := range entries {
		if oasgen.Generated(e.Name()) {
			committed = append(committed, e.Name())
		}
	}
	if names := slices.Sorted(maps.Keys(want)); !slices.Equal(names, committed) {
		t.Fatalf("generated files %v, committed %v: run go generate ./runtime/fixedapi", names, committed)
	}
	for name, src := range want {
		got, err := os.ReadFile(filepath.Join("oas", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src) {
			t.Errorf("oas/%s is stale: run go generate ./runtime/fixedapi", name)
		}
	}
}
