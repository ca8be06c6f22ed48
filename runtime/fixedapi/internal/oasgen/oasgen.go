package oasgen

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/ogen-go/ogen"
	"github.com/ogen-go/ogen/gen"
	"github.com/ogen-go/ogen/location"
)

// Generate returns the generated Go files of package pkg, keyed by base
// name. name is the document's file name, for error messages.
func Generate(name string, spec []byte, pkg string) (map[string][]byte, error) {
	doc, err := ogen.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	opts := gen.Options{}
	opts.Parser.File = location.NewFile(name, name, spec)
	opts.Generator.Features = &gen.FeatureOptions{
		Enable:  gen.FeatureSet{gen.PathsServer.Name: {}, gen.PathsClient.Name: {}},
		Disable: gen.FeatureSet{gen.OgenOtel.Name: {}, gen.WebhooksClient.Name: {}, gen.WebhooksServer.Name: {}},
	}
	opts.Generator.ConvenientErrors = 1 // forced: fail if the spec lacks a shared default Error
	g, err := gen.NewGenerator(doc, opts)
	if err != nil {
		var buf bytes.Buffer
		if location.PrintPrettyError(&buf, false, err) {
			return nil, fmt.Errorf("generate %s:\n%s", name, buf.String())
		}
		return nil, fmt.Errorf("generate %s: %w", name, err)
	}
	fs := &memFS{files: map[string][]byte{}}
	if err := g.WriteSource(fs, pkg); err != nil {
		return nil, fmt.Errorf("write %s code: %w", pkg, err)
	}
	return fs.files, nil
}

// memFS collects generated files. ogen calls WriteFile from several
// goroutines at once.
type memFS struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (m *memFS) WriteFile(name string, src []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.files[name]; dup {
		return fmt.Errorf("file %s generated twice", name)
	}
	m.files[name] = bytes.Clone(src)
	return nil
}

// Generated reports whether a file name in an output directory is one
// Generate writes (and so one WriteDir may replace or delete).
func Generated(name string) bool {
	return strings.HasPrefix(name, "oas_") && strings.HasSuffix(name, "_gen.go")
}

// WriteDir replaces the generated files in dir with files, deleting
// generated files that are no longer produced.
func WriteDir(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		if _, keep := files[e.Name()]; !keep && Generated(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove stale file: %w", err)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !Generated(name) {
			return fmt.Errorf("unexpected generated file name %q", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
