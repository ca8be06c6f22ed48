package generator

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"sync"

	"github.com/ogen-go/ogen"
	"github.com/ogen-go/ogen/gen"
	"github.com/ogen-go/ogen/location"
)

// memFS collects the files ogen writes for one package. ogen writes from
// several goroutines at once.
type memFS struct {
	dir   string
	mu    sync.Mutex
	files []File
}

func (m *memFS) WriteFile(name string, source []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files = append(m.files, File{Path: path.Join(m.dir, name), Data: bytes.Clone(source)})
	return nil
}

// ogenPackage runs ogen, in-process, over an OpenAPI document and returns the
// Go package it writes into dir, and the Go name ogen gave each operation
// (by operationId: its naming applies initialisms, "getUrl" → "GetURL",
// so the glue takes the names from ogen rather than guessing them).
// features are the only ogen features enabled.
func ogenPackage(docJSON []byte, dir, pkg string, features ...string) ([]File, map[string]string, error) {
	s, err := ogen.Parse(docJSON)
	if err != nil {
		return nil, nil, fmt.Errorf("ogen: parse %s: %w", dir, err)
	}
	set := gen.FeatureSet{}
	for _, f := range features {
		set[f] = struct{}{}
	}
	opts := gen.Options{}
	opts.Parser.File = location.NewFile("openapi.json", "openapi.json", docJSON)
	opts.Generator.Features = &gen.FeatureOptions{DisableAll: true, Enable: set}
	opts.Generator.ConvenientErrors = 1 // every operation shares the default Error response
	g, err := gen.NewGenerator(s, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("ogen: %s: %v", dir, err)
	}
	fs := &memFS{dir: dir}
	if err := g.WriteSource(fs, pkg); err != nil {
		return nil, nil, fmt.Errorf("ogen: write %s: %v", dir, err)
	}
	sort.Slice(fs.files, func(i, j int) bool { return fs.files[i].Path < fs.files[j].Path })
	names := map[string]string{}
	for _, op := range g.Operations() {
		if op.Spec != nil {
			names[op.Spec.OperationID] = op.Name
		}
	}
	return fs.files, names, nil
}
