// Package testapi is an ogen server generated from openapi.yaml, used by the
// server package's tests to exercise ErrorHandler, NotFound and
// MethodNotAllowed with the errors ogen really produces.
package testapi

//go:generate go run github.com/ogen-go/ogen/cmd/ogen@v1.24.0 --config ogen.yml --target . --package testapi --clean openapi.yaml
