package generator

import (
	"testing"

	"github.com/exhgen/exhgen/spec"
)

// TestListLimits: a model's list block reaches the compiled project and
// the list operation's x-rql extension; without one the defaults apply.
func TestListLimits(t *testing.T) {
	t.Parallel()
	p, diags := spec.LoadFiles(map[string][]byte{"p.hcl": []byte(`
project "p" { title = "P" }
model "reading" {
  field "v" { type = "integer" }
  list {
    default_limit = 5
    max_limit     = 50
  }
}
model "note" {
  field "text" { type = "string" }
}`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cp, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	if l := cp.Models[0].List; l.DefaultLimit != 5 || l.MaxLimit != 50 {
		t.Errorf("reading list %+v", l)
	}
	for i, want := range [][2]int{{5, 50}, {20, 100}} {
		ext := rqlExtension(p.Models[i])
		if ext["default_limit"] != want[0] || ext["max_limit"] != want[1] {
			t.Errorf("%s: x-rql limits %v/%v, want %v", p.Models[i].Name, ext["default_limit"], ext["max_limit"], want)
		}
	}
}
