// Package oas is the ogen-generated server and client of the fixed
// identity API described by runtime/fixedapi/openapi.yaml. Do not edit the
// oas_*_gen.go files: change the YAML and run `go generate ./runtime/fixedapi`.
package oas
