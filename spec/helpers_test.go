package spec

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// short renders diags one per line, for test failure messages.
func short(diags hcl.Diagnostics) string {
	var b strings.Builder
	if err := WriteDiagnosticsShort(&b, diags); err != nil {
		return err.Error()
	}
	return b.String()
}

// mustLoad loads files and fails the test on any diagnostic.
func mustLoad(t *testing.T, files map[string]string) *Project {
	t.Helper()
	in := make(map[string][]byte, len(files))
	for name, src := range files {
		in[name] = []byte(src)
	}
	p, diags := LoadFiles(in)
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", short(diags))
	}
	return p
}
