package oauth

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/auth"
)

func kidOf(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, &jwt.RegisteredClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}

func (e *env) jwksKids() []string {
	e.t.Helper()
	st, body := e.do(http.MethodGet, "/.well-known/jwks.json", "")
	var set struct{ Keys []auth.JWK }
	if err := json.Unmarshal(body, &set); st != http.StatusOK || err != nil {
		e.t.Fatalf("jwks: %d %s", st, body)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

// TOK-4: an admin rotates the signing key through the API. The new key
// has a new kid and signs from now on; tokens of the old key verify until
// they expire, and once the old key is retired for good, even a token it
// signs with a far exp is refused.
func TestTOK4_KeyRotationThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	oldKid := kidOf(t, admin)

	user := e.mobileTokens("admin@clinic.example")["access_token"].(string)
	e.register("nurse@clinic.example")
	if st, _ := e.do(http.MethodPost, "/oauth/keys", e.mobileTokens("nurse@clinic.example")["access_token"].(string)); st != http.StatusForbidden {
		t.Fatalf("rotation without the permission: %d", st)
	}
	st, body := e.do(http.MethodPost, "/oauth/keys", admin)
	var out struct{ Kid string }
	_ = json.Unmarshal(body, &out)
	if st != http.StatusCreated || out.Kid == "" || out.Kid == oldKid {
		t.Fatalf("rotate: %d %s (old kid %s)", st, body, oldKid)
	}
	if kids := e.jwksKids(); len(kids) != 2 || kids[0] != out.Kid || kids[1] != oldKid {
		t.Errorf("JWKS after rotation: %v, want [%s %s]", kids, out.Kid, oldKid)
	}
	fresh := e.mobileTokens("admin@clinic.example")["access_token"].(string)
	if kidOf(t, fresh) != out.Kid {
		t.Errorf("new tokens signed by %s, want %s", kidOf(t, fresh), out.Kid)
	}
	if !e.authenticated(user) || !e.authenticated(fresh) {
		t.Fatal("a token of the old or the new key is refused right after the rotation")
	}

	// The old key, read back: it could still sign, were it not retired.
	var der []byte
	if err := e.pool.QueryRow(t.Context(), `SELECT private_key FROM auth_signing_keys WHERE kid = $1`, oldKid).Scan(&der); err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	forge := func() string {
		now := e.clock.Now()
		c := auth.AccessClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: e.issuer, Audience: jwt.ClaimStrings{e.issuer},
			Subject: uuid.NewString(), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)), ID: uuid.NewString()}}
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
		tok.Header["kid"], tok.Header["typ"] = oldKid, "at+jwt"
		s, err := tok.SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := e.tokens.Verify(t.Context(), forge()); err != nil {
		t.Fatalf("old key within its window: %v", err)
	}

	// Past the longest token lifetime (+ leeway and key cache): retired.
	e.clock.Advance(auth.MaxAccessTokenTTL + auth.MaxLeeway + 2*time.Minute)
	if _, err := e.tokens.Verify(t.Context(), forge()); err == nil || !strings.Contains(err.Error(), "retired") && !strings.Contains(err.Error(), "kid") {
		t.Fatalf("retired key: %v", err)
	}
	if st, _ := e.do(http.MethodGet, "/users/me", forge()); st != http.StatusUnauthorized {
		t.Errorf("retired key over HTTP: %d", st)
	}
	if kids := e.jwksKids(); len(kids) != 1 || kids[0] != out.Kid {
		t.Errorf("JWKS after retirement: %v", kids)
	}
	if !e.authenticated(e.mobileTokens("admin@clinic.example")["access_token"].(string)) {
		t.Error("the new key's tokens are refused")
	}
}
