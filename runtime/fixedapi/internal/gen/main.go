// Command gen regenerates the ogen code of the fixed identity API from
// runtime/fixedapi/openapi.yaml into runtime/fixedapi/oas. Run it through
// `go generate ./runtime/fixedapi`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/exhgen/exhgen/runtime/fixedapi/internal/oasgen"
)

func main() {
	spec := flag.String("spec", "openapi.yaml", "OpenAPI document")
	out := flag.String("out", "oas", "output directory (package oas)")
	flag.Parse()
	if err := run(*spec, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(specPath, out string) error {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	files, err := oasgen.Generate("openapi.yaml", data, "oas")
	if err != nil {
		return err
	}
	return oasgen.WriteDir(out, files)
}
