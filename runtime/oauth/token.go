package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
)

// Grant types beyond RFC 6749's.
const grantMFA = "mfa" // see mfa.go

// TokenResponse is a successful token response (RFC 6749 §5.1, OIDC §3.1.3.3).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// parseForm reads an application/x-www-form-urlencoded body; a parameter
// given twice is an error (RFC 6749 §3.2).
func parseForm(r *http.Request) *Error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return badRequest(errInvalidRequest, "The body must be application/x-www-form-urlencoded.")
	}
	if err := r.ParseForm(); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return oauthErr(http.StatusRequestEntityTooLarge, errInvalidRequest, "The body is too large.")
		}
		return badRequest(errInvalidRequest, "The body is not valid form encoding.")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return badRequest(errInvalidRequest, fmt.Sprintf("The parameter %q is repeated.", k))
		}
	}
	return nil
}

// clientForm parses the form of a client's request to the token,
// revocation or introspection endpoint and authenticates the client; on
// failure it has written the RFC 6749 error.
func (s *Server) clientForm(w http.ResponseWriter, r *http.Request) (*project.Application, bool) {
	if e := parseForm(r); e != nil {
		writeError(w, e)
		return nil, false
	}
	app, e := s.authenticateClient(r.Context(), r)
	if e != nil {
		writeError(w, e)
		return nil, false
	}
	return app, true
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, ok := s.clientForm(w, r)
	if !ok {
		return
	}
	grant := r.PostForm.Get("grant_type")
	var (
		resp *TokenResponse
		err  *Error
	)
	switch grant {
	case "":
		err = badRequest(errInvalidRequest, "grant_type is required.")
	case project.GrantAuthorizationCode, project.GrantRefreshToken, project.GrantClientCredentials, project.GrantPassword, grantMFA:
		registered := grant
		if grant == grantMFA { // the second step of a password login
			registered = project.GrantPassword
		}
		if !app.HasGrant(registered) {
			err = badRequest(errUnauthorizedClient, "The application is not registered for this grant type.")
			break
		}
		switch grant {
		case project.GrantAuthorizationCode:
			resp, err = s.codeGrant(ctx, app, r.PostForm)
		case project.GrantRefreshToken:
			resp, err = s.refreshGrant(ctx, app, r.PostForm)
		case project.GrantClientCredentials:
			resp, err = s.clientCredentialsGrant(ctx, app, r.PostForm)
		case project.GrantPassword:
			resp, err = s.passwordGrant(ctx, app, r.PostForm)
		case grantMFA:
			resp, err = s.mfaGrant(ctx, app, r.PostForm)
		}
	default:
		err = badRequest(errUnsupportedGrantType, "The grant type is not supported.")
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// scopes checks the requested space-separated scopes against allowed
// (OA-4). An empty request means all of allowed.
func checkScopes(requested string, allowed []string) ([]string, *Error) {
	fields := strings.Fields(requested)
	if len(fields) == 0 {
		return slices.Clone(allowed), nil
	}
	var out []string
	for _, f := range fields {
		if !slices.Contains(allowed, f) {
			return nil, badRequest(errInvalidScope, fmt.Sprintf("The scope %q is not allowed for this application.", f))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// verifierRe is a PKCE code_verifier (RFC 7636 §4.1).
var verifierRe = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// challengeRe is an S256 code_challenge: base64url of 32 bytes.
var challengeRe = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// s256 is the S256 code challenge of verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// issued is what a grant's transaction produced, for the response.
type issued struct {
	grantID  uuid.UUID
	userID   uuid.UUID // uuid.Nil for client_credentials
	scopes   []string
	refresh  string
	authTime time.Time
	nonce    string
}

func (s *Server) codeGrant(ctx context.Context, app *project.Application, form map[string][]string) (*TokenResponse, *Error) {
	get := func(k string) string { return first(form[k]) }
	code, redirect, verifier := get("code"), get("redirect_uri"), get("code_verifier")
	if code == "" {
		return nil, badRequest(errInvalidRequest, "code is required.")
	}
	// OA-1: no verifier is a downgrade attempt; a malformed one is refused
	// before the code is looked at.
	if verifier == "" {
		return nil, badRequest(errInvalidGrant, "code_verifier is required (PKCE).")
	}
	if !verifierRe.MatchString(verifier) {
		return nil, badRequest(errInvalidRequest, "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].")
	}
	now := s.now()
	var (
		out  *issued
		fail *Error
	)
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		out, fail = nil, nil
		var (
			clientID, storedRedirect, challenge, nonce string
			userID                                     uuid.UUID
			scopes                                     []string
			authTime                                   time.Time
		)
		h := s.sig("code", code)
		err := tx.QueryRow(ctx, `UPDATE oauth_codes SET used_at = $2
			WHERE hash = $1 AND used_at IS NULL AND expires_at > $2
			RETURNING client_id, user_id, redirect_uri, scopes, code_challenge, nonce, auth_time`, h, now).
			Scan(&clientID, &userID, &storedRedirect, &scopes, &challenge, &nonce, &authTime)
		if errors.Is(err, pgx.ErrNoRows) {
			fail = badRequest(errInvalidGrant, "The authorization code is invalid, expired or already used.")
			// OA-3: a second redemption revokes what the first one issued.
			var grantID *uuid.UUID
			var usedAt *time.Time
			err := tx.QueryRow(ctx, `SELECT used_at, grant_id FROM oauth_codes WHERE hash = $1`, h).Scan(&usedAt, &grantID)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && usedAt == nil) {
				return nil
			}
			if err != nil {
				return err
			}
			if grantID != nil {
				if err := s.revokeGrantTx(ctx, tx, *grantID, "code_reuse"); err != nil {
					return err
				}
			}
			return audit.Write(ctx, tx, audit.Entry{ClientID: app.Name, Action: "oauth.code.reuse", Resource: "oauth_grant",
				ResourceID: idString(grantID), Outcome: audit.Denied, Reason: "code_reuse", At: now})
		}
		if err != nil {
			return err
		}
		// From here on the code is spent whatever happens (the
		// transaction commits): a failed redemption cannot be retried.
		switch {
		case clientID != app.Name:
			fail = badRequest(errInvalidGrant, "The authorization code was issued to another client.")
		case redirect != storedRedirect:
			fail = badRequest(errInvalidGrant, "redirect_uri does not match the authorization request.")
		case subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(challenge)) != 1:
			fail = badRequest(errInvalidGrant, "The code_verifier does not match the code_challenge.")
		}
		if fail != nil {
			return audit.Write(ctx, tx, audit.Entry{ActorID: &userID, ClientID: app.Name, Action: "oauth.token.issue",
				Outcome: audit.Failure, Reason: fail.Code, At: now, Details: map[string]any{"grant_type": project.GrantAuthorizationCode}})
		}
		out, err = s.createGrant(ctx, tx, app, project.GrantAuthorizationCode, userID, scopes, authTime)
		if err != nil {
			return err
		}
		out.nonce = nonce
		_, err = tx.Exec(ctx, `UPDATE oauth_codes SET grant_id = $1 WHERE hash = $2`, out.grantID, h)
		return err
	})
	if err != nil {
		s.logger.ErrorContext(ctx, "authorization code grant", "error", err)
		return nil, unavailable(err)
	}
	if fail != nil {
		return nil, fail
	}
	return s.respond(ctx, app, out)
}

func idString(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// createGrant records a new authorization (a token family) and, when the
// application may refresh, its first refresh token.
func (s *Server) createGrant(ctx context.Context, tx pgx.Tx, app *project.Application, grantType string,
	userID uuid.UUID, scopes []string, authTime time.Time) (*issued, error) {
	now := s.now()
	out := &issued{grantID: uuid.New(), userID: userID, scopes: scopes, authTime: authTime}
	var user *uuid.UUID
	expires := now.Add(s.accessTTL(app))
	if userID != uuid.Nil {
		user = &userID
		if app.HasGrant(project.GrantRefreshToken) {
			expires = now.Add(s.refreshTTL(app))
		}
	}
	if scopes == nil {
		scopes = []string{}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO oauth_grants (id, client_id, user_id, scopes, grant_type, auth_time, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, out.grantID, app.Name, user, scopes, grantType, authTime, now, expires); err != nil {
		return nil, fmt.Errorf("create grant: %w", err)
	}
	if user != nil && app.HasGrant(project.GrantRefreshToken) {
		out.refresh = newToken(prefixRefresh)
		if _, err := tx.Exec(ctx, `INSERT INTO oauth_refresh_tokens (hash, grant_id, created_at) VALUES ($1, $2, $3)`,
			s.sig("refresh", out.refresh), out.grantID, now); err != nil {
			return nil, fmt.Errorf("store refresh token: %w", err)
		}
	}
	err := audit.Write(ctx, tx, audit.Entry{ActorID: user, ClientID: app.Name, Action: "oauth.token.issue",
		Resource: "oauth_grant", ResourceID: out.grantID.String(), Outcome: audit.Success, At: now,
		Details: map[string]any{"grant_type": grantType, "scopes": scopes}})
	return out, err
}

// revokeGrantTx revokes a grant: its refresh tokens stop working and its
// access tokens fail the revocation check.
func (s *Server) revokeGrantTx(ctx context.Context, tx pgx.Tx, id uuid.UUID, reason string) error {
	_, err := tx.Exec(ctx, `UPDATE oauth_grants SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL`,
		id, s.now(), reason)
	if err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	return nil
}

// respond signs the access token (and ID token) of a grant.
func (s *Server) respond(ctx context.Context, app *project.Application, in *issued) (*TokenResponse, *Error) {
	subject := in.userID
	if subject == uuid.Nil {
		subject = auth.ClientSubject(app.Name)
	}
	scope := strings.Join(in.scopes, " ")
	at, ttl, err := s.tokens.IssueAccess(ctx, auth.AccessRequest{Subject: subject, ClientID: app.Name, Scope: scope,
		GrantID: in.grantID.String(), TTL: s.accessTTL(app), AuthTime: in.authTime})
	if err != nil {
		s.logger.ErrorContext(ctx, "issue access token", "error", err)
		return nil, unavailable(err)
	}
	resp := &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(ttl / time.Second),
		RefreshToken: in.refresh, Scope: scope}
	if in.userID != uuid.Nil && slices.Contains(in.scopes, "openid") {
		resp.IDToken, err = s.idToken(ctx, app, in, ttl)
		if err != nil {
			s.logger.ErrorContext(ctx, "issue id token", "error", err)
			return nil, unavailable(err)
		}
	}
	return resp, nil
}

func (s *Server) refreshGrant(ctx context.Context, app *project.Application, form map[string][]string) (*TokenResponse, *Error) {
	token := first(form["refresh_token"])
	if token == "" {
		return nil, badRequest(errInvalidRequest, "refresh_token is required.")
	}
	now := s.now()
	var (
		out  *issued
		fail *Error
	)
	invalid := badRequest(errInvalidGrant, "The refresh token is invalid, expired or revoked.")
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		out, fail = nil, nil
		var (
			grantID             uuid.UUID
			usedAt, revokedAt   *time.Time
			clientID            string
			userID              *uuid.UUID
			scopes              []string
			expiresAt, authTime time.Time
		)
		h := s.sig("refresh", token)
		// FOR UPDATE serialises concurrent uses of one token: one winner.
		err := tx.QueryRow(ctx, `SELECT r.grant_id, r.used_at, g.client_id, g.user_id, g.scopes, g.expires_at, g.revoked_at, g.auth_time
			FROM oauth_refresh_tokens r JOIN oauth_grants g ON g.id = r.grant_id
			WHERE r.hash = $1 FOR UPDATE OF r, g`, h).
			Scan(&grantID, &usedAt, &clientID, &userID, &scopes, &expiresAt, &revokedAt, &authTime)
		if errors.Is(err, pgx.ErrNoRows) {
			fail = invalid
			return nil
		}
		if err != nil {
			return err
		}
		entry := audit.Entry{ActorID: userID, ClientID: app.Name, Action: "oauth.token.refresh", Resource: "oauth_grant",
			ResourceID: grantID.String(), At: now}
		switch {
		case clientID != app.Name: // TOK-6: bound to its client
			fail = invalid
			entry.Outcome, entry.Reason = audit.Denied, "wrong_client"
			return audit.Write(ctx, tx, entry)
		case revokedAt != nil || !now.Before(expiresAt):
			fail = invalid
			return nil
		case usedAt != nil && now.Sub(*usedAt) <= s.cfg.ReuseWindow:
			// A concurrent use that lost the race (the documented policy):
			// refused, the family kept.
			fail = invalid
			return nil
		case usedAt != nil:
			// TOK-6: reuse of a rotated token revokes the family.
			fail = invalid
			if err := s.revokeGrantTx(ctx, tx, grantID, "refresh_reuse"); err != nil {
				return err
			}
			entry.Outcome, entry.Reason = audit.Denied, "refresh_reuse"
			return audit.Write(ctx, tx, entry)
		}
		if userID != nil {
			// A grant from before the user's second factor (enrolled since,
			// or now required by a role) must not outlive it: refreshing
			// would skip MFA for the rest of the grant's life (MFA-5).
			stale, err := s.grantPredatesMFA(ctx, tx, *userID, authTime)
			if err != nil {
				return err
			}
			if stale {
				fail = invalid
				if err := s.revokeGrantTx(ctx, tx, grantID, "mfa_required"); err != nil {
					return err
				}
				entry.Outcome, entry.Reason = audit.Denied, "mfa_required"
				return audit.Write(ctx, tx, entry)
			}
		}
		if req := first(form["scope"]); req != "" {
			narrowed, e := checkScopes(req, scopes)
			if e != nil {
				fail = e
				return nil
			}
			scopes = narrowed
		}
		if _, err := tx.Exec(ctx, `UPDATE oauth_refresh_tokens SET used_at = $2 WHERE hash = $1`, h, now); err != nil {
			return err
		}
		out = &issued{grantID: grantID, scopes: scopes, authTime: authTime, refresh: newToken(prefixRefresh)}
		if userID != nil {
			out.userID = *userID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oauth_refresh_tokens (hash, grant_id, created_at) VALUES ($1, $2, $3)`,
			s.sig("refresh", out.refresh), grantID, now); err != nil {
			return err
		}
		entry.Outcome = audit.Success
		return audit.Write(ctx, tx, entry)
	})
	if err != nil {
		s.logger.ErrorContext(ctx, "refresh token grant", "error", err)
		return nil, unavailable(err)
	}
	if fail != nil {
		return nil, fail
	}
	return s.respond(ctx, app, out)
}

func (s *Server) clientCredentialsGrant(ctx context.Context, app *project.Application, form map[string][]string) (*TokenResponse, *Error) {
	if app.Type != project.AppConfidential {
		return nil, badRequest(errUnauthorizedClient, "Only confidential applications may use client_credentials.")
	}
	allowed := slices.DeleteFunc(slices.Clone(app.Scopes), func(s string) bool {
		return s == "openid" || s == "profile" || s == "email" || s == "offline_access"
	})
	scopes, e := checkScopes(first(form["scope"]), allowed)
	if e != nil {
		return nil, e
	}
	var out *issued
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.createGrant(ctx, tx, app, project.GrantClientCredentials, uuid.Nil, scopes, s.now())
		return err
	})
	if err != nil {
		s.logger.ErrorContext(ctx, "client credentials grant", "error", err)
		return nil, unavailable(err)
	}
	return s.respond(ctx, app, out)
}

func (s *Server) passwordGrant(ctx context.Context, app *project.Application, form map[string][]string) (*TokenResponse, *Error) {
	username, password := first(form["username"]), first(form["password"])
	if username == "" || password == "" {
		return nil, badRequest(errInvalidRequest, "username and password are required.")
	}
	scopes, e := checkScopes(first(form["scope"]), app.Scopes)
	if e != nil {
		return nil, e
	}
	userID, e := s.checkPassword(ctx, app, username, password)
	if e != nil {
		return nil, e
	}
	if e := s.requireMFA(ctx, app, userID, scopes); e != nil {
		return nil, e
	}
	return s.grantForUser(ctx, app, project.GrantPassword, userID, scopes, s.now())
}

// grantForUser creates a grant for a user who has authenticated and
// answers with its tokens.
func (s *Server) grantForUser(ctx context.Context, app *project.Application, grantType string, userID uuid.UUID, scopes []string, authTime time.Time) (*TokenResponse, *Error) {
	var out *issued
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.createGrant(ctx, tx, app, grantType, userID, scopes, authTime)
		return err
	})
	if err != nil {
		s.logger.ErrorContext(ctx, "grant", "grant_type", grantType, "error", err)
		return nil, unavailable(err)
	}
	return s.respond(ctx, app, out)
}

// checkPassword maps the PasswordChecker's answer to OAuth errors: bad
// credentials are invalid_grant (RFC 6749 §5.2); a locked account keeps
// its 429.
func (s *Server) checkPassword(ctx context.Context, app *project.Application, email, password string) (uuid.UUID, *Error) {
	if s.cfg.Passwords == nil {
		return uuid.Nil, badRequest(errUnauthorizedClient, "Password login is not available.")
	}
	id, err := s.cfg.Passwords.CheckPassword(ctx, email, password)
	if err == nil {
		return id, nil
	}
	if errors.Is(err, ErrInvalidCredentials) {
		return uuid.Nil, badRequest(errInvalidGrant, "The email address or password is incorrect.")
	}
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
		return uuid.Nil, oauthErr(http.StatusTooManyRequests, errAccessDenied, ae.Message)
	}
	s.logger.ErrorContext(ctx, "check password", "client_id", app.Name, "error", err)
	return uuid.Nil, unavailable(err)
}
