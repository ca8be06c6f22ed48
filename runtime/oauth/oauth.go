package oauth

import (
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/mfa"
	"github.com/exhgen/exhgen/runtime/permission"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/server"
	"github.com/exhgen/exhgen/runtime/user"
)

// Defaults and limits.
const (
	// MaxCodeTTL caps the authorization code lifetime (TOK-5).
	MaxCodeTTL = 10 * time.Minute
	// DefaultCodeTTL is the authorization code lifetime.
	DefaultCodeTTL = time.Minute
	// DefaultSecretOverlap is how long a rotated client secret keeps working.
	DefaultSecretOverlap = 24 * time.Hour
	// DefaultReuseWindow is how long after its rotation a refresh token's
	// use counts as a lost race rather than a reuse (TOK-6; at most 5 min).
	DefaultReuseWindow = 5 * time.Second
	maxReuseWindow     = 5 * time.Minute
	// loginRequestTTL bounds how long a login page may be left open.
	loginRequestTTL = 15 * time.Minute
	// tokenBytes is the entropy of every opaque token: 256 bits.
	tokenBytes = 32
	// MinSecretLen is the shortest server secret accepted.
	MinSecretLen = 32
)

// ErrInvalidCredentials is what a PasswordChecker returns for an unknown
// email address or a wrong password.
var ErrInvalidCredentials = errors.New("invalid credentials")

// PasswordChecker checks a user's password. It returns the user's id,
// ErrInvalidCredentials, or another error (an *apierr.Error with status
// 429 for a locked account is passed on as such).
type PasswordChecker interface {
	CheckPassword(ctx context.Context, email, password string) (uuid.UUID, error)
}

// PasswordCheckerFunc adapts a function to PasswordChecker.
type PasswordCheckerFunc func(ctx context.Context, email, password string) (uuid.UUID, error)

// CheckPassword calls f.
func (f PasswordCheckerFunc) CheckPassword(ctx context.Context, email, password string) (uuid.UUID, error) {
	return f(ctx, email, password)
}

// Config configures a Server.
type Config struct {
	Pool      *pgxpool.Pool
	Project   *project.Project
	Tokens    *auth.Tokens
	Passwords PasswordChecker
	Logger    *slog.Logger
	Clock     func() time.Time // default time.Now
	// Secret is the server secret opaque-token HMACs derive from (at least
	// MinSecretLen bytes). When nil, one is created in the database on
	// first start and shared by every replica.
	Secret        []byte
	CodeTTL       time.Duration // default DefaultCodeTTL, at most MaxCodeTTL
	SecretOverlap time.Duration // default DefaultSecretOverlap
	ReuseWindow   time.Duration // default DefaultReuseWindow, at most 5 min
	// MFA, when set, is asked for a second factor at login for users who
	// enrolled; users holding one of MFARoles must have enrolled.
	MFA      *mfa.Service
	MFARoles []string
	// Accounts creates the accounts of SSO users (runtime/user's
	// Service); required when an SSO provider is enabled.
	Accounts ExternalAccounts
	// SSOSecrets holds the client secret of each declared SSO provider,
	// read from the environment variable the spec names. A provider
	// without one is disabled (not shown, its endpoints answer 404).
	SSOSecrets map[string]string
	// HTTPClient makes the calls to SSO providers (discovery, keys,
	// token); default: a client with a 10 s timeout.
	HTTPClient *http.Client
}

// ExternalAccounts creates accounts for identities of SSO providers
// (runtime/user.Service).
type ExternalAccounts interface {
	CreateExternal(ctx context.Context, tx pgx.Tx, e user.External) (uuid.UUID, error)
}

// Server is the OAuth2 / OpenID Connect provider.
type Server struct {
	cfg     Config
	pool    *pgxpool.Pool
	project *project.Project
	tokens  *auth.Tokens
	logger  *slog.Logger
	clock   func() time.Time
	issuer  string
	hmacKey []byte
	mux     *http.ServeMux
	// sso are the enabled SSO providers by name.
	sso        map[string]*ssoProvider
	httpClient *http.Client
	// oauth1AEAD encrypts OAuth 1.0 credential secrets.
	oauth1AEAD cipher.AEAD
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the OAuth tables (core/0020_oauth.sql, ...). They
// reference users: apply them after the identity migrations.
func Migrations() []db.Migration {
	migs, err := db.MigrationsFromFS(migrationFS, "migrations", "core")
	if err != nil {
		panic("oauth: embedded migrations: " + err.Error()) // cannot happen: tested
	}
	return migs
}

// New returns the provider. It loads (or creates) the server secret, so the
// database must be migrated.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	cfg.CodeTTL = min(cfg.CodeTTL, MaxCodeTTL)
	if cfg.SecretOverlap <= 0 {
		cfg.SecretOverlap = DefaultSecretOverlap
	}
	if cfg.ReuseWindow <= 0 {
		cfg.ReuseWindow = DefaultReuseWindow
	}
	cfg.ReuseWindow = min(cfg.ReuseWindow, maxReuseWindow)
	if cfg.Pool == nil || cfg.Project == nil || cfg.Tokens == nil {
		return nil, errors.New("oauth: Pool, Project and Tokens are required")
	}
	secret := cfg.Secret
	if secret == nil {
		var err error
		if secret, err = LoadSecret(ctx, cfg.Pool, cfg.Clock()); err != nil {
			return nil, err
		}
	}
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("oauth: server secret must be at least %d bytes", MinSecretLen)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "exhgen oauth token hmac v1", 32)
	if err != nil {
		return nil, fmt.Errorf("oauth: derive key: %w", err)
	}
	aead, err := newOAuth1AEAD(secret)
	if err != nil {
		return nil, fmt.Errorf("oauth: oauth1 key: %w", err)
	}
	s := &Server{
		cfg: cfg, pool: cfg.Pool, project: cfg.Project, tokens: cfg.Tokens, logger: cfg.Logger,
		clock: cfg.Clock, issuer: strings.TrimSuffix(cfg.Tokens.Issuer(), "/"), hmacKey: key,
		sso: ssoSetup(cfg.Project, cfg.SSOSecrets), httpClient: cfg.HTTPClient, oauth1AEAD: aead,
	}
	if len(s.sso) > 0 && cfg.Accounts == nil {
		return nil, errors.New("oauth: SSO providers need Config.Accounts to create users")
	}
	if s.httpClient == nil {
		s.httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	s.routes()
	return s, nil
}

// Enabled reports whether a project needs the provider mounted: it
// declares applications, or one of its roles may issue OAuth 1.0
// credentials (their signed requests are verified by OAuth1Middleware),
// or it requires MFA for some roles (whose holders enrol at
// /oauth/mfa/totp). runtime/app mounts the provider, and the generator
// documents its endpoints, exactly when this holds.
func Enabled(p *project.Project) bool {
	if len(p.Applications) > 0 || len(p.Auth.MFARequiredForRoles) > 0 {
		return true
	}
	for _, r := range p.Roles {
		if permission.MatchAny(r.Permissions, PermCreateOAuth1) {
			return true
		}
	}
	return false
}

// LoadSecret returns the server secret stored in the database, creating it
// on first use (replicas racing agree on the first one inserted).
func LoadSecret(ctx context.Context, pool *pgxpool.Pool, now time.Time) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("oauth: generate server secret: %w", err)
	}
	var secret []byte
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO oauth_server_secret (id, secret, created_at) VALUES (1, $1, $2)
			ON CONFLICT (id) DO NOTHING`, fresh, now); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT secret FROM oauth_server_secret WHERE id = 1`).Scan(&secret)
	})
	if err != nil {
		return nil, fmt.Errorf("oauth: load server secret: %w", err)
	}
	return secret, nil
}

// Handler serves the provider's endpoints: mount it at /oauth/ and
// /.well-known/openid-configuration.
func (s *Server) Handler() http.Handler { return s.mux }

// Routes lists the method and path of every endpoint Handler serves, as
// the OpenAPI fragment documents them.
func Routes() []string {
	return []string{
		"GET /.well-known/openid-configuration",
		"GET /oauth/authorize",
		"POST /oauth/authorize",
		"POST /oauth/token",
		"POST /oauth/revoke",
		"POST /oauth/introspect",
		"GET /oauth/userinfo",
		"POST /oauth/userinfo",
		"GET /oauth/applications",
		"POST /oauth/applications/{client_id}/secrets",
		"GET /oauth/grants",
		"DELETE /oauth/grants/{id}",
		"POST /oauth/mfa/totp",
		"POST /oauth/mfa/totp/confirm",
		"DELETE /oauth/mfa/totp",
		"POST /oauth/mfa/recovery-codes",
		"POST /oauth/authorize/sso/{provider}",
		"GET /oauth/authorize/sso/{provider}/callback",
		"GET /oauth/authorize/sso/{provider}/link",
		"POST /oauth/authorize/sso/{provider}/link",
		"POST /oauth/sso/links/{provider}",
		"GET /oauth/sso/identities",
		"DELETE /oauth/sso/identities/{id}",
		"POST /oauth/oauth1/credentials",
		"GET /oauth/oauth1/credentials",
		"DELETE /oauth/oauth1/credentials/{id}",
		"POST /oauth/keys",
	}
}

func (s *Server) routes() {
	m := http.NewServeMux()
	handlers := map[string]http.HandlerFunc{
		"GET /.well-known/openid-configuration":        s.discovery,
		"GET /oauth/authorize":                         s.authorizePage,
		"POST /oauth/authorize":                        s.authorizeSubmit,
		"POST /oauth/token":                            s.token,
		"POST /oauth/revoke":                           s.revoke,
		"POST /oauth/introspect":                       s.introspect,
		"GET /oauth/userinfo":                          s.userinfo,
		"POST /oauth/userinfo":                         s.userinfo,
		"GET /oauth/applications":                      s.listApplications,
		"POST /oauth/applications/{client_id}/secrets": s.rotateSecret,
		"GET /oauth/grants":                            s.listGrants,
		"DELETE /oauth/grants/{id}":                    s.revokeGrant,
		"POST /oauth/mfa/totp":                         s.beginTOTP,
		"POST /oauth/mfa/totp/confirm":                 s.confirmTOTP,
		"DELETE /oauth/mfa/totp":                       s.disableTOTP,
		"POST /oauth/mfa/recovery-codes":               s.regenerateCodes,
		"POST /oauth/authorize/sso/{provider}":         s.ssoStart,
		"GET /oauth/authorize/sso/{provider}/callback": s.ssoCallback,
		"GET /oauth/authorize/sso/{provider}/link":     s.ssoLinkStart,
		"POST /oauth/authorize/sso/{provider}/link":    s.ssoLinkConfirm,
		"POST /oauth/sso/links/{provider}":             s.ssoLinkTicket,
		"GET /oauth/sso/identities":                    s.listIdentities,
		"DELETE /oauth/sso/identities/{id}":            s.unlinkIdentity,
		"POST /oauth/oauth1/credentials":               s.issueOAuth1,
		"GET /oauth/oauth1/credentials":                s.listOAuth1,
		"DELETE /oauth/oauth1/credentials/{id}":        s.revokeOAuth1,
		"POST /oauth/keys":                             s.rotateKey,
	}
	for _, r := range Routes() {
		m.HandleFunc(r, handlers[r])
	}
	// Every other method or path under the provider's prefixes gets the
	// documented JSON error (IN-5), not ServeMux's plain-text 404 and 405.
	m.HandleFunc(fallbackPrefix, s.fallback)
	m.HandleFunc(fallbackDiscovery, s.fallback)
	s.mux = m
}

// The patterns of fallback: what no route under them matches.
const (
	fallbackPrefix    = "/oauth/"
	fallbackDiscovery = "/.well-known/openid-configuration"
)

// fallback answers a request no route matches: 405 method_not_allowed with
// an Allow header if the path has routes for other methods (204 for an
// OPTIONS preflight), else 404 not_found.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = method
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != fallbackPrefix && pattern != fallbackDiscovery {
			allowed = append(allowed, method)
		}
	}
	if len(allowed) == 0 {
		server.NotFound(w, r)
		return
	}
	server.MethodNotAllowed(w, r, strings.Join(allowed, ", "))
}

// newToken returns a fresh opaque token: prefix and 256 random bits,
// base64url-encoded.
func newToken(prefix string) string {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic("oauth: crypto/rand failed: " + err.Error()) // never returns an error (Go ≥1.24)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Token prefixes: they make leaked tokens recognisable by secret scanners.
const (
	prefixCode    = "exh_ac_"
	prefixRefresh = "exh_rt_"
	prefixSecret  = "exh_cs_"
	prefixLogin   = "exh_lr_"
	prefixMFA     = "exh_mt_"
)

// sig is the HMAC-SHA-256 signature under which an opaque token of the
// given kind is stored: the database never holds the token (TOK-7).
func (s *Server) sig(kind, token string) []byte {
	m := hmac.New(sha256.New, s.hmacKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(token))
	return m.Sum(nil)
}

func (s *Server) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// app returns the declared application with client_id id.
func (s *Server) app(id string) (*project.Application, bool) { return s.project.Application(id) }

// accessTTL and refreshTTL are an application's token lifetimes.
func (s *Server) accessTTL(a *project.Application) time.Duration {
	if a.AccessTokenTTL > 0 {
		return time.Duration(a.AccessTokenTTL)
	}
	return time.Duration(s.project.Auth.AccessTokenTTL)
}

func (s *Server) refreshTTL(a *project.Application) time.Duration {
	if a.RefreshTokenTTL > 0 {
		return time.Duration(a.RefreshTokenTTL)
	}
	if d := time.Duration(s.project.Auth.RefreshTokenTTL); d > 0 {
		return d
	}
	return 30 * 24 * time.Hour
}

func encodeSig(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
