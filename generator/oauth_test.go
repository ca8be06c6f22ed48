package generator

import (
	"encoding/json"
	"testing"

	"github.com/exhgen/exhgen/spec"
)

// TestOAuthFragmentMergedWhenApplicationsDeclared: a project with
// applications publishes the provider's endpoints and an oauth2 security
// scheme whose flows and scopes follow the applications; a project without
// any publishes neither.
func TestOAuthFragmentMergedWhenApplicationsDeclared(t *testing.T) {
	t.Parallel()
	src := `
project "demo" {
  title = "Demo"
}
application "mobile" {
  type          = "public"
  grant_types   = ["authorization_code", "refresh_token"]
  redirect_uris = ["clinic://callback"]
}
application "gateway" {
  type        = "confidential"
  grant_types = ["client_credentials"]
  scopes      = ["measurements:write"]
}
model "note" {
  field "text" {
    type = "string"
  }
}
`
	const noApps = `
project "demo" {
  title = "Demo"
}
model "note" {
  field "text" {
    type = "string"
  }
}
`
	for _, withApps := range []bool{true, false} {
		s := src
		if !withApps {
			s = noApps
		}
		p, diags := spec.LoadFiles(map[string][]byte{"demo.hcl": []byte(s)})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		out, err := Generate(p, testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				SecuritySchemes map[string]struct {
					Flows map[string]struct {
						Scopes map[string]string `json:"scopes"`
					} `json:"flows"`
				} `json:"securitySchemes"`
			} `json:"components"`
		}
		for _, f := range out.Backend {
			if f.Path == "openapi.json" {
				if err := json.Unmarshal(f.Data, &doc); err != nil {
					t.Fatal(err)
				}
			}
		}
		_, hasToken := doc.Paths["/oauth/token"]
		o2, hasScheme := doc.Components.SecuritySchemes["oauth2"]
		if hasToken != withApps || hasScheme != withApps {
			t.Fatalf("applications %v: /oauth/token %v, oauth2 scheme %v", withApps, hasToken, hasScheme)
		}
		if !withApps {
			continue
		}
		code, cc := o2.Flows["authorizationCode"], o2.Flows["clientCredentials"]
		if _, ok := code.Scopes["offline_access"]; !ok {
			t.Errorf("authorizationCode scopes %v lack offline_access", code.Scopes)
		}
		if _, ok := cc.Scopes["measurements:write"]; !ok {
			t.Errorf("clientCredentials scopes %v lack measurements:write", cc.Scopes)
		}
	}
}

// TestSSOOperationsOnlyWithProviders: the SSO operations are published only
// when the project declares sso_provider blocks, with the providers' names
// as the provider parameter's enum.
func TestSSOOperationsOnlyWithProviders(t *testing.T) {
	t.Parallel()
	const base = `
project "demo" {
  title = "Demo"
}
application "portal" {
  type          = "confidential"
  grant_types   = ["authorization_code"]
  redirect_uris = ["https://portal.example.org/cb"]
}
`
	const provider = `
sso_provider "hospital" {
  issuer            = "https://login.hospital.example.org"
  client_id         = "demo"
  client_secret_env = "HOSPITAL_SECRET"
}
`
	for _, withSSO := range []bool{true, false} {
		src := base
		if withSSO {
			src += provider
		}
		p, diags := spec.LoadFiles(map[string][]byte{"demo.hcl": []byte(src)})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		out, err := Generate(p, testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			// A path item holds operations and may hold path-level
			// "parameters" (an array): decode operations on demand.
			Paths      map[string]map[string]json.RawMessage `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		for _, f := range out.Backend {
			if f.Path == "openapi.json" {
				if err := json.Unmarshal(f.Data, &doc); err != nil {
					t.Fatal(err)
				}
			}
		}
		op, has := doc.Paths["/oauth/authorize/sso/{provider}/callback"]
		_, schema := doc.Components.Schemas["SSOIdentity"]
		if has != withSSO || schema != withSSO {
			t.Fatalf("sso_provider declared %v: callback published %v, SSOIdentity %v", withSSO, has, schema)
		}
		if withSSO {
			var get struct {
				Parameters []struct {
					Schema struct {
						Enum []string `json:"enum"`
					} `json:"schema"`
				} `json:"parameters"`
			}
			if err := json.Unmarshal(op["get"], &get); err != nil || len(get.Parameters) == 0 {
				t.Fatalf("callback operation: %s, %v", op["get"], err)
			}
			if enum := get.Parameters[0].Schema.Enum; len(enum) != 1 || enum[0] != "hospital" {
				t.Errorf("provider enum %v", enum)
			}
		}
	}
}
