package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
)

// Discovery is the OpenID Provider Metadata (OIDC Discovery 1.0 §3,
// RFC 8414).
type Discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// Discovery returns the provider metadata.
func (s *Server) Discovery() Discovery {
	var scopes, grants []string
	for _, a := range s.project.Applications {
		for _, sc := range a.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
		for _, g := range a.GrantTypes {
			if !slices.Contains(grants, g) {
				grants = append(grants, g)
			}
		}
	}
	slices.Sort(scopes)
	slices.Sort(grants)
	return Discovery{
		Issuer:                            s.issuer,
		AuthorizationEndpoint:             s.issuer + "/oauth/authorize",
		TokenEndpoint:                     s.issuer + "/oauth/token",
		UserinfoEndpoint:                  s.issuer + "/oauth/userinfo",
		JWKSURI:                           s.issuer + "/.well-known/jwks.json",
		RevocationEndpoint:                s.issuer + "/oauth/revoke",
		IntrospectionEndpoint:             s.issuer + "/oauth/introspect",
		ScopesSupported:                   nonNil(scopes),
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               nonNil(grants),
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{auth.AlgES256},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		ClaimsSupported:                   []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified", "name", "given_name", "family_name", "locale", "zoneinfo"},
		AuthorizationResponseISSSupported: true,
	}
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Discovery())
}

// IDTokenClaims are the claims of an ID token (OIDC Core §2).
type IDTokenClaims struct {
	jwt.RegisteredClaims
	AuthTime int64  `json:"auth_time,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	AZP      string `json:"azp,omitempty"`
	profileClaims
}

type profileClaims struct {
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	Locale        string `json:"locale,omitempty"`
	ZoneInfo      string `json:"zoneinfo,omitempty"`
}

// profile reads the claims the scopes allow for a user.
func (s *Server) profile(ctx context.Context, userID uuid.UUID, scopes []string) (profileClaims, error) {
	var (
		pc                 profileClaims
		email, first, last string
		lang, tz           string
	)
	err := db.QueryRow(ctx, s.pool, `SELECT email, first_name, last_name, language, time_zone FROM users WHERE id = $1`, userID).
		Scan(&email, &first, &last, &lang, &tz)
	if err != nil {
		return pc, err
	}
	if slices.Contains(scopes, "email") {
		pc.Email = email
		f := false // no email verification yet
		pc.EmailVerified = &f
	}
	if slices.Contains(scopes, "profile") {
		pc.GivenName, pc.FamilyName, pc.Locale, pc.ZoneInfo = first, last, lang, tz
		pc.Name = strings.TrimSpace(first + " " + last)
	}
	return pc, nil
}

func (s *Server) idToken(ctx context.Context, app *project.Application, in *issued, ttl time.Duration) (string, error) {
	pc, err := s.profile(ctx, in.userID, in.scopes)
	if err != nil {
		return "", fmt.Errorf("id token: %w", err)
	}
	now := s.clock().Truncate(time.Second)
	c := IDTokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.issuer, Subject: in.userID.String(), Audience: jwt.ClaimStrings{app.Name},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), IssuedAt: jwt.NewNumericDate(now), ID: uuid.NewString(),
		},
		Nonce: in.nonce, AZP: app.Name, profileClaims: pc,
	}
	if !in.authTime.IsZero() {
		c.AuthTime = in.authTime.Unix()
	}
	// typ JWT, never at+jwt: an ID token is refused as an access token (TOK-3).
	return s.tokens.Sign(ctx, c, "JWT")
}

// userinfo is OIDC Core §5.3: the claims of the access token's user, as
// its scopes allow.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code string) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error=%q`, code))
		writeJSON(w, status, &Error{Code: code})
	}
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		w.Header().Set("WWW-Authenticate", `Bearer`)
		writeJSON(w, http.StatusUnauthorized, &Error{Code: errInvalidToken})
		return
	}
	ctx := r.Context()
	c, err := s.tokens.VerifyActive(ctx, strings.TrimSpace(token))
	var ae *apierr.Error
	if err != nil && errors.As(err, &ae) && ae.Status >= 500 {
		writeError(w, unavailable(err))
		return
	}
	if err != nil {
		fail(http.StatusUnauthorized, errInvalidToken)
		return
	}
	scopes := strings.Fields(c.Scope)
	if !slices.Contains(scopes, "openid") {
		fail(http.StatusForbidden, "insufficient_scope")
		return
	}
	id, _ := uuid.Parse(c.Subject)
	pc, err := s.profile(ctx, id, scopes)
	if errors.Is(err, pgx.ErrNoRows) {
		fail(http.StatusUnauthorized, errInvalidToken)
		return
	}
	if err != nil {
		writeError(w, unavailable(err))
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Sub string `json:"sub"`
		profileClaims
	}{c.Subject, pc})
}
