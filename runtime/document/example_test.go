package document_test

import (
	"fmt"

	"github.com/exhgen/exhgen/runtime/document"
)

func ExampleParseIfMatch() {
	for _, h := range []string{`"3"`, `3`, `W/"3"`, ``, `*`, `"v3"`} {
		v, check, err := document.ParseIfMatch(h)
		fmt.Printf("%-6q version=%d check=%t err=%v\n", h, v, check, err != nil)
	}
	// Output:
	// "\"3\"" version=3 check=true err=false
	// "3"    version=3 check=true err=false
	// "W/\"3\"" version=3 check=true err=false
	// ""     version=0 check=false err=false
	// "*"    version=0 check=false err=false
	// "\"v3\"" version=0 check=false err=true
}
