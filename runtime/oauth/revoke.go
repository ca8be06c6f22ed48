package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/user"
)

// ErrTokenRevoked is the cause of the 401 for an access token whose grant
// was revoked.
var ErrTokenRevoked = errors.New("access token revoked")

// RevocationCheck is the auth.RevocationCheck to give auth.Tokens
// (auth.WithRevocationCheck): an access token whose grant is revoked, or
// whose user was deleted, is refused. The Server need not exist yet when
// Tokens is built; checker reads the pool only.
func RevocationCheck(pool *pgxpool.Pool) auth.RevocationCheck {
	return func(ctx context.Context, c *auth.AccessClaims) error {
		id, err := uuid.Parse(c.GrantID)
		if err != nil {
			return revokedErr(errors.New("malformed grant id"))
		}
		var revoked bool
		err = db.QueryRow(ctx, pool, `SELECT revoked_at IS NOT NULL FROM oauth_grants WHERE id = $1`, id).Scan(&revoked)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && revoked) {
			return revokedErr(ErrTokenRevoked)
		}
		if err != nil {
			err = fmt.Errorf("check grant: %w", err)
			if db.IsUnavailable(err) {
				return apierr.Wrap(err, http.StatusServiceUnavailable, apierr.CodeUnavailable,
					"The service is temporarily unavailable. Please retry shortly.")
			}
			return apierr.Wrap(err, http.StatusInternalServerError, apierr.CodeInternal, apierr.ErrInternal.Message)
		}
		return nil
	}
}

func revokedErr(cause error) error {
	return apierr.Wrap(fmt.Errorf("invalid access token: %w", cause),
		http.StatusUnauthorized, apierr.CodeUnauthorized, apierr.ErrUnauthorized.Message)
}

// findGrant returns the grant a token belongs to: a refresh token of the
// client, or an access token (JWT) the client was issued. ok is false for
// anything else.
func (s *Server) findGrant(ctx context.Context, token, hint string) (grantID uuid.UUID, clientID string, kind string, ok bool, err error) {
	tryRefresh := func() error {
		err := db.QueryRow(ctx, s.pool, `SELECT r.grant_id, g.client_id FROM oauth_refresh_tokens r
			JOIN oauth_grants g ON g.id = r.grant_id WHERE r.hash = $1`, s.sig("refresh", token)).Scan(&grantID, &clientID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err == nil {
			kind, ok = "refresh_token", true
		}
		return err
	}
	tryAccess := func() {
		c, verr := s.tokens.Verify(ctx, token)
		if verr != nil || c.GrantID == "" {
			return
		}
		id, perr := uuid.Parse(c.GrantID)
		if perr != nil {
			return
		}
		grantID, clientID, kind, ok = id, c.ClientID, "access_token", true
	}
	if strings.HasPrefix(token, prefixRefresh) || hint == "refresh_token" {
		if err := tryRefresh(); err != nil || ok {
			return grantID, clientID, kind, ok, err
		}
		tryAccess()
		return grantID, clientID, kind, ok, nil
	}
	tryAccess()
	if !ok && strings.HasPrefix(token, prefixRefresh) {
		err = tryRefresh()
	}
	return grantID, clientID, kind, ok, err
}

// revoke is RFC 7009: revoking a refresh or access token revokes its whole
// grant (TOK-7). Unknown tokens and tokens of other clients get 200 too.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, ok := s.clientForm(w, r)
	if !ok {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeError(w, badRequest(errInvalidRequest, "token is required."))
		return
	}
	grantID, clientID, kind, ok, err := s.findGrant(ctx, token, r.PostForm.Get("token_type_hint"))
	if err != nil {
		writeError(w, unavailable(err))
		return
	}
	if ok && clientID == app.Name {
		err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
			if err := s.revokeGrantTx(ctx, tx, grantID, "revoked_by_client"); err != nil {
				return err
			}
			return audit.Write(ctx, tx, audit.Entry{ClientID: app.Name, Action: "oauth.token.revoke", Resource: "oauth_grant",
				ResourceID: grantID.String(), Outcome: audit.Success, At: s.now(), Details: map[string]any{"token_type": kind}})
		})
		if err != nil {
			s.logger.ErrorContext(ctx, "revoke token", "error", err)
			writeError(w, unavailable(err))
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// introspect is RFC 7662. Confidential clients may introspect any token
// (they are resource servers); public clients only their own.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, ok := s.clientForm(w, r)
	if !ok {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeError(w, badRequest(errInvalidRequest, "token is required."))
		return
	}
	inactive := map[string]any{"active": false}
	own := func(clientID string) bool { return app.Type == project.AppConfidential || clientID == app.Name }
	if strings.HasPrefix(token, prefixRefresh) {
		var (
			clientID          string
			userID            *uuid.UUID
			scopes            []string
			usedAt, revokedAt *time.Time
			created, expires  time.Time
		)
		err := db.QueryRow(ctx, s.pool, `SELECT g.client_id, g.user_id, g.scopes, r.used_at, g.revoked_at, r.created_at, g.expires_at
			FROM oauth_refresh_tokens r JOIN oauth_grants g ON g.id = r.grant_id WHERE r.hash = $1`, s.sig("refresh", token)).
			Scan(&clientID, &userID, &scopes, &usedAt, &revokedAt, &created, &expires)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && (usedAt != nil || revokedAt != nil || !s.now().Before(expires) || !own(clientID))) {
			writeJSON(w, http.StatusOK, inactive)
			return
		}
		if err != nil {
			writeError(w, unavailable(err))
			return
		}
		out := map[string]any{"active": true, "client_id": clientID, "scope": strings.Join(scopes, " "),
			"token_type": "refresh_token", "iat": created.Unix(), "exp": expires.Unix(), "iss": s.issuer}
		if userID != nil {
			out["sub"] = userID.String()
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	c, err := s.tokens.VerifyActive(ctx, token)
	var ae *apierr.Error
	if err != nil && errors.As(err, &ae) && ae.Status >= 500 {
		writeError(w, unavailable(err))
		return
	}
	if err != nil || !own(c.ClientID) {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	out := map[string]any{"active": true, "client_id": c.ClientID, "scope": c.Scope, "sub": c.Subject,
		"token_type": "Bearer", "iss": c.Issuer, "aud": []string(c.Audience), "jti": c.ID,
		"exp": c.ExpiresAt.Unix(), "iat": c.IssuedAt.Unix()}
	writeJSON(w, http.StatusOK, out)
}

// GrantInfo is an application's authorization as its user sees it.
type GrantInfo struct {
	ID        uuid.UUID `json:"id"`
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	GrantType string    `json:"grant_type"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Grants lists a user's live authorizations (sessions of applications).
func (s *Server) Grants(ctx context.Context, userID uuid.UUID) ([]GrantInfo, error) {
	rows, err := db.Query(ctx, s.pool, `SELECT id, client_id, scopes, grant_type, created_at, expires_at FROM oauth_grants
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id`, userID, s.now())
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (GrantInfo, error) {
		var g GrantInfo
		err := row.Scan(&g.ID, &g.ClientID, &g.Scopes, &g.GrantType, &g.CreatedAt, &g.ExpiresAt)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	if out == nil {
		out = []GrantInfo{}
	}
	return out, nil
}

// RevokeGrant revokes one of the user's grants with all its tokens. A
// grant of another user is apierr.ErrNotFound.
func (s *Server) RevokeGrant(ctx context.Context, userID, grantID uuid.UUID) error {
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var clientID string
		err := tx.QueryRow(ctx, `UPDATE oauth_grants SET revoked_at = $3, revoked_reason = 'revoked_by_user'
			WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING client_id`, grantID, userID, s.now()).Scan(&clientID)
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("revoke grant: %w", err)
		}
		return audit.Write(ctx, tx, audit.Entry{ActorID: &userID, ClientID: clientID, Action: "oauth.grant.revoke",
			Resource: "oauth_grant", ResourceID: grantID.String(), Outcome: audit.Success, At: s.now()})
	})
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	ctx, p, err := s.bearer(r)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	gs, err := s.Grants(ctx, p.UserID)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": gs})
}

func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) {
	ctx, p, err := s.bearer(r)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		writeAPIError(w, r, apierr.ErrNotFound)
		return
	}
	if err := s.RevokeGrant(ctx, p.UserID, id); err != nil {
		writeAPIError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// UserGrantRevoker returns the user.GrantRevoker of runtime/user: in the
// transaction of a password change or reset it revokes every grant of the
// user (their refresh token families stop working and their access tokens
// fail the revocation check) except keep, and audits it (AUTH-8).
func UserGrantRevoker(clock func() time.Time) user.GrantRevoker {
	return func(ctx context.Context, tx pgx.Tx, userID, keep uuid.UUID, reason string) error {
		now := clock().UTC()
		tag, err := tx.Exec(ctx, `UPDATE oauth_grants SET revoked_at = $3, revoked_reason = $4
			WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL`, userID, keep, now, reason)
		if err != nil {
			return fmt.Errorf("revoke grants: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return audit.Write(ctx, tx, audit.Entry{ActorID: &userID, Action: "oauth.grant.revoke", Resource: "user",
			ResourceID: userID.String(), Outcome: audit.Success, Reason: reason, At: now,
			Details: map[string]any{"grants": tag.RowsAffected()}})
	}
}
