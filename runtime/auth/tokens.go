package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
)

// Token limits and defaults.
const (
	// TypAccessToken is the JOSE typ of access tokens (RFC 9068 §2.1).
	TypAccessToken = "at+jwt"
	// MaxAccessTokenTTL caps the access token lifetime (TOK-5).
	MaxAccessTokenTTL = time.Hour
	// DefaultAccessTokenTTL is used when the project sets none.
	DefaultAccessTokenTTL = 15 * time.Minute
	// MaxLeeway caps the clock skew tolerated on exp and nbf (TOK-3).
	MaxLeeway = time.Minute
	// DefaultLeeway is the clock skew tolerated unless WithLeeway says otherwise.
	DefaultLeeway = 30 * time.Second
	// maxTokenLen bounds the size of a token before it is parsed.
	maxTokenLen = 8 << 10
)

// AccessClaims are the claims of an access token (RFC 9068).
type AccessClaims struct {
	jwt.RegisteredClaims
	// Set on tokens issued through OAuth2 (IssueAccess).
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
	GrantID  string `json:"sid,omitempty"`
	AuthTime int64  `json:"auth_time,omitempty"`
	// SessionID is the login session (runtime/user) a token issued by Issue
	// belongs to. Revoking the session revokes the token at once (AUTH-8).
	// (sid is the OAuth2 grant, checked by WithRevocationCheck.)
	SessionID string `json:"session_id,omitempty"`
}

// Tokens issues and verifies JWT access tokens signed with ES256 keys from
// the auth_signing_keys table, and resolves a verified token to the caller's
// Principal with the roles currently stored for the user.
type Tokens struct {
	pool     *pgxpool.Pool
	issuer   string
	audience string
	ttl      time.Duration
	leeway   time.Duration
	clock    func() time.Time
	roles    RolePermissions
	groups   RolePermissions
	members  MembershipLoader
	keys     *Keys
	parser   *jwt.Parser

	keyCacheTTL     time.Duration
	unknownKidEvery time.Duration
	verified        *verifiedCache
	userCacheTTL    time.Duration
	users           *userCache
	revoked         RevocationCheck
}

// Option configures Tokens.
type Option func(*Tokens)

// WithAudience sets the aud claim put into and required in access tokens
// (default: the issuer).
func WithAudience(aud string) Option { return func(t *Tokens) { t.audience = aud } }

// WithLeeway sets the clock skew tolerated on exp and nbf, capped at
// MaxLeeway.
func WithLeeway(d time.Duration) Option {
	return func(t *Tokens) { t.leeway = min(max(d, 0), MaxLeeway) }
}

// WithRoles sets the role definitions permissions are computed from.
func WithRoles(roles []project.Role) Option {
	return func(t *Tokens) { t.roles = NewRolePermissions(roles) }
}

// WithGroupRoles sets the group role definitions group permissions are
// computed from.
func WithGroupRoles(roles []project.Role) Option {
	return func(t *Tokens) { t.groups = NewRolePermissions(roles) }
}

// Memberships are a user's group memberships as Authenticate loads them.
type Memberships struct {
	Staff    map[uuid.UUID][]string // group → the user's group role names there
	Patients []uuid.UUID            // groups the user is an unexpired patient of
}

// MembershipLoader reads a user's current group memberships
// (runtime/group provides one). Callers changing memberships call
// ForgetUser after the commit.
type MembershipLoader func(ctx context.Context, userID uuid.UUID) (Memberships, error)

// WithMemberships makes Authenticate load the caller's group memberships
// into the Principal (cached like the user's roles).
func WithMemberships(load MembershipLoader) Option {
	return func(t *Tokens) { t.members = load }
}

// WithUserCache sets how long Authenticate reuses a user's roles read from
// the database (default DefaultUserCacheTTL; 0 reads them on every request).
func WithUserCache(ttl time.Duration) Option { return func(t *Tokens) { t.userCacheTTL = ttl } }

// WithKeyCache sets how long signing keys are cached before they are
// reloaded (default 1 min), and how often at most a token with an unknown
// kid may trigger a reload (default 10 s).
func WithKeyCache(ttl, unknownKidEvery time.Duration) Option {
	return func(t *Tokens) { t.keyCacheTTL, t.unknownKidEvery = ttl, unknownKidEvery }
}

// NewTokens returns Tokens issuing access tokens for issuer that live ttl
// (DefaultAccessTokenTTL when ttl <= 0, at most MaxAccessTokenTTL). clock
// gives the current time (time.Now when nil).
func NewTokens(pool *pgxpool.Pool, issuer string, ttl time.Duration, clock func() time.Time, opts ...Option) *Tokens {
	if ttl <= 0 {
		ttl = DefaultAccessTokenTTL
	}
	if clock == nil {
		clock = time.Now
	}
	t := &Tokens{
		pool: pool, issuer: issuer, audience: issuer, ttl: min(ttl, MaxAccessTokenTTL),
		leeway: DefaultLeeway, clock: clock, roles: RolePermissions{}, groups: RolePermissions{},
		keyCacheTTL: time.Minute, unknownKidEvery: 10 * time.Second, userCacheTTL: DefaultUserCacheTTL,
	}
	for _, o := range opts {
		o(t)
	}
	t.keys = newKeys(pool, clock, t.ttl+t.leeway, t.keyCacheTTL, t.unknownKidEvery)
	t.verified = newVerifiedCache(verifiedCacheSize, verifiedCacheTTL)
	t.users = newUserCache(verifiedCacheSize, t.userCacheTTL)
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{AlgES256}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithLeeway(t.leeway),
		jwt.WithTimeFunc(clock),
		jwt.WithStrictDecoding(),
	)
	return t
}

// Keys returns the signing key set (for rotation and the JWKS).
func (t *Tokens) Keys() *Keys { return t.keys }

// TTL returns the access token lifetime.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for p with the active key.
func (t *Tokens) Issue(ctx context.Context, p *Principal) (token string, expiresIn time.Duration, err error) {
	if p == nil || p.UserID == uuid.Nil {
		return "", 0, errors.New("issue access token: no principal")
	}
	key, err := t.keys.signing(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("issue access token: %w", err)
	}
	now := t.clock().Truncate(time.Second)
	claims := AccessClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    t.issuer,
		Subject:   p.UserID.String(),
		Audience:  jwt.ClaimStrings{t.audience},
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		NotBefore: jwt.NewNumericDate(now),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        uuid.NewString(),
	}}
	if p.SessionID != uuid.Nil {
		claims.SessionID = p.SessionID.String()
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = key.kid
	tok.Header["typ"] = TypAccessToken
	signed, err := tok.SignedString(key.private)
	if err != nil {
		return "", 0, fmt.Errorf("issue access token: sign: %w", err)
	}
	return signed, t.ttl, nil
}

// Verify checks an access token: ES256 only, the key chosen solely by kid
// among the local keys (jku, x5u and jwk headers are ignored), typ at+jwt,
// exp required, exp/nbf/iat with leeway, iss and aud (TOK-1..TOK-4). A
// token that fails a check is a 401 *apierr.Error, the reason kept as its
// cause for logs. When the signing keys cannot be reloaded from the
// database, the keys loaded before keep verifying; with none loaded yet, the
// error is a 503 *apierr.Error: an outage must not look like a bad token,
// which clients throw away.
func (t *Tokens) Verify(ctx context.Context, token string) (*AccessClaims, error) {
	if token == "" || len(token) > maxTokenLen {
		return nil, unauthorized(errors.New("token missing or too long"))
	}
	now := t.clock()
	if c, ok := t.verified.get(token, now); ok {
		return c, nil
	}
	var (
		claims AccessClaims
		keyErr *apierr.Error // the keys could not be loaded: no verdict
	)
	_, err := t.parser.ParseWithClaims(token, &claims, func(tok *jwt.Token) (any, error) {
		typ, _ := tok.Header["typ"].(string)
		if !isAccessTokenTyp(typ) {
			return nil, fmt.Errorf("typ %q is not %s", typ, TypAccessToken)
		}
		kid, _ := tok.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid")
		}
		key, err := t.keys.verifying(ctx, kid)
		if err != nil {
			errors.As(err, &keyErr)
			return nil, err
		}
		if tok.Method.Alg() != key.alg {
			return nil, fmt.Errorf("alg %q not allowed for key %q", tok.Method.Alg(), kid)
		}
		return key.public, nil
	})
	if keyErr != nil {
		return nil, keyErr
	}
	if err != nil {
		return nil, unauthorized(err)
	}
	if _, err := uuid.Parse(claims.Subject); err != nil {
		return nil, unauthorized(errors.New("sub is not a user id"))
	}
	if claims.SessionID != "" {
		if _, err := uuid.Parse(claims.SessionID); err != nil {
			return nil, unauthorized(errors.New("session_id is not a session id"))
		}
	}
	t.verified.put(token, &claims, now)
	return &claims, nil
}

// isAccessTokenTyp accepts "at+jwt" and "application/at+jwt", case-insensitively
// (RFC 9068 §4, RFC 7515 §4.1.9).
func isAccessTokenTyp(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == TypAccessToken || typ == "application/"+TypAccessToken
}

// Authenticate verifies token and returns ctx carrying the Principal, with
// the user's roles as stored now (so revoked roles take effect before the
// token expires) and the permissions those roles grant. A token for a user
// that no longer exists is refused, and so is one whose login session was
// revoked, has expired (SessionTTL), sat unused for SessionIdle (AUTH-8),
// or may only set up MFA (403 mfa_enrollment_required).
func (t *Tokens) Authenticate(ctx context.Context, token string) (context.Context, error) {
	return t.authenticate(ctx, token, false)
}

// AuthenticateEnrollment is Authenticate that also accepts the tokens of a
// session that may only set up MFA (SessionMFAEnrollment), marking the
// Principal EnrollmentOnly. Only the MFA enrolment endpoints use it.
func (t *Tokens) AuthenticateEnrollment(ctx context.Context, token string) (context.Context, error) {
	return t.authenticate(ctx, token, true)
}

func (t *Tokens) authenticate(ctx context.Context, token string, allowEnrollment bool) (context.Context, error) {
	id, ok := preauthenticated(ctx, token)
	var (
		sid      uuid.UUID // the login session; none for pre-authenticated (OAuth1) requests
		grant    uuid.UUID
		authTime time.Time
	)
	if !ok {
		claims, err := t.Verify(ctx, token)
		if err != nil {
			return ctx, err
		}
		if err := t.checkRevoked(ctx, claims); err != nil {
			return ctx, err
		}
		id = uuid.MustParse(claims.Subject)
		if claims.SessionID != "" {
			sid = uuid.MustParse(claims.SessionID) // checked by Verify
		}
		if g, err := uuid.Parse(claims.GrantID); err == nil {
			grant = g
		}
		switch {
		case claims.AuthTime != 0:
			authTime = time.Unix(claims.AuthTime, 0)
		case claims.IssuedAt != nil && claims.ClientID == "":
			authTime = claims.IssuedAt.Time // login tokens are issued at sign-in only
		}
	}
	var err error
	key := userKey{user: id, session: sid}
	p := &Principal{UserID: id, SessionID: sid, GrantID: grant, AuthTime: authTime}
	now := t.clock()
	var entry userEntry
	if u, ok := t.users.get(key, now); ok {
		entry = u
	} else {
		// Noted before the read: if ForgetUser runs after it, what is read
		// may predate the change and must not be cached.
		gen := t.users.generation()
		// The session's last use is recorded at most once a minute, in
		// the same statement (a data-modifying WITH runs whether or not
		// the query reads it).
		err = db.QueryRow(ctx, t.pool, `
			WITH touch AS (
			    UPDATE auth_sessions SET last_seen_at = $3
			    WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL AND expires_at > $3
			      AND last_seen_at > $4 AND last_seen_at <= $5
			    RETURNING id)
			SELECT u.email, u.roles, s.id IS NOT NULL, COALESCE(s.purpose, '')
			FROM users u
			LEFT JOIN auth_sessions s ON s.id = $2 AND s.user_id = u.id
			     AND s.revoked_at IS NULL AND s.expires_at > $3 AND s.last_seen_at > $4
			WHERE u.id = $1 AND u.deleted_at IS NULL`, id, sid, now, now.Add(-SessionIdle), now.Add(-sessionTouchEvery)).
			Scan(&entry.email, &entry.roles, &entry.sessionOK, &entry.sessionPurpose)
		if errors.Is(err, pgx.ErrNoRows) {
			return ctx, unauthorized(errors.New("user no longer exists"))
		}
		if err == nil && t.members != nil {
			var m Memberships
			if m, err = t.members(ctx, id); err == nil {
				entry.staff, entry.patients = m.Staff, m.Patients
			}
		}
		if err != nil {
			// Not a verdict on the token: a 5xx, not something that looks
			// like bad credentials; a 503 when the database is unavailable.
			err = fmt.Errorf("authenticate: load user: %w", err)
			if db.IsUnavailable(err) {
				return ctx, apierr.Wrap(err, http.StatusServiceUnavailable, apierr.CodeUnavailable,
					"The service is temporarily unavailable. Please retry shortly.")
			}
			return ctx, apierr.Wrap(err, http.StatusInternalServerError, apierr.CodeInternal, apierr.ErrInternal.Message)
		}
		t.users.putEntry(key, entry, now, gen)
	}
	if sid != uuid.Nil && !entry.sessionOK {
		return ctx, unauthorized(errors.New("session revoked, expired or idle"))
	}
	if entry.sessionPurpose == SessionMFAEnrollment {
		if !allowEnrollment {
			return ctx, ErrMFAEnrollmentRequired
		}
		p.EnrollmentOnly = true
	}
	p.Email, p.Roles, p.PatientGroups = entry.email, entry.roles, entry.patients
	if p.EnrollmentOnly {
		// Until MFA is set up the session holds no role's rights.
		p.Roles, p.PatientGroups, entry.staff = nil, nil, nil
	}
	if len(entry.staff) > 0 {
		p.GroupPermissions = make(map[uuid.UUID][]string, len(entry.staff))
		for g, roles := range entry.staff {
			p.GroupPermissions[g] = t.groups.Permissions(roles)
		}
	}
	p.Permissions = t.roles.Permissions(p.Roles)
	return WithPrincipal(ctx, p), nil
}

// ForgetUser drops what Authenticate remembers of a user, so a change to
// the user's roles or group memberships, the revocation of a session, or
// the user's deletion, applies at the next request on this replica (other replicas see it within the user cache TTL). Call it
// after the change has committed. An Authenticate that read the user before
// the commit does not put the old state back into the cache.
func (t *Tokens) ForgetUser(id uuid.UUID) { t.users.forget(id) }

// PublicKeys returns the keys that currently verify tokens, newest first.
func (t *Tokens) PublicKeys(ctx context.Context) ([]JWK, error) {
	return t.keys.Public(ctx)
}

// JWKS returns the JSON Web Key Set {"keys":[...]} of PublicKeys.
func (t *Tokens) JWKS(ctx context.Context) ([]byte, error) {
	keys, err := t.keys.Public(ctx)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	b, err := json.Marshal(struct {
		Keys []JWK `json:"keys"`
	}{keys})
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return b, nil
}

func unauthorized(cause error) *apierr.Error {
	return apierr.Wrap(fmt.Errorf("invalid access token: %w", cause),
		http.StatusUnauthorized, apierr.CodeUnauthorized, apierr.ErrUnauthorized.Message)
}
