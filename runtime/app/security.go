package app

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/ogen-go/ogen/ogenerrors"

	"github.com/exhgen/exhgen/runtime/auth"
)

// The generated API declares one kind of credential under several
// security schemes: bearerAuth (tokens from /auth/login), oauth2 and
// openIdConnect (access tokens from the OAuth2 flows: the same bearer
// JWTs) and oauth1 (RFC 5849 signed requests, which runtime/oauth verifies
// before any handler and hands on as a one-request bearer token). ogen
// calls the handler of every scheme an operation lists, so each of these
// authenticates through auth.Tokens.Authenticate once per request and
// token, and later schemes reuse the result.

type authenticatedKey struct{}

// Authenticate is the security handler of the bearerAuth and oauth2
// schemes: it verifies token (auth.Tokens.Authenticate) unless this
// request has already been authenticated with it.
func (d *Deps) Authenticate(ctx context.Context, token string) (context.Context, error) {
	if done, ok := ctx.Value(authenticatedKey{}).(string); ok && subtle.ConstantTimeCompare([]byte(done), []byte(token)) == 1 {
		return ctx, nil
	}
	ctx, err := d.Tokens.Authenticate(ctx, token)
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, authenticatedKey{}, token), nil
}

// AuthenticateRequest is the security handler of a custom scheme carrying
// a bearer access token (openIdConnect): it authenticates the bearer token
// of r's Authorization header, and skips the scheme (ogen tries the
// operation's others) when there is none.
func (d *Deps) AuthenticateRequest(ctx context.Context, r *http.Request) (context.Context, error) {
	token, ok := bearerToken(r)
	if !ok {
		return ctx, ogenerrors.ErrSkipServerSecurity
	}
	return d.Authenticate(ctx, token)
}

// AuthenticateOAuth1 is the security handler of the oauth1 scheme: it is
// satisfied only by a request runtime/oauth verified as OAuth 1.0 signed
// (auth.Preauthenticated); for any other it skips the scheme.
func (d *Deps) AuthenticateOAuth1(ctx context.Context, r *http.Request) (context.Context, error) {
	token, ok := bearerToken(r)
	if !ok || !auth.IsPreauthenticated(ctx, token) {
		return ctx, ogenerrors.ErrSkipServerSecurity
	}
	return d.Authenticate(ctx, token)
}

// bearerToken returns the token of r's "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	for _, v := range r.Header.Values("Authorization") {
		scheme, token, ok := strings.Cut(v, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && token != "" {
			return token, true
		}
	}
	return "", false
}
