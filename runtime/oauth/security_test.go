package oauth

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func tokenForm(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func errCode(body map[string]any) string { s, _ := body["error"].(string); return s }

// TestOA1_PKCERequiredS256Only: every authorization request needs an S256
// challenge, and the token request a matching, well-formed verifier.
func TestOA1_PKCERequiredS256Only(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	_, challenge := pkce()
	base := url.Values{"response_type": {"code"}, "client_id": {"mobile"}, "redirect_uri": {"http://127.0.0.1/callback"}, "state": {"s"}}
	for name, tc := range map[string]url.Values{
		"missing challenge": {},
		"plain":             {"code_challenge": {challenge}, "code_challenge_method": {"plain"}},
		"missing method":    {"code_challenge": {challenge}},
		"malformed":         {"code_challenge": {"short"}, "code_challenge_method": {"S256"}},
	} {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for k, v := range tc {
			q[k] = v
		}
		resp, err := e.browser().Get(e.issuer + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s" {
			t.Errorf("%s: %d %s, want a redirect with invalid_request", name, resp.StatusCode, loc)
		}
	}

	verifier, challenge := pkce()
	redeem := func(v string, withVerifier bool) (int, map[string]any) {
		code := e.codeFor("mobile", "http://127.0.0.1/callback", "ada@example.test", challenge)
		f := tokenForm("grant_type", "authorization_code", "code", code, "redirect_uri", "http://127.0.0.1/callback", "client_id", "mobile")
		if withVerifier {
			f.Set("code_verifier", v)
		}
		return e.post("/oauth/token", f, "", "")
	}
	for name, tc := range map[string]struct {
		verifier string
		with     bool
		want     string
	}{
		"missing verifier (downgrade)":  {"", false, "invalid_grant"},
		"too short":                     {strings.Repeat("a", 42), true, "invalid_request"},
		"too long":                      {strings.Repeat("a", 129), true, "invalid_request"},
		"bad characters":                {strings.Repeat("a", 42) + "+", true, "invalid_request"},
		"wrong verifier":                {strings.Repeat("b", 43), true, "invalid_grant"},
		"plain (challenge as verifier)": {challenge, true, "invalid_grant"},
	} {
		st, body := redeem(tc.verifier, tc.with)
		if st != http.StatusBadRequest || errCode(body) != tc.want {
			t.Errorf("%s: %d %v, want 400 %s", name, st, body, tc.want)
		}
	}
	if st, body := redeem(verifier, true); st != http.StatusOK {
		t.Fatalf("right verifier: %d %v", st, body)
	}
}

// TestOA2_RedirectURIExactMatch: exact strings, loopback port exception only.
func TestOA2_RedirectURIExactMatch(t *testing.T) {
	t.Parallel()
	reg := []string{"http://127.0.0.1/callback", "clinic://callback", "https://portal.example.test/cb", "http://[::1]:8080/cb"}
	for uri, want := range map[string]bool{
		"http://127.0.0.1/callback":           true,
		"http://127.0.0.1:51234/callback":     true, // RFC 8252 §7.3
		"http://[::1]:9999/cb":                true,
		"clinic://callback":                   true,
		"https://portal.example.test/cb":      true,
		"https://portal.example.test/cb/":     false,
		"https://portal.example.test/cb?x=1":  false,
		"https://portal.example.test/cb#frag": false,
		"https://PORTAL.example.test/cb":      false,
		"https://portal.example.test:443/cb":  false,
		"http://portal.example.test/cb":       false,
		"https://evil.test/cb":                false,
		"http://127.0.0.1/callback/../x":      false,
		"http://127.0.0.1:1234/other":         false,
		"http://localhost/callback":           false, // not the registered host
		"clinic://callback.evil":              false,
		"":                                    false,
	} {
		if got := MatchRedirectURI(reg, uri); got != want {
			t.Errorf("MatchRedirectURI(%q) = %v, want %v", uri, got, want)
		}
	}

	// Through the endpoint: an unregistered URI is never redirected to.
	e := newEnv(t)
	_, c := pkce()
	resp, err := e.browser().Get(e.authURL("portal", "https://evil.test/cb", "", "s", c))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "not registered") {
		t.Fatalf("unregistered redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestOA3_CodeReuseRevokesIssuedTokens: a second redemption fails and
// revokes the access and refresh tokens the first one issued.
func TestOA3_CodeReuseRevokesIssuedTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	v, c := pkce()
	code := e.codeFor("mobile", "http://127.0.0.1/callback", "ada@example.test", c)
	f := tokenForm("grant_type", "authorization_code", "code", code, "redirect_uri", "http://127.0.0.1/callback", "code_verifier", v, "client_id", "mobile")
	st, first := e.post("/oauth/token", f, "", "")
	if st != http.StatusOK {
		t.Fatalf("first: %d %v", st, first)
	}
	at := first["access_token"].(string)
	if !e.authenticated(at) {
		t.Fatal("access token refused before the reuse")
	}
	st, second := e.post("/oauth/token", f, "", "")
	if st != http.StatusBadRequest || errCode(second) != "invalid_grant" {
		t.Fatalf("second: %d %v", st, second)
	}
	if e.authenticated(at) {
		t.Fatal("access token from the reused code still accepted")
	}
	st, body := e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", first["refresh_token"].(string), "client_id", "mobile"), "", "")
	if st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Fatalf("refresh after code reuse: %d %v", st, body)
	}
}

// TestOA4_OnlyRegisteredGrantsAndScopes: no implicit, no ROPC unless
// registered, only registered scopes and grants per client.
func TestOA4_OnlyRegisteredGrantsAndScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	secret := e.secret("portal")
	for name, tc := range map[string]struct {
		form       url.Values
		user, pass string
		status     int
		want       string
	}{
		"password on mobile":            {tokenForm("grant_type", "password", "username", "ada@example.test", "password", e.password, "client_id", "mobile"), "", "", 400, "unauthorized_client"},
		"client_credentials on mobile":  {tokenForm("grant_type", "client_credentials", "client_id", "mobile"), "", "", 400, "unauthorized_client"},
		"implicit":                      {tokenForm("grant_type", "implicit", "client_id", "mobile"), "", "", 400, "unsupported_grant_type"},
		"unregistered scope":            {tokenForm("grant_type", "client_credentials", "scope", "admin"), "portal", secret, 400, "invalid_scope"},
		"openid for a client":           {tokenForm("grant_type", "client_credentials", "scope", "openid"), "portal", secret, 400, "invalid_scope"},
		"password scope not registered": {tokenForm("grant_type", "password", "username", "ada@example.test", "password", e.password, "client_id", "legacy", "scope", "profile"), "", "", 400, "invalid_scope"},
		"no grant_type":                 {tokenForm("client_id", "mobile"), "", "", 400, "invalid_request"},
	} {
		st, body := e.post("/oauth/token", tc.form, tc.user, tc.pass)
		if st != tc.status || errCode(body) != tc.want {
			t.Errorf("%s: %d %v, want %d %s", name, st, body, tc.status, tc.want)
		}
	}
	// response_type=token (implicit) at the authorize endpoint.
	_, c := pkce()
	u := strings.Replace(e.authURL("mobile", "http://127.0.0.1/callback", "", "s", c), "response_type=code", "response_type=token", 1)
	resp, err := e.browser().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("error") != "unsupported_response_type" {
		t.Fatalf("response_type=token: %d %v", resp.StatusCode, loc)
	}
	// The password grant works where registered, with registered scopes.
	st, body := e.post("/oauth/token", tokenForm("grant_type", "password", "username", "ada@example.test", "password", e.password, "client_id", "legacy"), "", "")
	if st != http.StatusOK || body["refresh_token"] == nil || body["id_token"] == nil {
		t.Fatalf("password on legacy: %d %v", st, body)
	}
	st, body = e.post("/oauth/token", tokenForm("grant_type", "password", "username", "ada@example.test", "password", "wrong password, quite long", "client_id", "legacy"), "", "")
	if st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Fatalf("wrong password: %d %v", st, body)
	}
}

// TestOA5_ClientSecrets: 256-bit, shown once, stored hashed, constant-time
// checked; rotation keeps the old secret for the overlap only.
func TestOA5_ClientSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.SecretOverlap = time.Hour })
	admin := e.register("admin@example.test", "admin")
	_ = admin
	e.register("nobody@example.test")
	adminTok := e.mobileTokens("admin@example.test")["access_token"].(string)
	userTok := e.mobileTokens("nobody@example.test")["access_token"].(string)

	rotate := func(bearer, client string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/applications/"+client+"/secrets", nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, _ := rotate(userTok, "portal"); st != http.StatusForbidden {
		t.Fatalf("rotation without permission: %d", st)
	}
	if st, _ := rotate("", "portal"); st != http.StatusUnauthorized {
		t.Fatalf("rotation without token: %d", st)
	}
	if st, _ := rotate(adminTok, "mobile"); st != http.StatusConflict {
		t.Fatalf("rotation of a public client: %d", st)
	}
	if st, _ := rotate(adminTok, "nope"); st != http.StatusNotFound {
		t.Fatalf("rotation of an unknown client: %d", st)
	}
	st, first := rotate(adminTok, "portal")
	if st != http.StatusCreated {
		t.Fatalf("rotate: %d %v", st, first)
	}
	old := first["client_secret"].(string)
	if len(old) < len(prefixSecret)+43 { // 32 bytes base64url = 43 chars
		t.Fatalf("secret %q shorter than 256 bits", old)
	}
	cc := func(secret string) int {
		st, _ := e.post("/oauth/token", tokenForm("grant_type", "client_credentials"), "portal", secret)
		return st
	}
	if cc(old) != http.StatusOK {
		t.Fatal("new secret refused")
	}
	if st := cc(old + "x"); st != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", st)
	}
	// client_secret_post works too; both methods at once do not.
	if st, _ := e.post("/oauth/token", tokenForm("grant_type", "client_credentials", "client_id", "portal", "client_secret", old), "", ""); st != http.StatusOK {
		t.Fatalf("client_secret_post: %d", st)
	}
	if st, _ := e.post("/oauth/token", tokenForm("grant_type", "client_credentials", "client_secret", old), "portal", old); st != http.StatusBadRequest {
		t.Fatalf("two methods: %d", st)
	}
	_, second := rotate(adminTok, "portal")
	newer := second["client_secret"].(string)
	if cc(old) != http.StatusOK || cc(newer) != http.StatusOK {
		t.Fatal("old and new secrets must both work during the overlap")
	}
	// Listing shows metadata, never the secret.
	st, list := e.do(http.MethodGet, "/oauth/applications", adminTok)
	if st != http.StatusOK || strings.Contains(string(list), old) || strings.Contains(string(list), newer) || !strings.Contains(string(list), `"portal"`) {
		t.Fatalf("list: %d %s", st, list)
	}
	e.clock.Advance(time.Hour + time.Second)
	if cc(old) != http.StatusUnauthorized || cc(newer) != http.StatusOK {
		t.Fatal("after the overlap only the new secret may work")
	}
	var n int
	if err := e.pool.QueryRow(t.Context(), `SELECT count(*) FROM oauth_client_secrets WHERE hash = $1 OR hash = $2`,
		[]byte(old), []byte(newer)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("secrets stored in plain text: %d %v", n, err)
	}
}

// TestOA6_LoginPage: plain HTML without third-party content, no referrer,
// CSRF token and state bound to the browser's cookie.
func TestOA6_LoginPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	_, c := pkce()
	b := e.browser()
	resp, err := b.Get(e.authURL("mobile", "http://127.0.0.1/callback", "", "state-A", c))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := resp.Header
	if h.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") ||
		h.Get("X-Frame-Options") != "DENY" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("headers %v", h)
	}
	for _, bad := range []string{"http://", "https://", "<script", "src="} {
		if strings.Contains(string(page), bad) {
			t.Errorf("login page contains %q", bad)
		}
	}
	csrf := string(csrfRe.FindSubmatch(page)[1])
	creds := func(extra url.Values) url.Values {
		v := url.Values{"email": {"ada@example.test"}, "password": {e.password}}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	// Without the cookie (another browser, a cross-site form post without
	// the browser's cookie) the form is refused.
	other := e.browser()
	r2, _ := other.PostForm(e.issuer+"/oauth/authorize", creds(url.Values{"csrf": {csrf}}))
	r2.Body.Close()
	if r2.StatusCode != http.StatusBadRequest || r2.Header.Get("Location") != "" {
		t.Fatalf("post without cookie: %d", r2.StatusCode)
	}
	// With the cookie but without or with a wrong CSRF token.
	for _, tok := range []string{"", csrf + "x"} {
		r3, _ := b.PostForm(e.issuer+"/oauth/authorize", creds(url.Values{"csrf": {tok}}))
		r3.Body.Close()
		if r3.StatusCode != http.StatusForbidden {
			t.Fatalf("csrf %q: %d", tok, r3.StatusCode)
		}
	}
	// A second authorization in another browser does not take over the
	// first browser's request (state stays bound to its own cookie).
	e.login(e.browser(), e.authURL("mobile", "http://127.0.0.1/callback", "", "state-B", c), "ada@example.test", e.password)
	r4, _ := b.PostForm(e.issuer+"/oauth/authorize", creds(url.Values{"csrf": {csrf}}))
	r4.Body.Close()
	loc, _ := url.Parse(r4.Header.Get("Location"))
	if r4.StatusCode != http.StatusSeeOther || loc.Query().Get("state") != "state-A" {
		t.Fatalf("own request: %d %v", r4.StatusCode, loc)
	}
	// The request is spent: posting again fails.
	r5, _ := b.PostForm(e.issuer+"/oauth/authorize", creds(url.Values{"csrf": {csrf}}))
	r5.Body.Close()
	if r5.StatusCode == http.StatusSeeOther {
		t.Fatal("a spent login request gave a second code")
	}
	// A wrong password re-renders the page with the same headers.
	resp, _ = b.Get(e.authURL("mobile", "http://127.0.0.1/callback", "", "s", c))
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	r6, _ := b.PostForm(e.issuer+"/oauth/authorize", url.Values{"csrf": {string(csrfRe.FindSubmatch(page)[1])}, "email": {"ada@example.test"}, "password": {"not the password at all"}})
	body, _ := io.ReadAll(r6.Body)
	r6.Body.Close()
	if r6.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "incorrect") || r6.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("wrong password: %d", r6.StatusCode)
	}
}

// TestTOK6_RefreshRotationReuseRevokesFamily: refresh tokens rotate; using
// a rotated one (after the race window) revokes the family, access tokens
// included; tokens are bound to their client.
func TestTOK6_RefreshRotationReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	first := e.mobileTokens("ada@example.test")
	rt1 := first["refresh_token"].(string)
	refresh := func(rt, client string) (int, map[string]any) {
		return e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", rt, "client_id", client), "", "")
	}
	// Bound to its client: another client cannot use it (and it stays usable).
	if st, body := refresh(rt1, "legacy"); st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Fatalf("other client: %d %v", st, body)
	}
	st, second := refresh(rt1, "mobile")
	if st != http.StatusOK {
		t.Fatalf("refresh: %d %v", st, second)
	}
	rt2, at2 := second["refresh_token"].(string), second["access_token"].(string)
	if rt2 == rt1 {
		t.Fatal("refresh token not rotated")
	}
	e.clock.Advance(DefaultReuseWindow + time.Second)
	if st, body := refresh(rt1, "mobile"); st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Fatalf("reuse: %d %v", st, body)
	}
	if st, body := refresh(rt2, "mobile"); st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Fatalf("newest token after reuse: %d %v", st, body)
	}
	if e.authenticated(at2) || e.authenticated(first["access_token"].(string)) {
		t.Fatal("access tokens of the revoked family still accepted")
	}
}

// TestTOK6_ConcurrentRefreshOneWinner: ten parallel uses of one refresh
// token → exactly one success, and the winner's tokens stay valid (losers
// of the race do not revoke the family: the documented policy).
func TestTOK6_ConcurrentRefreshOneWinner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	rt := e.mobileTokens("ada@example.test")["refresh_token"].(string)
	const n = 10
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		wins    []map[string]any
		answers = map[int]int{}
	)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, body := e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", rt, "client_id", "mobile"), "", "")
			mu.Lock()
			defer mu.Unlock()
			answers[st]++
			if st == http.StatusOK {
				wins = append(wins, body)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(wins) != 1 || answers[http.StatusBadRequest] != n-1 {
		t.Fatalf("answers %v, want 1×200 and %d×400", answers, n-1)
	}
	if !e.authenticated(wins[0]["access_token"].(string)) {
		t.Fatal("the winner's access token was revoked")
	}
	st, _ := e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", wins[0]["refresh_token"].(string), "client_id", "mobile"), "", "")
	if st != http.StatusOK {
		t.Fatalf("the winner's refresh token: %d", st)
	}
}

// TestTOK5_Lifetimes: codes expire within 10 minutes, refresh families
// have an absolute expiry that refreshing does not extend.
func TestTOK5_Lifetimes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.CodeTTL = time.Hour })
	if e.srv.cfg.CodeTTL != MaxCodeTTL {
		t.Fatalf("code TTL %v not capped at %v", e.srv.cfg.CodeTTL, MaxCodeTTL)
	}
	e.register("ada@example.test")
	v, c := pkce()
	code := e.codeFor("mobile", "http://127.0.0.1/callback", "ada@example.test", c)
	e.clock.Advance(MaxCodeTTL + time.Second)
	st, body := e.post("/oauth/token", tokenForm("grant_type", "authorization_code", "code", code, "redirect_uri", "http://127.0.0.1/callback", "code_verifier", v, "client_id", "mobile"), "", "")
	if st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Fatalf("expired code: %d %v", st, body)
	}

	// portal: refresh_token_ttl 24h, access 5m.
	secret := e.secret("portal")
	v, c = pkce()
	code = e.codeFor("portal", "https://portal.example.test/cb", "ada@example.test", c)
	st, body = e.post("/oauth/token", tokenForm("grant_type", "authorization_code", "code", code, "redirect_uri", "https://portal.example.test/cb", "code_verifier", v), "portal", secret)
	if st != http.StatusOK || body["expires_in"].(float64) != 300 {
		t.Fatalf("portal tokens: %d %v", st, body)
	}
	rt := body["refresh_token"].(string)
	for range 3 { // refreshing every 8 hours does not extend the 24 h family
		e.clock.Advance(8*time.Hour - time.Minute)
		st, body = e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", rt), "portal", secret)
		if st != http.StatusOK {
			t.Fatalf("refresh within the family's life: %d %v", st, body)
		}
		rt = body["refresh_token"].(string)
	}
	e.clock.Advance(4 * time.Minute)
	st, body = e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", rt), "portal", secret)
	if st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Fatalf("refresh after the absolute expiry: %d %v", st, body)
	}
}

// TestTOK3_IDTokenRefusedAsAccessToken: an ID token is signed by the same
// key but has typ JWT and aud = the client: refused as an access token.
func TestTOK3_IDTokenRefusedAsAccessToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	toks := e.mobileTokens("ada@example.test")
	id := toks["id_token"].(string)
	if e.authenticated(id) {
		t.Fatal("ID token accepted as an access token")
	}
	if st, _ := e.do(http.MethodGet, "/users/me", id); st != http.StatusUnauthorized {
		t.Fatalf("ID token on /users/me: %d", st)
	}
	if st, _ := e.do(http.MethodGet, "/oauth/userinfo", id); st != http.StatusUnauthorized {
		t.Fatalf("ID token on userinfo: %d", st)
	}
}

// TestTOK7_RevocationRevokesChain: revoking the refresh token or the access
// token (RFC 7009) revokes the whole grant; other clients' tokens are left
// alone; introspection reflects it.
func TestTOK7_RevocationRevokesChain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	secret := e.secret("portal")
	introspect := func(tok string) bool {
		st, body := e.post("/oauth/introspect", tokenForm("token", tok), "portal", secret)
		if st != http.StatusOK {
			t.Fatalf("introspect: %d %v", st, body)
		}
		return body["active"] == true
	}
	for _, which := range []string{"refresh_token", "access_token"} {
		a := e.mobileTokens("ada@example.test")
		st, _ := e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", a["refresh_token"].(string), "client_id", "mobile"), "", "")
		if st != http.StatusOK {
			t.Fatal(st)
		}
		b := e.mobileTokens("ada@example.test") // another grant: must survive
		if !introspect(b["access_token"].(string)) || !introspect(b["refresh_token"].(string)) {
			t.Fatal("fresh tokens introspected inactive")
		}
		// A different client cannot revoke mobile's tokens.
		if st, _ := e.post("/oauth/revoke", tokenForm("token", a[which].(string)), "portal", secret); st != http.StatusOK {
			t.Fatalf("revoke by another client: %d", st)
		}
		if !e.authenticated(a["access_token"].(string)) {
			t.Fatal("another client revoked mobile's grant")
		}
		if st, _ := e.post("/oauth/revoke", tokenForm("token", a[which].(string), "client_id", "mobile"), "", ""); st != http.StatusOK {
			t.Fatalf("revoke %s: %d", which, st)
		}
		if e.authenticated(a["access_token"].(string)) || introspect(a["access_token"].(string)) || introspect(a["refresh_token"].(string)) {
			t.Fatalf("revoking the %s left the chain usable", which)
		}
		if !e.authenticated(b["access_token"].(string)) {
			t.Fatal("revocation reached another grant")
		}
	}
	if st, _ := e.post("/oauth/revoke", tokenForm("token", "exh_rt_unknown", "client_id", "mobile"), "", ""); st != http.StatusOK {
		t.Fatalf("unknown token: %d, want 200 (RFC 7009 §2.2)", st)
	}
}

// TestTOK7_UsersListAndRevokeTheirGrants: users see the applications they
// authorised and revoke one, which ends its tokens.
func TestTOK7_UsersListAndRevokeTheirGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	e.register("eve@example.test")
	a := e.mobileTokens("ada@example.test")
	b := e.mobileTokens("ada@example.test")
	eve := e.mobileTokens("eve@example.test")
	at := a["access_token"].(string)
	st, body := e.do(http.MethodGet, "/oauth/grants", at)
	var list struct{ Data []GrantInfo }
	if err := json.Unmarshal(body, &list); err != nil || st != http.StatusOK || len(list.Data) != 2 || list.Data[0].ClientID != "mobile" {
		t.Fatalf("grants: %d %s", st, body)
	}
	var aGrant string
	c, _ := e.tokens.Verify(t.Context(), at)
	aGrant = c.GrantID
	// Eve cannot revoke Ada's grant.
	if st, _ := e.do(http.MethodDelete, "/oauth/grants/"+aGrant, eve["access_token"].(string)); st != http.StatusNotFound {
		t.Fatalf("eve revoking ada's grant: %d", st)
	}
	if st, _ := e.do(http.MethodDelete, "/oauth/grants/"+aGrant, b["access_token"].(string)); st != http.StatusNoContent {
		t.Fatalf("revoke own grant: %d", st)
	}
	if e.authenticated(at) || !e.authenticated(b["access_token"].(string)) {
		t.Fatal("revoking one grant must end exactly its tokens")
	}
}

// TestTOK7_DatabaseHoldsNoIssuedToken dumps every table as text and looks
// for each token and secret issued.
func TestTOK7_DatabaseHoldsNoIssuedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	var issued []string
	secret := e.secret("portal")
	issued = append(issued, secret)
	for range 2 {
		tk := e.mobileTokens("ada@example.test")
		issued = append(issued, tk["access_token"].(string), tk["refresh_token"].(string), tk["id_token"].(string))
	}
	v, c := pkce()
	code := e.codeFor("mobile", "http://127.0.0.1/callback", "ada@example.test", c)
	issued = append(issued, code)
	st, tk := e.post("/oauth/token", tokenForm("grant_type", "authorization_code", "code", code, "redirect_uri", "http://127.0.0.1/callback", "code_verifier", v, "client_id", "mobile"), "", "")
	if st != http.StatusOK {
		t.Fatal(st)
	}
	issued = append(issued, tk["refresh_token"].(string), v)
	// A pending login request's cookie.
	resp, _ := e.browser().Get(e.authURL("mobile", "http://127.0.0.1/callback", "", "s", c))
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		issued = append(issued, ck.Value)
	}

	rows, err := e.pool.Query(t.Context(), `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var dump strings.Builder
	for _, tbl := range tables {
		// bytea columns as hex and as escaped text, so a token stored as
		// bytes is found too.
		r, err := e.pool.Query(t.Context(), fmt.Sprintf(`SELECT row_to_json(t)::text FROM %q t`, tbl))
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var s string
			_ = r.Scan(&s)
			dump.WriteString(s)
			dump.WriteByte('\n')
		}
		r.Close()
	}
	if dump.Len() < 1000 {
		t.Fatalf("dump too small (%d bytes): is the query broken?", dump.Len())
	}
	text := dump.String()
	for _, tok := range issued {
		needles := []string{tok, fmt.Sprintf("%x", tok)}
		if i := strings.LastIndexByte(tok, '.'); i > 0 { // a JWT's signature alone
			needles = append(needles, tok[i+1:])
		}
		for _, n := range needles {
			if strings.Contains(text, n) {
				t.Errorf("the database holds an issued token or secret (%.12s…)", tok)
			}
		}
	}
}

// TestIN5_UnroutedRequestsGetJSONErrors: a wrong method or an unknown path
// under the provider's prefixes answers the documented JSON error, not
// ServeMux's plain text.
func TestIN5_UnroutedRequestsGetJSONErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{http.MethodGet, "/oauth/token", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
		{http.MethodDelete, "/oauth/userinfo", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD, POST"},
		{http.MethodPut, "/oauth/grants/0190c4c4-0000-7000-8000-000000000001", http.StatusMethodNotAllowed, "method_not_allowed", "DELETE"},
		{http.MethodDelete, "/.well-known/openid-configuration", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodGet, "/oauth/grants/", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/oauth/nothing", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/oauth/token.json", http.StatusNotFound, "not_found", ""},
	} {
		req, _ := http.NewRequest(tc.method, e.issuer+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Code string `json:"code"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || err != nil || body.Code != tc.code || resp.Header.Get("Allow") != tc.allow ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %q (Allow %q, %s, %v), want %d %q (Allow %q)", tc.method, tc.path, resp.StatusCode, body.Code,
				resp.Header.Get("Allow"), resp.Header.Get("Content-Type"), err, tc.status, tc.code, tc.allow)
		}
	}
}
