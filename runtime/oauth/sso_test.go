package oauth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/project"
)

// ssoPair is a backend (rp) whose users sign in through a second backend
// (idp) acting as the hospital's OpenID Connect provider: two HTTP
// servers, two databases, real HTTP between them.
type ssoPair struct {
	rp, idp *env
}

const ssoAppRedirect = "http://127.0.0.1/callback"

func newSSOPair(t *testing.T, mutate ...func(*project.SSOProvider)) *ssoPair {
	t.Helper()
	idp, rp := startEnv(t, true), startEnv(t, false)
	ip := testProject()
	ip.Applications = append(ip.Applications, project.Application{Name: "clinic-sso", Type: project.AppConfidential,
		GrantTypes: []string{project.GrantAuthorizationCode}, RedirectURIs: []string{rp.issuer + "/oauth/authorize/sso/hospital/callback"},
		Scopes: []string{"openid", "email", "profile"}})
	idp.build(ip)
	secret := idp.secret("clinic-sso")
	sp := project.SSOProvider{Name: "hospital", Title: "St. Elsewhere", Issuer: idp.issuer, ClientID: "clinic-sso",
		ClientSecretEnv: "HOSPITAL_SSO_SECRET", Scopes: []string{"openid", "email", "profile"}, CreateUsers: true,
		Claims: project.SSOClaims{Email: "email", EmailVerified: "email_verified", FirstName: "given_name", LastName: "family_name"}}
	for _, m := range mutate {
		m(&sp)
	}
	rpp := testProject()
	rpp.SSOProviders = []project.SSOProvider{sp}
	rp.build(rpp, func(c *Config) { c.SSOSecrets = map[string]string{"hospital": secret} })
	return &ssoPair{rp: rp, idp: idp}
}

// verifyEmail marks an IdP user's address verified (the accounts
// migration's column; added here when that migration is not there yet).
func (p *ssoPair) verifyEmail(email string) {
	p.idp.t.Helper()
	ctx := p.idp.t.Context()
	if _, err := p.idp.pool.Exec(ctx, `ALTER TABLE users ADD COLUMN IF NOT EXISTS email_verified_at timestamptz`); err != nil {
		p.idp.t.Fatal(err)
	}
	if _, err := p.idp.pool.Exec(ctx, `UPDATE users SET email_verified_at = now() WHERE email = $1`, email); err != nil {
		p.idp.t.Fatal(err)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// toIdP starts the mobile app's sign-in on the rp and presses the
// provider's button; it returns the IdP authorization URL the browser is
// sent to.
func (p *ssoPair) toIdP(c *http.Client, challenge string) string {
	t := p.rp.t
	t.Helper()
	resp, err := c.Get(p.rp.authURL("mobile", ssoAppRedirect, "openid email profile", "app-state", challenge))
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	if !strings.Contains(page, `action="/oauth/authorize/sso/hospital"`) || !strings.Contains(page, "Sign in with St. Elsewhere") {
		t.Fatalf("login page has no provider button: %s", page)
	}
	csrf := csrfRe.FindStringSubmatch(page)[1]
	resp, err = c.PostForm(p.rp.issuer+"/oauth/authorize/sso/hospital", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, p.idp.issuer+"/oauth/authorize?") {
		t.Fatalf("sso start: %d %s %s", resp.StatusCode, loc, body)
	}
	return loc
}

// signIn runs the whole browser flow and returns the rp's answer to the
// IdP's redirect (a redirect to the app, or a page).
func (p *ssoPair) signIn(c *http.Client, email, challenge string) (*http.Response, string) {
	t := p.rp.t
	t.Helper()
	callback := p.idp.login(c, p.toIdP(c, challenge), email, p.idp.password)
	if !strings.HasPrefix(callback.String(), p.rp.issuer+"/oauth/authorize/sso/hospital/callback?") {
		t.Fatalf("IdP redirected to %s", callback)
	}
	resp, err := c.Get(callback.String())
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}

// signInTokens signs in through the IdP and redeems the app's code at
// the rp: the rp user's id and access token.
func (p *ssoPair) signInTokens(email string) (uuid.UUID, string) {
	t := p.rp.t
	t.Helper()
	verifier, challenge := pkce()
	resp, body := p.signIn(p.rp.browser(), email, challenge)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("sso sign-in: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	st, tok := p.rp.post("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {ssoAppRedirect}, "code_verifier": {verifier}, "client_id": {"mobile"}}, "", "")
	if st != http.StatusOK {
		t.Fatalf("token: %d %v", st, tok)
	}
	at := tok["access_token"].(string)
	c, err := p.rp.tokens.Verify(t.Context(), at)
	if err != nil {
		t.Fatal(err)
	}
	return uuid.MustParse(c.Subject), at
}

func (p *ssoPair) identities(userID uuid.UUID) int {
	var n int
	if err := p.rp.pool.QueryRow(p.rp.t.Context(), `SELECT count(*) FROM sso_identities WHERE user_id = $1`, userID).Scan(&n); err != nil {
		p.rp.t.Fatal(err)
	}
	return n
}

// A first sign-in through the provider creates the account (no password,
// the provider's names), a second lands in the same account by the
// provider's subject.
func TestSSO_SignInCreatesThenFindsUser(t *testing.T) {
	t.Parallel()
	p := newSSOPair(t)
	p.idp.register("grace@hospital.example")
	uid, token := p.signInTokens("grace@hospital.example")
	if !p.rp.authenticated(token) {
		t.Fatal("the rp's access token is refused")
	}
	var (
		email, first string
		hasPassword  bool
	)
	if err := p.rp.pool.QueryRow(t.Context(), `SELECT email, first_name, password_hash IS NOT NULL FROM users WHERE id = $1`, uid).
		Scan(&email, &first, &hasPassword); err != nil {
		t.Fatal(err)
	}
	if email != "grace@hospital.example" || first != "Ada" || hasPassword {
		t.Errorf("created user: %q %q password=%v", email, first, hasPassword)
	}
	again, _ := p.signInTokens("grace@hospital.example")
	if again != uid || p.identities(uid) != 1 {
		t.Errorf("second sign-in: user %s (want %s), %d identities", again, uid, p.identities(uid))
	}
	var audited int
	_ = p.rp.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND details->>'method' = 'sso:hospital'`).Scan(&audited)
	if audited != 2 {
		t.Errorf("%d sso logins audited, want 2", audited)
	}
}

// An existing account is linked by email only when the provider says the
// address is verified; otherwise the sign-in is refused, since anyone
// could register the address at the provider.
func TestSSO_LinksExistingAccountOnlyByVerifiedEmail(t *testing.T) {
	t.Parallel()
	p := newSSOPair(t)
	existing := p.rp.register("ada@hospital.example")
	p.idp.register("ada@hospital.example")

	_, challenge := pkce()
	resp, body := p.signIn(p.rp.browser(), "ada@hospital.example", challenge)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already exists") {
		t.Fatalf("unverified email: %d %s", resp.StatusCode, body)
	}
	if p.identities(existing) != 0 {
		t.Fatal("an unverified email address linked the account")
	}
	var denied int
	_ = p.rp.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE outcome = 'denied' AND reason = 'unverified_email_in_use'`).Scan(&denied)
	if denied != 1 {
		t.Errorf("%d refusals audited, want 1", denied)
	}

	p.verifyEmail("ada@hospital.example")
	uid, _ := p.signInTokens("ada@hospital.example")
	if uid != existing || p.identities(existing) != 1 {
		t.Errorf("verified email: signed in as %s, want %s", uid, existing)
	}
}

func TestSSO_AccountRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		mutate  func(*project.SSOProvider)
		email   string
		verify  bool
		status  int
		message string
	}{
		{"domain not allowed", func(sp *project.SSOProvider) { sp.AllowedEmailDomains = []string{"hospital.example"} },
			"eve@elsewhere.example", true, http.StatusForbidden, "may not sign in here"},
		{"allowed domain but unverified", func(sp *project.SSOProvider) { sp.AllowedEmailDomains = []string{"hospital.example"} },
			"bob@hospital.example", false, http.StatusForbidden, "may not sign in here"},
		{"no user creation", func(sp *project.SSOProvider) { sp.CreateUsers = false },
			"bob@hospital.example", true, http.StatusForbidden, "no account"},
		{"allowed domain", func(sp *project.SSOProvider) { sp.AllowedEmailDomains = []string{"hospital.example"} },
			"bob@hospital.example", true, http.StatusSeeOther, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newSSOPair(t, tc.mutate)
			p.idp.register(tc.email)
			if tc.verify {
				p.verifyEmail(tc.email)
			}
			_, challenge := pkce()
			resp, body := p.signIn(p.rp.browser(), tc.email, challenge)
			if resp.StatusCode != tc.status || !strings.Contains(strings.ToLower(body), strings.ToLower(tc.message)) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			var users int
			_ = p.rp.pool.QueryRow(t.Context(), `SELECT count(*) FROM users`).Scan(&users)
			if want := map[bool]int{true: 1, false: 0}[tc.status == http.StatusSeeOther]; users != want {
				t.Errorf("%d users, want %d", users, want)
			}
		})
	}
}

// OA-6: the provider's answer only counts in the browser that started the
// sign-in, and once.
func TestOA6_SSOStateBoundToBrowserAndSingleUse(t *testing.T) {
	t.Parallel()
	p := newSSOPair(t)
	p.idp.register("grace@hospital.example")
	victim, attacker := p.rp.browser(), p.rp.browser()
	_, challenge := pkce()
	callback := p.idp.login(attacker, p.toIdP(attacker, challenge), "grace@hospital.example", p.idp.password)

	// The victim's browser has its own pending sign-in, not the attacker's.
	_ = p.toIdP(victim, challenge)
	resp, err := victim.Get(callback.String())
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("callback in another browser: %d %s", resp.StatusCode, body)
	}
	// The state was consumed by that attempt: not even its own browser can use it now.
	resp, err = attacker.Get(callback.String())
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d %s", resp.StatusCode, body)
	}
	// A forged state is refused too.
	forged := *callback
	q := forged.Query()
	q.Set("state", "exh_ss_forged")
	forged.RawQuery = q.Encode()
	resp, err = attacker.Get(forged.String())
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("forged state: %d %s", resp.StatusCode, body)
	}
}

// OA-2: the provider sends its answer only to the callback URI registered
// for the backend (exact match), and the flow returns to the requesting
// application's registered redirect URI. A mixed-up issuer (RFC 9207) is
// refused.
func TestOA2_SSORedirectURIs(t *testing.T) {
	t.Parallel()
	t.Run("callback registered exactly", func(t *testing.T) {
		t.Parallel()
		p := newSSOPair(t)
		p.idp.register("grace@hospital.example")
		resp, body := p.signIn(p.rp.browser(), "grace@hospital.example", s256("x"))
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, ssoAppRedirect+"?") ||
			!strings.Contains(loc, "state=app-state") || !strings.Contains(loc, "iss="+url.QueryEscape(p.rp.issuer)) {
			t.Fatalf("%d %s %s", resp.StatusCode, loc, body)
		}
	})
	t.Run("callback variant refused by the IdP", func(t *testing.T) {
		t.Parallel()
		p := newSSOPair(t)
		// The IdP knows the backend's callback with a trailing slash only.
		app, _ := p.idp.srv.project.Application("clinic-sso")
		app.RedirectURIs = []string{p.rp.issuer + "/oauth/authorize/sso/hospital/callback/"}
		c := p.rp.browser()
		resp, err := c.Get(p.toIdP(c, s256("x")))
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not registered") {
			t.Fatalf("IdP accepted an unregistered callback: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("issuer mix-up", func(t *testing.T) {
		t.Parallel()
		p := newSSOPair(t)
		p.idp.register("grace@hospital.example")
		c := p.rp.browser()
		callback := p.idp.login(c, p.toIdP(c, s256("x")), "grace@hospital.example", p.idp.password)
		q := callback.Query()
		q.Set("iss", "https://evil.example")
		callback.RawQuery = q.Encode()
		resp, err := c.Get(callback.String())
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("mixed-up issuer: %d %s", resp.StatusCode, body)
		}
	})
}

// linkURL asks the rp for a link URL with an access token.
func (p *ssoPair) linkURL(token string) (int, string) {
	t := p.rp.t
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.rp.issuer+"/oauth/sso/links/hospital", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out LinkTicket
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	return resp.StatusCode, out.URL
}

// A signed-in user links a provider account explicitly: link URL,
// provider sign-in, confirmation page naming both accounts. Afterwards the
// provider signs in to that account; unlinking needs another way in.
func TestSSO_ExplicitLinkAndUnlink(t *testing.T) {
	t.Parallel()
	p := newSSOPair(t)
	uid := p.rp.register("ada@clinic.example")
	p.idp.register("ada.lovelace@hospital.example") // another address: no email match
	token := p.rp.mobileTokens("ada@clinic.example")["access_token"].(string)

	st, link := p.linkURL(token)
	if st != http.StatusCreated || link == "" {
		t.Fatalf("link URL: %d", st)
	}
	c := p.rp.browser()
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("open link: %d", resp.StatusCode)
	}
	callback := p.idp.login(c, resp.Header.Get("Location"), "ada.lovelace@hospital.example", p.idp.password)
	resp, err = c.Get(callback.String())
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "ada@clinic.example") || !strings.Contains(page, "ada.lovelace@hospital.example") {
		t.Fatalf("confirmation page: %d %s", resp.StatusCode, page)
	}
	if p.identities(uid) != 0 {
		t.Fatal("linked before the user confirmed")
	}
	csrf := csrfRe.FindStringSubmatch(page)[1]
	// Without the browser's cookie, the confirmation is refused.
	resp, err = p.rp.browser().PostForm(p.rp.issuer+"/oauth/authorize/sso/hospital/link", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("confirmation from another browser: %d", resp.StatusCode)
	}
	resp, err = c.PostForm(p.rp.issuer+"/oauth/authorize/sso/hospital/link", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || p.identities(uid) != 1 {
		t.Fatalf("confirm: %d %s", resp.StatusCode, body)
	}
	// The ticket was single-use.
	if resp, err = c.Get(link); err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("reused link URL: %d", resp.StatusCode)
	}

	if got, _ := p.signInTokens("ada.lovelace@hospital.example"); got != uid {
		t.Fatalf("provider signed in to %s, want the linked %s", got, uid)
	}
	st, body := p.rp.do(http.MethodGet, "/oauth/sso/identities", token)
	var list struct{ Data []Identity }
	_ = json.Unmarshal(body, &list)
	if st != http.StatusOK || len(list.Data) != 1 || list.Data[0].Provider != "hospital" {
		t.Fatalf("identities: %d %s", st, body)
	}
	if st, body := p.rp.do(http.MethodDelete, "/oauth/sso/identities/"+list.Data[0].ID.String(), token); st != http.StatusNoContent {
		t.Fatalf("unlink: %d %s", st, body)
	}
	if p.identities(uid) != 0 {
		t.Fatal("still linked")
	}
}

// An account created through the provider has no password: unlinking
// the provider would lock it out.
func TestSSO_UnlinkLastSignInMethodRefused(t *testing.T) {
	t.Parallel()
	p := newSSOPair(t)
	p.idp.register("grace@hospital.example")
	_, token := p.signInTokens("grace@hospital.example")
	st, body := p.rp.do(http.MethodGet, "/oauth/sso/identities", token)
	var list struct{ Data []Identity }
	_ = json.Unmarshal(body, &list)
	if st != http.StatusOK || len(list.Data) != 1 {
		t.Fatalf("identities: %d %s", st, body)
	}
	st, body = p.rp.do(http.MethodDelete, "/oauth/sso/identities/"+list.Data[0].ID.String(), token)
	if st != http.StatusConflict || !strings.Contains(string(body), "last_sign_in_method") {
		t.Fatalf("unlink: %d %s", st, body)
	}
	// Another user's identity is not found (no existence leak).
	other := p.rp.register("other@clinic.example")
	ot, _, err := p.rp.tokens.IssueAccess(t.Context(), auth.AccessRequest{Subject: other, ClientID: "mobile", AuthTime: p.rp.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := p.rp.do(http.MethodDelete, "/oauth/sso/identities/"+list.Data[0].ID.String(), ot); st != http.StatusNotFound {
		t.Fatalf("another user's identity: %d", st)
	}
}

// AUTH-8: linking an account is a sensitive action: it needs a sign-in at
// most an hour old.
func TestAUTH8_SSOLinkNeedsRecentSignIn(t *testing.T) {
	t.Parallel()
	p := newSSOPair(t)
	uid := p.rp.register("ada@clinic.example")
	for _, tc := range []struct {
		age  time.Duration
		want int
	}{{10 * time.Minute, http.StatusCreated}, {2 * time.Hour, http.StatusForbidden}} {
		tok, _, err := p.rp.tokens.IssueAccess(t.Context(), auth.AccessRequest{Subject: uid, ClientID: "mobile",
			AuthTime: p.rp.clock.Now().Add(-tc.age)})
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := p.linkURL(tok); st != tc.want {
			t.Errorf("sign-in %s old: %d, want %d", tc.age, st, tc.want)
		}
	}
}

// A provider whose secret is not configured is disabled: no button, 404.
func TestSSO_ProviderWithoutSecretDisabled(t *testing.T) {
	t.Parallel()
	e := startEnv(t, false)
	p := testProject()
	p.SSOProviders = []project.SSOProvider{{Name: "hospital", Title: "St. Elsewhere", Issuer: "https://idp.example", ClientID: "x",
		ClientSecretEnv: "UNSET", Scopes: []string{"openid"}}}
	e.build(p)
	resp, err := e.browser().Get(e.authURL("mobile", ssoAppRedirect, "openid", "s", s256("x")))
	if err != nil {
		t.Fatal(err)
	}
	if page := readAll(t, resp); strings.Contains(page, "St. Elsewhere") {
		t.Error("a disabled provider is offered")
	}
	resp, err = http.PostForm(e.issuer+"/oauth/authorize/sso/hospital", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != http.StatusNotFound {
		t.Errorf("disabled provider: %d", resp.StatusCode)
	}
}

// TestSSO_CreatedAccountsThroughUserService: an account created at an SSO
// sign-in is made by runtime/user (every column of a registration) and is
// email-verified exactly when the provider says the address is; linking an
// existing account by a verified address verifies it too.
func TestSSO_CreatedAccountsThroughUserService(t *testing.T) {
	t.Parallel()
	p := newSSOPair(t)
	account := func(uid uuid.UUID) (verified bool, lang, tz, phone string) {
		t.Helper()
		if err := p.rp.pool.QueryRow(t.Context(), `SELECT email_verified_at IS NOT NULL, language, time_zone, phone FROM users WHERE id = $1`, uid).
			Scan(&verified, &lang, &tz, &phone); err != nil {
			t.Fatal(err)
		}
		return
	}
	p.idp.register("grace@hospital.example")
	uid, _ := p.signInTokens("grace@hospital.example")
	if v, lang, tz, phone := account(uid); v || lang != "en" || tz != "UTC" || phone != "" {
		t.Errorf("unverified at the provider: verified=%v %q %q %q", v, lang, tz, phone)
	}
	p.idp.register("alan@hospital.example")
	p.verifyEmail("alan@hospital.example")
	uid, _ = p.signInTokens("alan@hospital.example")
	if v, _, _, _ := account(uid); !v {
		t.Error("verified at the provider: email_verified_at not set")
	}
	var created int
	_ = p.rp.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'user.create' AND details->>'method' = 'sso'`).Scan(&created)
	if created != 2 {
		t.Errorf("%d sso user creations audited, want 2", created)
	}

	existing := p.rp.register("ada@hospital.example")
	p.idp.register("ada@hospital.example")
	p.verifyEmail("ada@hospital.example")
	if uid, _ := p.signInTokens("ada@hospital.example"); uid != existing {
		t.Fatalf("linked %s, want %s", uid, existing)
	}
	if v, _, _, _ := account(existing); !v {
		t.Error("linked by a verified address: email_verified_at not set")
	}
}
