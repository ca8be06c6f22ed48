package oauth

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/server"
)

// Permissions of the admin endpoints.
const (
	PermReadApplications   = "auth:applications:read"
	PermUpdateApplications = "auth:applications:update"
)

// authenticateClient identifies the client of a token, revocation or
// introspection request: HTTP Basic (client_secret_basic) or client_id and
// client_secret in the form (client_secret_post); public clients send
// client_id alone (OA-5).
func (s *Server) authenticateClient(ctx context.Context, r *http.Request) (*project.Application, *Error) {
	id, secret, basic := r.BasicAuth()
	form := r.PostForm
	if basic {
		if form.Has("client_secret") {
			return nil, badRequest(errInvalidRequest, "Use one client authentication method.")
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, &Error{Status: http.StatusUnauthorized, Code: errInvalidClient, Description: "Client authentication failed.", basic: true}
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return nil, badRequest(errInvalidRequest, "client_id does not match the authenticated client.")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	fail := &Error{Status: http.StatusUnauthorized, Code: errInvalidClient, Description: "Client authentication failed.", basic: basic}
	if id == "" {
		return nil, fail
	}
	app, ok := s.app(id)
	if !ok {
		return nil, fail
	}
	if app.Type == project.AppPublic {
		if secret != "" {
			return nil, fail
		}
		return app, nil
	}
	if secret == "" {
		return nil, fail
	}
	ok, err := s.checkSecret(ctx, id, secret)
	if err != nil {
		s.logger.ErrorContext(ctx, "check client secret", "client_id", id, "error", err)
		return nil, unavailable(err)
	}
	if !ok {
		return nil, fail
	}
	return app, nil
}

func unavailable(err error) *Error {
	if db.IsUnavailable(err) {
		return oauthErr(http.StatusServiceUnavailable, errTemporarilyUnavailable, "The service is temporarily unavailable. Please retry shortly.")
	}
	return oauthErr(http.StatusInternalServerError, errServerError, "The request could not be completed.")
}

// checkSecret compares the HMAC of secret with every live secret of the
// client in constant time.
func (s *Server) checkSecret(ctx context.Context, clientID, secret string) (bool, error) {
	want := s.sig("client_secret", secret)
	rows, err := db.Query(ctx, s.pool, `SELECT hash FROM oauth_client_secrets
		WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2)`, clientID, s.now())
	if err != nil {
		return false, err
	}
	defer rows.Close()
	match := false
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return false, err
		}
		if hmac.Equal(h, want) {
			match = true // keep going: the time does not depend on which matched
		}
	}
	return match, rows.Err()
}

// SecretInfo describes a client secret without revealing it.
type SecretInfo struct {
	ID        uuid.UUID  `json:"id"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// NewSecret is a freshly issued client secret: shown once.
type NewSecret struct {
	SecretInfo
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// Errors of the admin API.
var (
	errNotConfidential = apierr.New(http.StatusConflict, "application_not_confidential",
		"Only confidential applications have client secrets.")
)

// RotateSecret issues a new secret for a confidential application. Secrets
// issued before keep working for the overlap (SecretOverlap), so clients
// can be redeployed (OA-5). The secret is returned once and stored as an
// HMAC.
func (s *Server) RotateSecret(ctx context.Context, clientID string, actor *uuid.UUID) (*NewSecret, error) {
	app, ok := s.app(clientID)
	if !ok {
		return nil, apierr.ErrNotFound
	}
	if app.Type != project.AppConfidential {
		return nil, errNotConfidential
	}
	secret := newToken(prefixSecret)
	now := s.now()
	out := &NewSecret{SecretInfo: SecretInfo{ID: uuid.New(), CreatedAt: now}, ClientID: clientID, ClientSecret: secret}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE oauth_client_secrets SET expires_at = $1
			WHERE client_id = $2 AND (expires_at IS NULL OR expires_at > $1)`, now.Add(s.cfg.SecretOverlap), clientID); err != nil {
			return fmt.Errorf("expire old secrets: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oauth_client_secrets (id, client_id, hash, created_at) VALUES ($1, $2, $3, $4)`,
			out.ID, clientID, s.sig("client_secret", secret), now); err != nil {
			return fmt.Errorf("store secret: %w", err)
		}
		return audit.Write(ctx, tx, audit.Entry{ActorID: actor, ClientID: clientID, Action: "oauth.client_secret.rotate",
			Resource: "application", ResourceID: clientID, Outcome: audit.Success, At: now,
			Details: map[string]any{"secret_id": out.ID.String()}})
	})
	if err != nil {
		return nil, fmt.Errorf("rotate client secret: %w", err)
	}
	return out, nil
}

// ApplicationInfo is an application as the admin API lists it.
type ApplicationInfo struct {
	ClientID     string       `json:"client_id"`
	Type         string       `json:"type"`
	GrantTypes   []string     `json:"grant_types"`
	RedirectURIs []string     `json:"redirect_uris"`
	Scopes       []string     `json:"scopes"`
	Secrets      []SecretInfo `json:"secrets"`
}

// Applications lists the declared applications with their live secrets.
func (s *Server) Applications(ctx context.Context) ([]ApplicationInfo, error) {
	rows, err := db.Query(ctx, s.pool, `SELECT id, client_id, created_at, expires_at FROM oauth_client_secrets
		WHERE expires_at IS NULL OR expires_at > $1 ORDER BY created_at DESC, id`, s.now())
	if err != nil {
		return nil, fmt.Errorf("list client secrets: %w", err)
	}
	defer rows.Close()
	secrets := map[string][]SecretInfo{}
	for rows.Next() {
		var (
			si  SecretInfo
			cid string
		)
		if err := rows.Scan(&si.ID, &cid, &si.CreatedAt, &si.ExpiresAt); err != nil {
			return nil, fmt.Errorf("list client secrets: %w", err)
		}
		secrets[cid] = append(secrets[cid], si)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list client secrets: %w", err)
	}
	out := []ApplicationInfo{}
	for _, a := range s.project.Applications {
		info := ApplicationInfo{ClientID: a.Name, Type: a.Type, GrantTypes: nonNil(a.GrantTypes),
			RedirectURIs: nonNil(a.RedirectURIs), Scopes: nonNil(a.Scopes), Secrets: secrets[a.Name]}
		if info.Secrets == nil {
			info.Secrets = []SecretInfo{}
		}
		out = append(out, info)
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// bearer authenticates the request's bearer token as a user.
func (s *Server) bearer(r *http.Request) (context.Context, *auth.Principal, error) {
	return s.bearerWith(r, s.tokens.Authenticate)
}

// permitted is bearer for an operation needing perm: 403 without it.
func (s *Server) permitted(r *http.Request, perm string) (context.Context, *auth.Principal, error) {
	ctx, p, err := s.bearer(r)
	if err != nil {
		return nil, nil, err
	}
	if !p.Can(perm) {
		return nil, nil, apierr.ErrForbidden
	}
	return ctx, p, nil
}

// bearerWith is bearer with another authentication of the token.
func (s *Server) bearerWith(r *http.Request, authenticate func(context.Context, string) (context.Context, error)) (context.Context, *auth.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, nil, apierr.ErrUnauthorized
	}
	ctx, err := authenticate(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return nil, nil, err
	}
	p, _ := auth.PrincipalFrom(ctx)
	return ctx, p, nil
}

func writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer`)
	}
	server.WriteError(w, r, err)
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) {
	ctx, _, err := s.permitted(r, PermReadApplications)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	apps, err := s.Applications(ctx)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": apps})
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	ctx, p, err := s.permitted(r, PermUpdateApplications)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	out, err := s.RotateSecret(ctx, r.PathValue("client_id"), &p.UserID)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// PermRotateKeys lets an administrator rotate the token signing key.
const PermRotateKeys = "auth:keys:update"

// rotateKey makes a new signing key active (TOK-4): it gets a new kid;
// tokens signed with the previous key keep verifying until they expire,
// then that key is retired for good.
func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) {
	ctx, p, err := s.permitted(r, PermRotateKeys)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	kid, err := s.tokens.Keys().Rotate(ctx)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	if err := audit.Write(ctx, s.pool, audit.Entry{ActorID: &p.UserID, Action: "auth.key.rotate", Resource: "signing_key",
		ResourceID: kid, Outcome: audit.Success, At: s.now()}); err != nil {
		s.logger.ErrorContext(ctx, "audit key rotation", "error", err)
	}
	writeJSON(w, http.StatusCreated, map[string]string{"kid": kid})
}
