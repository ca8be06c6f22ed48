package oauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/fixedapi"
	"github.com/exhgen/exhgen/runtime/mfa"
	"github.com/exhgen/exhgen/runtime/outbox"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/server"
	"github.com/exhgen/exhgen/runtime/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// clock is a clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testProject declares the applications the tests use.
func testProject() *project.Project {
	return &project.Project{
		Name: "clinic", Title: "Clinic", Languages: []string{"en"},
		Auth: project.Auth{AccessTokenTTL: project.Duration(15 * time.Minute), RefreshTokenTTL: project.Duration(30 * 24 * time.Hour), Registration: "open"},
		Roles: []project.Role{{Name: "admin", Permissions: []string{PermReadApplications, PermUpdateApplications,
			PermCreateOAuth1, PermReadOAuth1, PermDeleteOAuth1, PermRotateKeys}},
			{Name: "clinician", Permissions: []string{"users:read"}}},
		Applications: []project.Application{
			{Name: "mobile", Type: project.AppPublic, GrantTypes: []string{"authorization_code", "refresh_token"},
				RedirectURIs: []string{"http://127.0.0.1/callback", "clinic://callback"},
				Scopes:       []string{"openid", "profile", "email", "offline_access"}},
			{Name: "portal", Type: project.AppConfidential, GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"},
				RedirectURIs:   []string{"https://portal.example.test/cb"},
				Scopes:         []string{"openid", "profile", "email", "offline_access", "measurements:read"},
				AccessTokenTTL: project.Duration(5 * time.Minute), RefreshTokenTTL: project.Duration(24 * time.Hour)},
			{Name: "legacy", Type: project.AppPublic, GrantTypes: []string{"password", "refresh_token"},
				Scopes: []string{"openid", "email"}},
		},
	}
}

// env is a backend serving the fixed API and the provider over HTTP, on
// a fresh database.
type env struct {
	t        *testing.T
	pool     *pgxpool.Pool
	clock    *clock
	tokens   *auth.Tokens
	users    *user.Service
	srv      *Server
	mfa      *mfa.Service
	ts       *httptest.Server
	issuer   string
	password string
	// setHandler replaces what the server serves.
	setHandler func(http.Handler)
}

func coreMigrations() []db.Migration {
	migs := slices.Concat(user.Migrations(), audit.Migrations(), outbox.Migrations(), Migrations(), mfa.Migrations())
	slices.SortStableFunc(migs, func(a, b db.Migration) int { return strings.Compare(a.Name, b.Name) })
	return migs
}

func newEnv(t *testing.T, mutate ...func(*Config)) *env {
	t.Helper()
	e := startEnv(t, false)
	e.build(testProject(), mutate...)
	return e
}

// startEnv starts the HTTP server of an env on a fresh database; build
// gives it its handler. With localhost, the issuer names the host
// "localhost" rather than 127.0.0.1, so that two envs (a backend and its
// SSO identity provider) keep apart in one cookie jar.
func startEnv(t *testing.T, localhost bool) *env {
	t.Helper()
	pool := dbtest.New(t)
	if _, err := db.Migrate(t.Context(), pool, coreMigrations()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, pool: pool, clock: &clock{now: time.Now().UTC().Truncate(time.Second)}, password: "correct horse battery staple"}
	var h http.Handler = http.NotFoundHandler()
	var mu sync.RWMutex
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		hh := h
		mu.RUnlock()
		hh.ServeHTTP(w, r)
	}))
	t.Cleanup(e.ts.Close)
	e.issuer = e.ts.URL
	if localhost {
		e.issuer = strings.Replace(e.ts.URL, "127.0.0.1", "localhost", 1)
	}
	e.setHandler = func(h2 http.Handler) {
		mu.Lock()
		h = h2
		mu.Unlock()
	}
	return e
}

// build wires the env's services for project p.
func (e *env) build(p *project.Project, mutate ...func(*Config)) {
	t, pool := e.t, e.pool
	t.Helper()
	e.tokens = auth.NewTokens(pool, e.issuer, 15*time.Minute, e.clock.Now, auth.WithRoles(p.Roles),
		auth.WithRevocationCheck(RevocationCheck(pool)), auth.WithUserCache(0))
	secret, err := LoadSecret(t.Context(), pool, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Wired as runtime/app does: the MFA service counts wrong codes in the
	// users' lockout, logins ask it for second factors, and password
	// changes revoke grants.
	lockout := &lockoutOf{}
	e.mfa, err = mfa.New(pool, secret, "Clinic", e.clock.Now, lockout)
	if err != nil {
		t.Fatal(err)
	}
	e.users = user.NewService(pool, p, e.tokens, slog.New(slog.DiscardHandler), user.WithClock(e.clock.Now),
		user.WithMFA(e.mfa, []string{"clinician"}), user.WithGrantRevoker(UserGrantRevoker(e.clock.Now)))
	lockout.Service = e.users
	cfg := Config{Pool: pool, Project: p, Tokens: e.tokens, Logger: slog.New(slog.DiscardHandler), Clock: e.clock.Now,
		Passwords: testPasswords(e.users, e.tokens), Secret: secret, MFA: e.mfa, MFARoles: []string{"clinician"},
		Accounts: e.users}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	fixed, err := fixedapi.NewHandler(e.users, e.tokens)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", fixed)
	mux.Handle("/users/", fixed)
	mux.Handle("/.well-known/", fixed)
	mux.Handle("/oauth/", srv.Handler())
	mux.Handle("/.well-known/openid-configuration", srv.Handler())
	mux.HandleFunc("/test/whoami", whoami(e.tokens))
	e.setHandler(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, srv.OAuth1Middleware(mux), nil, nil).Handler())
}

// lockoutOf is the user service as mfa.FailureRecorder (app.userLockout).
type lockoutOf struct{ *user.Service }

// testPasswords is the adapter runtime/app wires (app.UserPasswords).
func testPasswords(users *user.Service, _ *auth.Tokens) PasswordChecker {
	return PasswordCheckerFunc(func(ctx context.Context, email, password string) (uuid.UUID, error) {
		id, err := users.CheckPassword(ctx, email, password)
		if err == user.ErrInvalidCredentials {
			return uuid.Nil, ErrInvalidCredentials
		}
		return id, err
	})
}

// register creates a user through the API and returns its id.
func (e *env) register(email string, roles ...string) uuid.UUID {
	e.t.Helper()
	u, err := e.users.Register(e.t.Context(), user.Registration{Email: email, Password: e.password, FirstName: "Ada", LastName: "Lovelace"})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(roles) > 0 {
		if err := e.users.SetRoles(e.t.Context(), u.ID, roles); err != nil {
			e.t.Fatal(err)
		}
	}
	return u.ID
}

// post sends a form to path with optional basic auth and decodes the JSON answer.
func (e *env) post(path string, form url.Values, basicUser, basicPass string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &out); err != nil {
			e.t.Fatalf("POST %s: %d %q is not JSON", path, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, out
}

// do sends a request with a bearer token and returns status and body.
func (e *env) do(method, path, bearer string) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.issuer+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// pkce returns a fresh verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	return verifier, s256(verifier)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser is a user agent with a cookie jar that stops at redirects.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login drives the login page for an authorization URL and returns the
// redirect the browser was sent to.
func (e *env) login(c *http.Client, authURL, email, password string) *url.URL {
	e.t.Helper()
	resp, err := c.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("login page: %d %s", resp.StatusCode, page)
	}
	m := csrfRe.FindSubmatch(page)
	if m == nil {
		e.t.Fatalf("no csrf field in %s", page)
	}
	resp, err = c.PostForm(e.issuer+"/oauth/authorize", url.Values{"csrf": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return loc
}

// authURL is an authorization request for app with PKCE.
func (e *env) authURL(client, redirect, scope, state, challenge string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirect},
		"state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	if scope != "" {
		q.Set("scope", scope)
	}
	return e.issuer + "/oauth/authorize?" + q.Encode()
}

// codeFor logs in through the page and returns an authorization code.
func (e *env) codeFor(client, redirect, email, challenge string) string {
	e.t.Helper()
	loc := e.login(e.browser(), e.authURL(client, redirect, "openid email offline_access", "st", challenge), email, e.password)
	code := loc.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in %s", loc)
	}
	return code
}

// mobileTokens returns a token response of the public mobile app.
func (e *env) mobileTokens(email string) map[string]any {
	e.t.Helper()
	v, c := pkce()
	code := e.codeFor("mobile", "http://127.0.0.1/callback", email, c)
	st, body := e.post("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1/callback"}, "code_verifier": {v}, "client_id": {"mobile"}}, "", "")
	if st != http.StatusOK {
		e.t.Fatalf("token: %d %v", st, body)
	}
	return body
}

// rotate issues a secret for a confidential client directly.
func (e *env) secret(client string) string {
	e.t.Helper()
	s, err := e.srv.RotateSecret(e.t.Context(), client, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return s.ClientSecret
}

// authenticated reports whether an access token is accepted now.
func (e *env) authenticated(token string) bool {
	_, err := e.tokens.Authenticate(e.t.Context(), token)
	return err == nil
}

func userCreds(email, password string) user.Credentials {
	return user.Credentials{Email: email, Password: password}
}

// whoami is an endpoint behind bearer authentication, as the API's
// security handlers do it: it answers the caller's user id and, for a
// form body, its "note" field (the body must still be readable).
func whoami(tokens *auth.Tokens) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			server.WriteError(w, r, apierr.ErrUnauthorized)
			return
		}
		ctx, err := tokens.Authenticate(r.Context(), token)
		if err != nil {
			server.WriteError(w, r, err)
			return
		}
		p, _ := auth.PrincipalFrom(ctx)
		_ = r.ParseForm()
		_ = json.NewEncoder(w).Encode(map[string]string{"user_id": p.UserID.String(), "note": r.PostForm.Get("note"),
			"client": auth.PreauthenticatedClient(ctx)})
	}
}
