package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// AccessRequest describes an access token issued through OAuth2 (see
// runtime/oauth): for a user, or for a client acting as itself.
type AccessRequest struct {
	// Subject is the user id, or the client's id (ClientSubject) for the
	// client_credentials grant.
	Subject  uuid.UUID
	ClientID string
	Scope    string // space-separated
	// GrantID names the authorization the token belongs to, so revoking
	// it revokes the token (see WithRevocationCheck).
	GrantID string
	// TTL is the token's lifetime; 0 or more than the Tokens' TTL means the
	// Tokens' TTL (a retired key verifies tokens for that long only).
	TTL time.Duration
	// AuthTime is when the user last authenticated (zero: not set).
	AuthTime time.Time
}

// ClientSubject is the sub of tokens a client obtains for itself
// (client_credentials): a name-based UUID of the client id, which no user
// has, so such tokens are refused where a user is required.
func ClientSubject(clientID string) uuid.UUID {
	return uuid.NewSHA1(clientSubjectNS, []byte(clientID))
}

var clientSubjectNS = uuid.MustParse("6f0c4c4e-6a65-4d8e-9a1f-6578686f6175")

// RevocationCheck reports an error when the authorization an access token
// belongs to (AccessClaims.GrantID) was revoked.
type RevocationCheck func(ctx context.Context, claims *AccessClaims) error

// WithRevocationCheck makes Authenticate (and VerifyActive) call check for
// tokens that carry a grant id, so revoking a grant (RFC 7009, TOK-6,
// TOK-7) also refuses its access tokens before they expire.
func WithRevocationCheck(check RevocationCheck) Option {
	return func(t *Tokens) { t.revoked = check }
}

// IssueAccess signs an access token for an OAuth2 grant (RFC 9068: typ
// at+jwt, iss, aud, sub, client_id, scope, jti, exp, iat, nbf).
func (t *Tokens) IssueAccess(ctx context.Context, r AccessRequest) (string, time.Duration, error) {
	if r.Subject == uuid.Nil || r.ClientID == "" {
		return "", 0, errors.New("issue access token: no subject or client")
	}
	ttl := r.TTL
	if ttl <= 0 || ttl > t.ttl {
		ttl = t.ttl
	}
	now := t.clock().Truncate(time.Second)
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   r.Subject.String(),
			Audience:  jwt.ClaimStrings{t.audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		ClientID: r.ClientID,
		Scope:    r.Scope,
		GrantID:  r.GrantID,
	}
	if !r.AuthTime.IsZero() {
		claims.AuthTime = r.AuthTime.Unix()
	}
	signed, err := t.Sign(ctx, claims, TypAccessToken)
	if err != nil {
		return "", 0, fmt.Errorf("issue access token: %w", err)
	}
	return signed, ttl, nil
}

// Sign signs claims with the active key (ES256, kid header) and the given
// JOSE typ: "at+jwt" for access tokens, "JWT" for OpenID Connect ID tokens.
func (t *Tokens) Sign(ctx context.Context, claims jwt.Claims, typ string) (string, error) {
	key, err := t.keys.signing(ctx)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = key.kid
	tok.Header["typ"] = typ
	signed, err := tok.SignedString(key.private)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return signed, nil
}

// VerifyActive is Verify followed by the revocation check: the claims of
// an access token that is valid now and whose grant is not revoked.
func (t *Tokens) VerifyActive(ctx context.Context, token string) (*AccessClaims, error) {
	claims, err := t.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := t.checkRevoked(ctx, claims); err != nil {
		return nil, err
	}
	return claims, nil
}

func (t *Tokens) checkRevoked(ctx context.Context, claims *AccessClaims) error {
	if t.revoked == nil || claims.GrantID == "" {
		return nil
	}
	return t.revoked(ctx, claims)
}

// Issuer returns the iss of the tokens.
func (t *Tokens) Issuer() string { return t.issuer }

// Audience returns the aud of the access tokens.
func (t *Tokens) Audience() string { return t.audience }
