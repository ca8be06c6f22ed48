package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/project"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const issuer = "https://api.example.test"

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// identityDB returns a pool on a fresh database with the identity
// migrations of runtime/user applied (read from disk: package user imports
// this one).
func identityDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := dbtest.New(t)
	migs, err := db.MigrationsFromFS(os.DirFS("../user/migrations"), ".", "core")
	if err != nil || len(migs) == 0 {
		t.Fatalf("read identity migrations: %v (%d found)", err, len(migs))
	}
	if _, err := db.Migrate(t.Context(), pool, migs); err != nil {
		t.Fatal(err)
	}
	return pool
}

// addUser inserts a user row directly.
func addUser(t *testing.T, pool *pgxpool.Pool, roles ...string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	if roles == nil {
		roles = []string{}
	}
	_, err := pool.Exec(t.Context(), `
		INSERT INTO users (id, email, email_key, language, roles, created_at, updated_at)
		VALUES ($1, $2, $2, 'en', $3, now(), now())`, id, id.String()+"@example.test", roles)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var testRoles = []project.Role{
	{Name: "clinician", Permissions: []string{"users:read", "data:measurement:read"}},
	{Name: "admin", Permissions: []string{"data:*:read", "users:read"}},
}

type fixture struct {
	pool   *pgxpool.Pool
	clock  *fakeClock
	tokens *Tokens
	user   uuid.UUID
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{pool: identityDB(t), clock: newClock()}
	opts = append([]Option{WithRoles(testRoles), WithLeeway(30 * time.Second)}, opts...)
	f.tokens = NewTokens(f.pool, issuer, 15*time.Minute, f.clock.Now, opts...)
	f.user = addUser(t, f.pool, "clinician")
	return f
}

func (f *fixture) issue(t *testing.T) string {
	t.Helper()
	tok, _, err := f.tokens.Issue(t.Context(), &Principal{UserID: f.user})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// activeKey returns the private signing key and kid the tokens use.
func (f *fixture) activeKey(t *testing.T) *signingKey {
	t.Helper()
	k, err := f.tokens.keys.signing(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// validClaims are the claims of a token Issue would make now.
func (f *fixture) validClaims() jwt.MapClaims {
	now := f.clock.Now()
	return jwt.MapClaims{
		"iss": issuer, "aud": issuer, "sub": f.user.String(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"jti": uuid.NewString(),
	}
}

// sign makes a token with the given method, key, header overrides and claims.
func sign(t *testing.T, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func requireUnauthorized(t *testing.T, err error) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != apierr.CodeUnauthorized {
		t.Fatalf("got %v, want 401 %s", err, apierr.CodeUnauthorized)
	}
	if ae.Message != apierr.ErrUnauthorized.Message || len(ae.Details) != 0 {
		t.Fatalf("public face %q %v reveals more than the generic 401", ae.Message, ae.Details)
	}
}

func TestIssueAndAuthenticate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok, expiresIn, err := f.tokens.Issue(t.Context(), &Principal{UserID: f.user})
	if err != nil {
		t.Fatal(err)
	}
	if expiresIn != 15*time.Minute {
		t.Fatalf("expiresIn = %v", expiresIn)
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &AccessClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["typ"] != TypAccessToken || parsed.Header["alg"] != AlgES256 || parsed.Header["kid"] == "" {
		t.Fatalf("header = %v", parsed.Header)
	}
	c := parsed.Claims.(*AccessClaims)
	now := f.clock.Now()
	if c.Issuer != issuer || !slices.Equal(c.Audience, jwt.ClaimStrings{issuer}) || c.Subject != f.user.String() ||
		c.ID == "" || !c.IssuedAt.Equal(now) || !c.NotBefore.Equal(now) || !c.ExpiresAt.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("claims = %+v", c)
	}

	ctx, err := f.tokens.Authenticate(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := PrincipalFrom(ctx)
	if !ok || p.UserID != f.user || !slices.Equal(p.Roles, []string{"clinician"}) ||
		!slices.Equal(p.Permissions, []string{"data:measurement:read", "users:read"}) {
		t.Fatalf("principal = %+v", p)
	}
	if !p.Can("data:measurement:read") || p.Can("data:measurement:update") {
		t.Fatalf("Can misbehaves for %+v", p.Permissions)
	}
}

// TestAuthenticateUsesCurrentRoles changes the stored user behind the
// cache's back (as another replica would): each change applies once the
// user cache TTL has passed.
func TestAuthenticateUsesCurrentRoles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.issue(t)
	if _, err := f.tokens.Authenticate(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(t.Context(), `UPDATE users SET roles = '{admin,ghost}' WHERE id = $1`, f.user); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(DefaultUserCacheTTL)
	ctx, err := f.tokens.Authenticate(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := PrincipalFrom(ctx)
	if !slices.Equal(p.Roles, []string{"admin", "ghost"}) ||
		!slices.Equal(p.Permissions, []string{"data:*:read", "users:read"}) {
		t.Fatalf("principal after role change = %+v", p)
	}

	if _, err := f.pool.Exec(t.Context(), `UPDATE users SET roles = '{}' WHERE id = $1`, f.user); err != nil {
		t.Fatal(err)
	}
	// Within the TTL the remembered roles still apply; after it, never.
	if ctx, err = f.tokens.Authenticate(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	if p, _ := PrincipalFrom(ctx); len(p.Permissions) == 0 {
		t.Fatal("the user cache was not used within its TTL")
	}
	f.clock.Advance(DefaultUserCacheTTL)
	ctx, err = f.tokens.Authenticate(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := PrincipalFrom(ctx); len(p.Permissions) != 0 {
		t.Fatalf("revoked roles still grant %v", p.Permissions)
	}

	if _, err := f.pool.Exec(t.Context(), `DELETE FROM users WHERE id = $1`, f.user); err != nil {
		t.Fatal(err)
	}
	f.tokens.ForgetUser(f.user) // as the replica deleting the user does
	_, err = f.tokens.Authenticate(t.Context(), tok)
	requireUnauthorized(t, err)
}

func TestTOK1_AlgorithmAllowlist(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := f.activeKey(t)
	pubDER, err := x509.MarshalPKIXPublicKey(key.public)
	if err != nil {
		t.Fatal(err)
	}
	jwkJSON, _ := json.Marshal(key.jwk)
	valid := sign(t, jwt.SigningMethodES256, key.private, map[string]any{"kid": key.kid, "typ": TypAccessToken}, f.validClaims())
	if _, err := f.tokens.Authenticate(t.Context(), valid); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)

	tests := map[string]string{
		"alg none": sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType,
			map[string]any{"kid": key.kid, "typ": TypAccessToken}, f.validClaims()),
		"HS256 with public key DER": sign(t, jwt.SigningMethodHS256, pubDER,
			map[string]any{"kid": key.kid, "typ": TypAccessToken}, f.validClaims()),
		"HS256 with public JWK": sign(t, jwt.SigningMethodHS256, jwkJSON,
			map[string]any{"kid": key.kid, "typ": TypAccessToken}, f.validClaims()),
		"ES384 with kid of ES256 key": sign(t, jwt.SigningMethodES384, p384,
			map[string]any{"kid": key.kid, "typ": TypAccessToken}, f.validClaims()),
		"empty signature": strings.Join(strings.Split(valid, ".")[:2], ".") + ".",
		"no signature":    strings.Join(strings.Split(valid, ".")[:2], "."),
		"garbage":         "not.a.jwt",
		"empty":           "",
		"oversized":       valid + strings.Repeat("A", 9000),
	}
	// Signature bytes flipped.
	parts := strings.Split(valid, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 0xff
	tests["tampered signature"] = parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := f.tokens.Authenticate(t.Context(), tok)
			requireUnauthorized(t, err)
		})
	}
}

func TestTOK2_KeyOnlyFromLocalKeySet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := f.activeKey(t)
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	attackerJWK := publicJWK(&attacker.PublicKey, thumbprint(&attacker.PublicKey))

	tests := map[string]map[string]any{
		"unknown kid":    {"kid": "no-such-kid", "typ": TypAccessToken},
		"no kid":         {"kid": nil, "typ": TypAccessToken},
		"numeric kid":    {"kid": 7, "typ": TypAccessToken},
		"attacker's kid": {"kid": attackerJWK.Kid, "typ": TypAccessToken},
		// The token names a real kid but brings its own key: jku, x5u and
		// jwk must be ignored, so the signature fails against the local key.
		"jku header": {"kid": key.kid, "typ": TypAccessToken, "jku": "https://attacker.example/jwks.json"},
		"x5u header": {"kid": key.kid, "typ": TypAccessToken, "x5u": "https://attacker.example/cert.pem"},
		"jwk header": {"kid": key.kid, "typ": TypAccessToken, "jwk": attackerJWK},
		"jku with attacker kid": {"kid": attackerJWK.Kid, "typ": TypAccessToken,
			"jku": "https://attacker.example/jwks.json"},
	}
	for name, header := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tok := sign(t, jwt.SigningMethodES256, attacker, header, f.validClaims())
			_, err := f.tokens.Authenticate(t.Context(), tok)
			requireUnauthorized(t, err)
		})
	}

	// A jku header on a token signed with the local key changes nothing.
	tok := sign(t, jwt.SigningMethodES256, key.private,
		map[string]any{"kid": key.kid, "typ": TypAccessToken, "jku": "https://attacker.example/jwks.json"}, f.validClaims())
	if _, err := f.tokens.Authenticate(t.Context(), tok); err != nil {
		t.Fatalf("locally signed token with ignored jku refused: %v", err)
	}
}

func TestTOK2_UnknownKidReloadsAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithKeyCache(time.Hour, 10*time.Second))
	ctx := t.Context()
	f.issue(t) // loads and creates the first key

	// Another replica rotates the key; this one has not seen it yet.
	replica := NewTokens(f.pool, issuer, 15*time.Minute, f.clock.Now, WithRoles(testRoles))
	if _, err := replica.Keys().Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	fromReplica, _, err := replica.Issue(ctx, &Principal{UserID: f.user})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.tokens.Authenticate(ctx, fromReplica); err != nil {
		t.Fatalf("token of a new key refused: %v", err)
	}

	// Rotate again: an unknown kid right after a reload is not looked up...
	if _, err := replica.Keys().Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	fromReplica, _, err = replica.Issue(ctx, &Principal{UserID: f.user})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.tokens.Authenticate(ctx, fromReplica)
	requireUnauthorized(t, err)
	// ...but it is once the interval has passed.
	f.clock.Advance(10 * time.Second)
	if _, err := f.tokens.Authenticate(ctx, fromReplica); err != nil {
		t.Fatalf("token of a new key refused after the interval: %v", err)
	}
}

func TestTOK3_ClaimsChecked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := f.activeKey(t)
	hdr := map[string]any{"kid": key.kid, "typ": TypAccessToken}
	now := f.clock.Now()
	with := func(k string, v any) jwt.MapClaims {
		c := f.validClaims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name   string
		header map[string]any
		claims jwt.MapClaims
		ok     bool
	}{
		{"valid", hdr, f.validClaims(), true},
		{"typ application/at+jwt", map[string]any{"kid": key.kid, "typ": "application/at+JWT"}, f.validClaims(), true},
		{"expired within leeway", hdr, with("exp", now.Add(-20*time.Second).Unix()), true},
		{"nbf within leeway", hdr, with("nbf", now.Add(20*time.Second).Unix()), true},
		{"no exp", hdr, with("exp", nil), false},
		{"expired beyond leeway", hdr, with("exp", now.Add(-31*time.Second).Unix()), false},
		{"nbf beyond leeway", hdr, with("nbf", now.Add(31*time.Second).Unix()), false},
		{"iat in the future", hdr, with("iat", now.Add(time.Hour).Unix()), false},
		{"exp as string", hdr, with("exp", "2099-01-01"), false},
		{"wrong iss", hdr, with("iss", "https://other.example"), false},
		{"no iss", hdr, with("iss", nil), false},
		{"wrong aud", hdr, with("aud", "https://other.example"), false},
		{"no aud", hdr, with("aud", nil), false},
		{"aud list with ours", hdr, with("aud", []string{"https://other.example", issuer}), true},
		{"no typ", map[string]any{"kid": key.kid, "typ": nil}, f.validClaims(), false},
		{"typ JWT (ID token)", map[string]any{"kid": key.kid, "typ": "JWT"}, f.validClaims(), false},
		{"no sub", hdr, with("sub", nil), false},
		{"sub not a uuid", hdr, with("sub", "alice"), false},
		{"sub of unknown user", hdr, with("sub", uuid.NewString()), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := sign(t, jwt.SigningMethodES256, key.private, tt.header, tt.claims)
			_, err := f.tokens.Authenticate(t.Context(), tok)
			if tt.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			requireUnauthorized(t, err)
		})
	}
}

func TestTOK3_IssuedTokenExpires(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.issue(t)
	f.clock.Advance(15*time.Minute + 30*time.Second - time.Second)
	if _, err := f.tokens.Authenticate(t.Context(), tok); err != nil {
		t.Fatalf("refused within leeway: %v", err)
	}
	f.clock.Advance(2 * time.Second)
	_, err := f.tokens.Authenticate(t.Context(), tok)
	requireUnauthorized(t, err)
}

func TestTOK3_AudienceOption(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithAudience("clinic-api"))
	tok := f.issue(t)
	if _, err := f.tokens.Authenticate(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	other := NewTokens(f.pool, issuer, 15*time.Minute, f.clock.Now) // audience = issuer
	_, err := other.Authenticate(t.Context(), tok)
	requireUnauthorized(t, err)
}

func TestTOK4_RotationKeepsOldTokensUntilTheyExpire(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	oldTok := f.issue(t)
	oldKid := f.activeKey(t).kid

	newKid, err := f.tokens.Keys().Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if newKid == oldKid {
		t.Fatal("rotation kept the kid")
	}
	newTok := f.issue(t)
	parsed, _, _ := jwt.NewParser().ParseUnverified(newTok, &AccessClaims{})
	if parsed.Header["kid"] != newKid {
		t.Fatalf("new token signed with kid %v, want %s", parsed.Header["kid"], newKid)
	}
	for _, tok := range []string{oldTok, newTok} {
		if _, err := f.tokens.Authenticate(ctx, tok); err != nil {
			t.Fatalf("token refused after rotation: %v", err)
		}
	}
	if kids := jwksKids(t, f.tokens); !slices.Equal(kids, []string{newKid, oldKid}) {
		t.Fatalf("JWKS kids = %v, want [%s %s]", kids, newKid, oldKid)
	}

	// Once every token the old key signed has expired, it is gone.
	f.clock.Advance(15*time.Minute + 30*time.Second + time.Minute + time.Second)
	if kids := jwksKids(t, f.tokens); !slices.Equal(kids, []string{newKid}) {
		t.Fatalf("JWKS kids after the window = %v, want [%s]", kids, newKid)
	}
}

func TestTOK4_RetiredKeyRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	key := f.activeKey(t)
	if _, err := f.tokens.Keys().Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	// A token of the old key that has not expired yet, while the key was
	// retired longer ago than any token it signed may live.
	tok := sign(t, jwt.SigningMethodES256, key.private, map[string]any{"kid": key.kid, "typ": TypAccessToken}, f.validClaims())
	if _, err := f.pool.Exec(ctx, `UPDATE auth_signing_keys SET retired_at = $1 WHERE kid = $2`,
		f.clock.Now().Add(-2*time.Hour), key.kid); err != nil {
		t.Fatal(err)
	}
	fresh := NewTokens(f.pool, issuer, 15*time.Minute, f.clock.Now, WithRoles(testRoles))
	_, err := fresh.Authenticate(ctx, tok)
	requireUnauthorized(t, err)
}

func jwksKids(t *testing.T, tokens *Tokens) []string {
	t.Helper()
	b, err := tokens.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []JWK }
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != AlgES256 || k.Use != "sig" || k.X == "" || k.Y == "" {
			t.Fatalf("bad JWK %+v", k)
		}
		if strings.Contains(string(b), `"d"`) {
			t.Fatal("JWKS contains a private key")
		}
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestReplicasAgreeOnFirstKey(t *testing.T) {
	t.Parallel()
	pool := identityDB(t)
	clock := newClock()
	user := addUser(t, pool)
	const n = 6
	replicas := make([]*Tokens, n)
	toks := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		replicas[i] = NewTokens(pool, issuer, 15*time.Minute, clock.Now)
		wg.Go(func() {
			toks[i], _, errs[i] = replicas[i].Issue(context.Background(), &Principal{UserID: user})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM auth_signing_keys`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 1 {
		t.Fatalf("%d signing keys created, want 1", count)
	}
	for i := range n {
		if _, err := replicas[(i+1)%n].Authenticate(t.Context(), toks[i]); err != nil {
			t.Fatalf("replica %d refused token of replica %d: %v", (i+1)%n, i, err)
		}
	}
}

func TestTOK5_TTLCapped(t *testing.T) {
	t.Parallel()
	if got := NewTokens(nil, issuer, 24*time.Hour, nil).TTL(); got != MaxAccessTokenTTL {
		t.Fatalf("TTL = %v, want %v", got, MaxAccessTokenTTL)
	}
	if got := NewTokens(nil, issuer, 0, nil).TTL(); got != DefaultAccessTokenTTL {
		t.Fatalf("TTL = %v, want %v", got, DefaultAccessTokenTTL)
	}
}

func TestMatchPermission(t *testing.T) {
	t.Parallel()
	tests := []struct {
		granted, wanted string
		want            bool
	}{
		{"data:measurement:read", "data:measurement:read", true},
		{"data:*:read", "data:measurement:read", true},
		{"data:measurement:*", "data:measurement:update", true},
		{"*:*:*", "users:profile:read", true},
		{"data:*:read", "data:measurement:update", false},
		{"data:*", "data:measurement:read", false},
		{"data:measurement:read", "data:measurement", false},
		{"users:read", "users:write", false},
	}
	for _, tt := range tests {
		if got := MatchPermission(tt.granted, tt.wanted); got != tt.want {
			t.Errorf("MatchPermission(%q, %q) = %v, want %v", tt.granted, tt.wanted, got, tt.want)
		}
	}
}
