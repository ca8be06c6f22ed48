package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ogen-go/ogen/ogenerrors"

	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/user"
)

// TestSecuritySchemesShareTokens: the handlers of the generated API's
// security schemes (bearerAuth, oauth2, openIdConnect, oauth1) accept the
// same access tokens; oauth1 only for requests runtime/oauth verified as
// signed; a request without credentials skips the custom schemes.
func TestSecuritySchemesShareTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := db.Migrate(ctx, pool, user.Migrations()); err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO users (id, email, email_key, language, created_at, updated_at)
		VALUES ($1, 'a@example.test', 'a@example.test', 'en', now(), now())`, id); err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(pool, "https://issuer.test", 15*time.Minute, time.Now)
	tok, _, err := tokens.Issue(ctx, &auth.Principal{UserID: id})
	if err != nil {
		t.Fatal(err)
	}
	d := &Deps{Tokens: tokens}
	req := func(authz string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/data/x/documents", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		return r
	}
	caller := func(t *testing.T, ctx context.Context, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := auth.PrincipalFrom(ctx); !ok || p.UserID != id {
			t.Fatalf("principal = %+v", p)
		}
	}

	// bearerAuth and oauth2: the token; a second scheme reuses the result.
	c1, err := d.Authenticate(ctx, tok)
	caller(t, c1, err)
	c2, err := d.Authenticate(c1, tok)
	caller(t, c2, err)
	if c2 != c1 {
		t.Error("the second scheme authenticated the token again")
	}
	if _, err := d.Authenticate(c1, tok+"x"); err == nil {
		t.Error("another token rode on the first one's result")
	}
	// openIdConnect: the request's bearer token.
	c3, err := d.AuthenticateRequest(ctx, req("Bearer "+tok))
	caller(t, c3, err)
	if _, err := d.AuthenticateRequest(ctx, req("")); !errors.Is(err, ogenerrors.ErrSkipServerSecurity) {
		t.Errorf("no credentials: %v, want skip", err)
	}
	// oauth1: a plain bearer token is not an OAuth 1.0 signed request.
	if _, err := d.AuthenticateOAuth1(ctx, req("Bearer "+tok)); !errors.Is(err, ogenerrors.ErrSkipServerSecurity) {
		t.Errorf("bearer token as oauth1: %v, want skip", err)
	}
	signed := auth.Preauthenticated(req(`OAuth oauth_consumer_key="k"`), id, "oauth1:k")
	c4, err := d.AuthenticateOAuth1(signed.Context(), signed)
	caller(t, c4, err)
}
