package spec_test

import (
	"fmt"
	"os"

	"github.com/exhgen/exhgen/spec"
)

func ExampleLoadFiles() {
	src := []byte(`project "clinic" {
  title = "Blood pressure clinic"
}

model "measurement" {
  field "systolic" {
    type    = "integr"
    minimum = 40
  }
}

role "clinician" {
  permissions = ["data:measurment:read"]
}
`)
	p, diags := spec.LoadFiles(map[string][]byte{"clinic.hcl": src})
	if diags.HasErrors() {
		_ = spec.WriteDiagnosticsShort(os.Stdout, diags)
		for _, d := range diags {
			fmt.Println(d.Detail)
		}
	}
	fmt.Println(p.Name, p.Auth.AccessTokenTTL, p.Languages)
	// Output:
	// clinic.hcl:7:15: error: Unknown field type
	// clinic.hcl:13:18: error: Unknown model in permission
	// "integr" is not a field type. Did you mean "integer"?
	// No model named "measurment" is declared. Did you mean "data:measurement:read"?
	// clinic 15m0s [en]
}

func ExampleWriteDiagnostics() {
	src := []byte(`project "clinic" {
  title = "Blood pressure clinic"
}

auth {
  registration = "opne"
}
`)
	p, diags := spec.LoadFiles(map[string][]byte{"clinic.hcl": src})
	_ = spec.WriteDiagnostics(os.Stdout, p.Files, diags)
	// Output:
	// ╷
	// │ Error: Unknown registration mode
	// │
	// │   on clinic.hcl line 6, in auth:
	// │    6:   registration = "opne"
	// │                        ^^^^^^
	// │
	// │ "opne" is not a registration mode. Did you mean "open"?
	// ╵
}
