package oauth

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-faster/yaml"
)

// TestFragmentDocumentsEveryRoute: every route the handler serves is in the
// OpenAPI fragment and every documented operation is served.
func TestFragmentDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `yaml:"operationId"`
			Summary     string `yaml:"summary"`
			Description string `yaml:"description"`
			Responses   map[string]any
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(Fragment(), &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if op.OperationID == "" || op.Summary == "" || op.Description == "" || op.Responses["default"] == nil {
				t.Errorf("%s %s lacks operationId, summary, description or a default response", method, path)
			}
		}
	}
	served := Routes()
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented %v\nserved     %v", documented, served)
	}
	// The handler answers every route (not the mux's 404/405).
	e := newEnv(t)
	for _, r := range served {
		method, path, _ := strings.Cut(r, " ")
		path = strings.NewReplacer("{client_id}", "portal", "{id}", "00000000-0000-0000-0000-000000000000").Replace(path)
		req, _ := http.NewRequest(method, e.issuer+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound && !strings.Contains(path, "grants/") || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s: %d", r, resp.StatusCode)
		}
	}
}
