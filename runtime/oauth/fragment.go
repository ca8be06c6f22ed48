package oauth

import _ "embed"

//go:embed openapi.yaml
var fragment []byte

// Fragment returns the OpenAPI 3.0.3 document (YAML) of the provider's
// endpoints, merged into a backend's published document when the project
// declares applications. It refers to the fixed API's shared components
// (responses.Error, securitySchemes.bearerAuth).
func Fragment() []byte { return append([]byte(nil), fragment...) }
