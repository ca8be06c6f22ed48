// Command exhgen turns a project spec (a directory of *.hcl files) into a
// backend: `validate` checks the spec, `generate` writes the backend,
// `plan` shows what generate and apply would change, `apply` does it.
package main

import (
	"os"
)

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}
