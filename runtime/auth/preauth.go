package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/google/uuid"
)

// Another authentication scheme than bearer JWTs (OAuth 1.0 signed
// requests, runtime/oauth) authenticates a request before the API's
// security handlers run, which only know bearer tokens. It hands the
// verified user on with Preauthenticated: the request's Authorization
// header is replaced by a bearer token that is random, made for this
// request only and known only to its context, so Authenticate accepts it
// for this request and nowhere else.

type preauthKey struct{}

type preauth struct {
	token    string
	userID   uuid.UUID
	clientID string
}

// Preauthenticated returns a copy of r carrying userID as its verified
// caller, authenticated through clientID (for logs and audit), with a
// one-request bearer token in place of the original Authorization header.
func Preauthenticated(r *http.Request, userID uuid.UUID, clientID string) *http.Request {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (Go ≥1.24)
	pa := preauth{token: "exh_pa_" + base64.RawURLEncoding.EncodeToString(b), userID: userID, clientID: clientID}
	r2 := r.WithContext(context.WithValue(r.Context(), preauthKey{}, pa))
	r2.Header = r.Header.Clone()
	r2.Header.Set("Authorization", "Bearer "+pa.token)
	return r2
}

// preauthenticated returns the user a token stands for when it is the
// context's one-request token.
func preauthenticated(ctx context.Context, token string) (uuid.UUID, bool) {
	pa, ok := ctx.Value(preauthKey{}).(preauth)
	if !ok || subtle.ConstantTimeCompare([]byte(pa.token), []byte(token)) != 1 {
		return uuid.Nil, false
	}
	return pa.userID, true
}

// PreauthenticatedClient returns the client a request was authenticated
// through by another scheme ("" for bearer tokens).
func PreauthenticatedClient(ctx context.Context) string {
	pa, _ := ctx.Value(preauthKey{}).(preauth)
	return pa.clientID
}

// IsPreauthenticated reports whether token is the one-request token of a
// request another scheme authenticated (Preauthenticated).
func IsPreauthenticated(ctx context.Context, token string) bool {
	_, ok := preauthenticated(ctx, token)
	return ok
}
