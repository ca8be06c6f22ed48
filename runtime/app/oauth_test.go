package app

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

// TestBuildMountsOAuthProvider: a project with applications serves the
// provider (discovery and the token endpoint, wired to the user service's
// passwords); one without serves neither.
func TestBuildMountsOAuthProvider(t *testing.T) {
	t.Parallel()
	withApps := tinyBackend()
	withApps.Project = []byte(strings.Replace(tinyProject, `"roles": [],`, `"roles": [],
  "applications": [{"name": "cli", "type": "public", "grant_types": ["password"], "redirect_uris": [], "scopes": ["openid"]}],`, 1))
	for _, tc := range []struct {
		name    string
		backend Backend
		want    int
	}{{"with applications", withApps, http.StatusOK}, {"without", tinyBackend(), http.StatusNotFound}} {
		base := startServer(t, testConfig(t, dbtest.URL(t)), tc.backend)
		resp, err := http.Get(base + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: discovery %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if tc.want != http.StatusOK {
			continue
		}
		const pw = "a long enough password for the policy"
		reg, _ := http.Post(base+"/auth/register", "application/json", strings.NewReader(`{"email":"a@example.test","password":"`+pw+`"}`))
		reg.Body.Close()
		resp, err = http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"password"}, "client_id": {"cli"},
			"username": {"a@example.test"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || body["id_token"] == nil {
			t.Fatalf("password grant: %d %v", resp.StatusCode, body)
		}
	}
}
