package hang

import (
	"testing"
	"time"

	"github.com/exhgen/exhgen/spec"
)

func TestHang(t *testing.T) {
	for _, src := range []string{
		"project \"p\" {\n title = \"P\"\n}\nmodel \"m\" {\n field \"x\" {\n type = \"string\"\n min_length = 1e-1000000\n }\n}\n",
		"project \"p\" {\n title = \"P\"\n description = 1e1000000000\n}\n",
		"project \"p\" {\n title = \"P\"\n description = 1e-100000000\n}\n",
		"project \"p\" {\n title = \"P\"\n description = \"${1e100000000}\"\n}\n",
	} {
		start := time.Now()
		_, diags := spec.LoadFiles(map[string][]byte{"a.hcl": []byte(src)})
		t.Log(time.Since(start), len(diags))
	}
}
