// Package templates holds the Go text templates the generator fills to
// write a backend: main.go, the glue between ogen and the runtime, go.mod
// and the backend's README. Templates hold no logic; the generator computes
// every value they print.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"
)

//go:embed backend/*.tmpl
var files embed.FS

// parsed is built once; templates are immutable after parsing.
var parsed = template.Must(template.New("").ParseFS(files, "backend/*.tmpl"))

// Render fills the named template (e.g. "main.go.tmpl") with data.
func Render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := parsed.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("render template %s: %w", name, err)
	}
	return b.Bytes(), nil
}
