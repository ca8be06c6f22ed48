package fixedapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/ogen-go/ogen/ogenerrors"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/app"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/fixedapi"
	"github.com/exhgen/exhgen/runtime/fixedapi/oas"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/server"
	"github.com/exhgen/exhgen/runtime/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const (
	issuer         = "https://api.example.test"
	strongPassword = "correct horse battery staple"
)

type env struct {
	pool   *pgxpool.Pool
	url    string
	client *oas.Client
	tokens *auth.Tokens
	users  *user.Service
}

// bearer is the client's SecuritySource: the token to send, if any.
type bearer struct{ token string }

func (b *bearer) BearerAuth(context.Context, oas.OperationName) (oas.BearerAuth, error) {
	if b.token == "" {
		return oas.BearerAuth{}, ogenerrors.ErrSkipClientSecurity
	}
	return oas.BearerAuth{Token: b.token}, nil
}

func newEnv(t *testing.T, registration string, sec *bearer) *env {
	t.Helper()
	pool := dbtest.New(t)
	if _, err := db.Migrate(t.Context(), pool, app.CoreMigrations()); err != nil {
		t.Fatal(err)
	}
	p := &project.Project{Name: "clinic", Languages: []string{"en", "nl"}, Auth: project.Auth{Registration: registration},
		Roles: []project.Role{{Name: "clinician", Permissions: []string{"users:read"}},
			{Name: "admin", Permissions: []string{user.PermRead, user.PermUpdate, user.PermDelete, user.PermRolesGrant, user.PermRolesRevoke,
				user.PermInvite}}}}
	tokens := auth.NewTokens(pool, issuer, 15*time.Minute, nil, auth.WithRoles(p.Roles))
	quiet := slog.New(slog.DiscardHandler)
	users := user.NewService(pool, p, tokens, quiet,
		user.WithHasher(auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)))
	h, err := fixedapi.NewHandler(users, tokens)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Logger: quiet}, h, nil, nil).Handler())
	t.Cleanup(srv.Close)
	if sec == nil {
		sec = &bearer{}
	}
	c, err := oas.NewClient(srv.URL, sec, oas.WithClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return &env{pool: pool, url: srv.URL, client: c, tokens: tokens, users: users}
}

// do sends a raw JSON request with a fixed request id.
func (e *env) do(t *testing.T, method, path, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Request-ID", "test-request-1")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func decodeError(t *testing.T, b []byte) apierr.Body {
	t.Helper()
	var body apierr.Body
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("error body %s: %v", b, err)
	}
	return body
}

func fields(b apierr.Body) []string {
	var out []string
	for _, d := range b.Details {
		out = append(out, d.Field)
	}
	return out
}

func TestRegisterLoginMe(t *testing.T) {
	t.Parallel()
	sec := &bearer{}
	e := newEnv(t, user.RegistrationOpen, sec)
	ctx := t.Context()

	u, err := e.client.RegisterUser(ctx, &oas.RegisterRequest{
		Email: "alice@example.com", Password: strongPassword,
		FirstName: oas.NewOptString("Alice"), TimeZone: oas.NewOptString("Europe/Amsterdam"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "alice@example.com" || u.FirstName != "Alice" || u.LastName != "" || u.Language != "en" ||
		u.TimeZone != "Europe/Amsterdam" || u.Roles == nil || len(u.Roles) != 0 || u.CreatedAt.IsZero() {
		t.Fatalf("registered = %+v", u)
	}

	res, err := e.client.Login(ctx, &oas.LoginRequest{Email: "Alice@Example.com", Password: strongPassword})
	if err != nil {
		t.Fatal(err)
	}
	tok, ok := res.(*oas.TokenResponse)
	if !ok {
		t.Fatalf("login answered %T, want a token", res)
	}
	if tok.TokenType != oas.TokenResponseTokenTypeBearer || tok.ExpiresIn != 900 || tok.AccessToken == "" {
		t.Fatalf("token = %+v", tok)
	}

	// (Requests without a token: TestUnauthorizedMe.)
	sec.token = "not-a-jwt"
	_, err = e.client.GetCurrentUser(ctx)
	var es *oas.ErrorStatusCode
	if !errors.As(err, &es) || es.StatusCode != http.StatusUnauthorized || es.Response.Code != apierr.CodeUnauthorized {
		t.Fatalf("me with a bad token: %v", err)
	}
	sec.token = tok.AccessToken
	me, err := e.client.GetCurrentUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != u.ID || me.Email != u.Email || !me.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("me = %+v, registered %+v", me, u)
	}

	// The token verifies against the published JWKS.
	jwks, err := e.client.GetWellKnownJWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jwks2, err := e.client.GetJWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 1 || !slices.Equal(jwks.Keys, jwks2.Keys) {
		t.Fatalf("jwks = %+v / %+v", jwks, jwks2)
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["kid"] != jwks.Keys[0].Kid || jwks.Keys[0].Alg != "ES256" {
		t.Fatalf("token kid %v not in JWKS %+v", parsed.Header["kid"], jwks.Keys)
	}
}

func TestUnauthorizedMe(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	for name, hdr := range map[string][]string{
		"no header":    nil,
		"basic":        {"Authorization", "Basic YTpi"},
		"garbage":      {"Authorization", "Bearer garbage"},
		"empty bearer": {"Authorization", "Bearer "},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, h, b := e.do(t, http.MethodGet, "/users/me", "", hdr...)
			body := decodeError(t, b)
			if status != http.StatusUnauthorized || body.Code != apierr.CodeUnauthorized ||
				body.RequestID != "test-request-1" || h.Get("WWW-Authenticate") != "Bearer" {
				t.Fatalf("%d %v %s", status, h, b)
			}
		})
	}
}

// TestAUTH7_UnknownUserAndWrongPasswordIdenticalResponses: the timing side
// is measured by BenchmarkAUTH7_FailedLogin in runtime/user.
func TestAUTH7_UnknownUserAndWrongPasswordIdenticalResponses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	if _, err := e.client.RegisterUser(t.Context(), &oas.RegisterRequest{Email: "alice@example.com", Password: strongPassword}); err != nil {
		t.Fatal(err)
	}
	s1, h1, wrong := e.do(t, http.MethodPost, "/auth/login", `{"email":"alice@example.com","password":"not the right password"}`)
	s2, h2, unknown := e.do(t, http.MethodPost, "/auth/login", `{"email":"nobody@example.com","password":"not the right password"}`)
	if s1 != http.StatusUnauthorized || s2 != s1 || !bytes.Equal(wrong, unknown) {
		t.Fatalf("wrong password: %d %s\nunknown user: %d %s", s1, wrong, s2, unknown)
	}
	if h1.Get("Content-Type") != h2.Get("Content-Type") || h1.Get("Content-Length") != h2.Get("Content-Length") {
		t.Fatalf("headers differ: %v vs %v", h1, h2)
	}
	if body := decodeError(t, wrong); body.Code != apierr.CodeInvalidCredentials || body.RequestID != "test-request-1" {
		t.Fatalf("body = %s", wrong)
	}
}

func TestRegisterErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	if status, _, b := e.do(t, http.MethodPost, "/auth/register",
		`{"email":"alice@example.com","password":"`+strongPassword+`"}`); status != http.StatusCreated {
		t.Fatalf("register: %d %s", status, b)
	}
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		fields []string
	}{
		{"duplicate email", `{"email":"ALICE@example.com","password":"` + strongPassword + `"}`,
			http.StatusConflict, apierr.CodeEmailTaken, nil},
		{"bad email", `{"email":"not-an-email","password":"` + strongPassword + `"}`,
			http.StatusBadRequest, apierr.CodeValidation, []string{"/email"}},
		{"email with display name", `{"email":"Bob <bob@example.com>","password":"` + strongPassword + `"}`,
			http.StatusBadRequest, apierr.CodeValidation, []string{"/email"}},
		{"short password", `{"email":"bob@example.com","password":"fourteen chars"}`,
			http.StatusBadRequest, apierr.CodeValidation, []string{"/password"}},
		{"long password", `{"email":"bob@example.com","password":"` + strings.Repeat("p", 129) + `"}`,
			http.StatusBadRequest, apierr.CodeValidation, []string{"/password"}},
		{"unknown language", `{"email":"bob@example.com","password":"` + strongPassword + `","language":"fr"}`,
			http.StatusBadRequest, apierr.CodeValidation, []string{"/language"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, _, b := e.do(t, http.MethodPost, "/auth/register", tt.body)
			body := decodeError(t, b)
			if status != tt.status || body.Code != tt.code || !slices.Equal(fields(body), tt.fields) ||
				body.RequestID != "test-request-1" {
				t.Fatalf("got %d %s, want %d %s %v", status, b, tt.status, tt.code, tt.fields)
			}
		})
	}
}

func TestRegistrationClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationClosed, nil)
	_, err := e.client.RegisterUser(t.Context(), &oas.RegisterRequest{Email: "alice@example.com", Password: strongPassword})
	var es *oas.ErrorStatusCode
	if !errors.As(err, &es) || es.StatusCode != http.StatusForbidden || es.Response.Code != apierr.CodeRegistrationClosed {
		t.Fatalf("register when closed: %v", err)
	}
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
	}{
		{"unknown field", http.MethodPost, "/auth/login", `{"email":"a@example.com","password":"x","admin":true}`, nil, http.StatusBadRequest},
		{"not JSON", http.MethodPost, "/auth/login", `{"email":`, nil, http.StatusBadRequest},
		{"trailing data", http.MethodPost, "/auth/login", `{"email":"a@example.com","password":"x"} {}`, nil, http.StatusBadRequest},
		{"missing password", http.MethodPost, "/auth/login", `{"email":"a@example.com"}`, nil, http.StatusBadRequest},
		{"wrong content type", http.MethodPost, "/auth/login", `{"email":"a@example.com","password":"x"}`,
			[]string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
		{"wrong method", http.MethodGet, "/auth/login", "", nil, http.StatusMethodNotAllowed},
		{"unknown path", http.MethodGet, "/auth/nothing", "", nil, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, _, b := e.do(t, tt.method, tt.path, tt.body, tt.header...)
			body := decodeError(t, b)
			if status != tt.status || body.Code == "" || body.Message == "" {
				t.Fatalf("got %d %s, want %d", status, b, tt.status)
			}
			if strings.Contains(body.Message, "decode") || strings.Contains(body.Message, "jx") || strings.Contains(body.Message, "Login") {
				t.Fatalf("message leaks internals: %q", body.Message)
			}
		})
	}
}

// TestAuthenticationFailureIsNotA401 checks that a token that cannot be
// checked because the database is down answers 503 with Retry-After
// (generic, IN-5; AV-5), not 401: clients must not drop valid credentials
// over an outage.
func TestAuthenticationFailureIsNotA401(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	tok, _, err := e.tokens.Issue(t.Context(), &auth.Principal{UserID: uuid.New()}) // loads the keys
	if err != nil {
		t.Fatal(err)
	}
	e.pool.Close()
	status, header, b := e.do(t, http.MethodGet, "/users/me", "", "Authorization", "Bearer "+tok)
	body := decodeError(t, b)
	if status != http.StatusServiceUnavailable || body.Code != apierr.CodeUnavailable ||
		header.Get("Retry-After") == "" || body.RequestID != "test-request-1" {
		t.Fatalf("got %d %v %s", status, header, b)
	}
}

func TestFragment(t *testing.T) {
	t.Parallel()
	f := string(fixedapi.Fragment())
	for _, want := range []string{"openapi: 3.0.3", "bearerAuth:", "\n    Error:\n", "/auth/register:", "/users/me:"} {
		if !strings.Contains(f, want) {
			t.Errorf("fragment lacks %q", want)
		}
	}
}
