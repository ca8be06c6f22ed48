package app

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

// TestUsersGrantRoleCommand: `users grant-role EMAIL ROLE` is the
// operators' bootstrap of the first administrator: it gives a defined role
// to an existing account, audited, and refuses unknown roles and
// addresses.
func TestUsersGrantRoleCommand(t *testing.T) {
	t.Parallel()
	b := tinyBackend()
	b.Project = []byte(strings.Replace(tinyProject, `"roles": [],`, `"roles": [{"name": "admin", "permissions": ["users:*"]}],`, 1))
	dbURL := dbtest.URL(t)
	base := startServer(t, testConfig(t, dbURL), b)
	if r := do(t, http.MethodPost, base+"/auth/register", "", map[string]string{"email": "Root@Example.test", "password": "a long enough password for the policy"}); r.status != http.StatusCreated {
		t.Fatalf("register: %d", r.status)
	}
	grant := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), append([]string{"users"}, args...), b, env{"DATABASE_URL": dbURL}.get, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, out, errs := grant("grant-role", "root@example.test", "admin"); code != 0 || !strings.Contains(out, "admin") {
		t.Fatalf("grant-role: exit %d, %q %q", code, out, errs)
	}
	pool := openPool(t, dbURL)
	var roles []string
	var audited int
	if err := pool.QueryRow(t.Context(), `SELECT roles FROM users WHERE email_key = 'root@example.test'`).Scan(&roles); err != nil || len(roles) != 1 || roles[0] != "admin" {
		t.Fatalf("roles = %v, %v", roles, err)
	}
	_ = pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'role.grant' AND details->>'via' = 'cli'`).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d audited grants, want 1", audited)
	}
	for _, args := range [][]string{
		{"grant-role", "root@example.test", "nope"},
		{"grant-role", "nobody@example.test", "admin"},
	} {
		if code, _, _ := grant(args...); code != 1 {
			t.Errorf("users %v: exit %d, want 1", args, code)
		}
	}
	if code, _, _ := grant("grant-role", "root@example.test"); code != 2 {
		t.Errorf("missing argument: exit %d, want 2", code)
	}
}

// TestOAuth1_MountedWithoutApplications: a project without applications
// whose role may issue OAuth 1.0 credentials serves the credential
// endpoints and verifies signed requests; one with neither does not.
func TestOAuth1_MountedWithoutApplications(t *testing.T) {
	t.Parallel()
	b := tinyBackend()
	b.Project = []byte(strings.Replace(tinyProject, `"roles": [],`,
		`"roles": [{"name": "ops", "permissions": ["auth:oauth1_credentials:*"]}],`, 1))
	for name, tc := range map[string]struct {
		b    Backend
		want int
	}{"oauth1 role": {b, http.StatusUnauthorized}, "neither": {tinyBackend(), http.StatusNotFound}} {
		base := startServer(t, testConfig(t, dbtest.URL(t)), tc.b)
		if r := do(t, http.MethodGet, base+"/oauth/oauth1/credentials", "", nil); r.status != tc.want {
			t.Errorf("%s: credentials endpoint %d, want %d", name, r.status, tc.want)
		}
		// A request signed with unknown credentials is refused by the
		// verifier (401 with an OAuth challenge) where it is mounted.
		req, _ := http.NewRequest(http.MethodGet, base+"/users/me", nil)
		req.Header.Set("Authorization", `OAuth oauth_consumer_key="x", oauth_token="y", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1", oauth_nonce="n", oauth_signature="s"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		challenged := strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "OAuth")
		if challenged != (tc.want == http.StatusUnauthorized) {
			t.Errorf("%s: signed request %d, WWW-Authenticate %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}
