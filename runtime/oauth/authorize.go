package oauth

import (
	"context"
	"crypto/hmac"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
)

// loginCookie holds the browser's binding to its pending authorization
// request (OA-6).
const loginCookie = "exh_authz"

// MatchRedirectURI reports whether the requested redirect URI is one the
// application registered: exact string equality, except that the port of
// a registered http loopback URI may differ (RFC 8252 §7.3). A fragment is
// never accepted (OA-2).
func MatchRedirectURI(registered []string, requested string) bool {
	if requested == "" || strings.Contains(requested, "#") {
		return false
	}
	for _, r := range registered {
		if r == requested {
			return true
		}
	}
	req, err := url.Parse(requested)
	if err != nil || req.Scheme != "http" || !isLoopback(req.Hostname()) || req.User != nil {
		return false
	}
	for _, r := range registered {
		reg, err := url.Parse(r)
		if err != nil || reg.Scheme != "http" || !isLoopback(reg.Hostname()) {
			continue
		}
		if reg.Hostname() == req.Hostname() && reg.EscapedPath() == req.EscapedPath() && reg.RawQuery == req.RawQuery {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// authzRequest is a validated authorization request.
type authzRequest struct {
	app         *project.Application
	redirectURI string
	scopes      []string
	state       string
	challenge   string
	nonce       string
}

// parseAuthorize validates an authorization request. An error with a
// redirect target (redirect == true) is sent to the client; one without
// is shown to the user, since the redirect URI cannot be trusted.
func (s *Server) parseAuthorize(q url.Values) (req *authzRequest, e *Error, redirect bool) {
	for k, v := range q {
		if len(v) > 1 {
			return nil, badRequest(errInvalidRequest, "The parameter "+k+" is repeated."), false
		}
	}
	app, ok := s.app(q.Get("client_id"))
	if !ok {
		return nil, badRequest(errInvalidRequest, "The application is unknown."), false
	}
	if !app.HasGrant(project.GrantAuthorizationCode) {
		return nil, badRequest(errUnauthorizedClient, "The application may not use the authorization code flow."), false
	}
	redirectURI := q.Get("redirect_uri")
	if !MatchRedirectURI(app.RedirectURIs, redirectURI) {
		return nil, badRequest(errInvalidRequest, "The redirect URI is not registered for the application."), false
	}
	req = &authzRequest{app: app, redirectURI: redirectURI, state: q.Get("state"), nonce: q.Get("nonce")}
	if q.Get("response_type") != "code" {
		return req, badRequest(errUnsupportedResponseType, "Only response_type=code is supported."), true
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		return req, badRequest(errInvalidRequest, "Only response_mode=query is supported."), true
	}
	// OA-1: PKCE S256 for every client.
	req.challenge = q.Get("code_challenge")
	switch method := q.Get("code_challenge_method"); {
	case req.challenge == "":
		return req, badRequest(errInvalidRequest, "code_challenge is required (PKCE with S256)."), true
	case method != "S256":
		return req, badRequest(errInvalidRequest, "code_challenge_method must be S256."), true
	case !challengeRe.MatchString(req.challenge):
		return req, badRequest(errInvalidRequest, "code_challenge must be the base64url SHA-256 of the verifier."), true
	}
	if len(req.state) > 512 || len(req.nonce) > 512 {
		return req, badRequest(errInvalidRequest, "state and nonce are limited to 512 characters."), true
	}
	scopes, e := checkScopes(q.Get("scope"), app.Scopes)
	if e != nil {
		return req, e, true
	}
	req.scopes = scopes
	return req, nil, false
}

// redirectError sends an authorization error to the client (RFC 6749 §4.1.2.1).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req *authzRequest, e *Error) {
	v := url.Values{"error": {e.Code}, "error_description": {e.Description}, "iss": {s.issuer}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	http.Redirect(w, r, withQuery(req.redirectURI, v), http.StatusSeeOther)
}

func withQuery(uri string, v url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + v.Encode()
}

func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	req, e, redirect := s.parseAuthorize(r.URL.Query())
	if e != nil {
		if redirect {
			s.redirectError(w, r, req, e)
			return
		}
		s.renderError(w, http.StatusBadRequest, e.Description)
		return
	}
	ctx := r.Context()
	cookie := newToken(prefixLogin)
	now := s.now()
	_, err := db.Exec(ctx, s.pool, `INSERT INTO oauth_authorize_requests
		(hash, client_id, redirect_uri, scopes, state, code_challenge, nonce, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.sig("login", cookie), req.app.Name, req.redirectURI, req.scopes, req.state, req.challenge, req.nonce,
		now, now.Add(loginRequestTTL))
	if err != nil {
		s.logger.ErrorContext(ctx, "store authorization request", "error", err)
		s.renderError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please retry shortly.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: cookie, Path: "/oauth/authorize", HttpOnly: true,
		Secure: strings.HasPrefix(s.issuer, "https://"), SameSite: http.SameSiteLaxMode,
		MaxAge: int(loginRequestTTL / time.Second),
	})
	s.renderLogin(w, http.StatusOK, loginView{App: req.app.Name, CSRF: s.csrf(cookie)})
}

// csrf is the login form's CSRF token: an HMAC of the cookie, so a form
// posted from another site (without the cookie, or with a cookie it could
// not read) is refused.
func (s *Server) csrf(cookie string) string {
	return encodeSig(s.sig("csrf", cookie))
}

// pending is a stored authorization request.
type pending struct {
	clientID, redirectURI, state, challenge, nonce string
	scopes                                         []string
	expiresAt                                      time.Time
	userID                                         *uuid.UUID // set while the second factor is pending
}

func (s *Server) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if e := parseForm(r); e != nil {
		s.renderError(w, http.StatusBadRequest, e.Description)
		return
	}
	ctx := r.Context()
	c, err := r.Cookie(loginCookie)
	expired := "Your sign-in request has expired or was opened in another window. Return to the application and start again."
	if err != nil || c.Value == "" {
		s.renderError(w, http.StatusBadRequest, expired)
		return
	}
	if !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(s.csrf(c.Value))) {
		s.renderError(w, http.StatusForbidden, expired)
		return
	}
	var p pending
	h := s.sig("login", c.Value)
	err = db.QueryRow(ctx, s.pool, `SELECT client_id, redirect_uri, scopes, state, code_challenge, nonce, expires_at, user_id
		FROM oauth_authorize_requests WHERE hash = $1`, h).
		Scan(&p.clientID, &p.redirectURI, &p.scopes, &p.state, &p.challenge, &p.nonce, &p.expiresAt, &p.userID)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !s.now().Before(p.expiresAt)) {
		s.renderError(w, http.StatusBadRequest, expired)
		return
	}
	if err != nil {
		s.renderError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please retry shortly.")
		return
	}
	app, ok := s.app(p.clientID)
	if !ok {
		s.renderError(w, http.StatusBadRequest, expired)
		return
	}
	view := loginView{App: app.Name, CSRF: s.csrf(c.Value), Email: r.PostForm.Get("email")}
	var userID uuid.UUID
	if p.userID != nil { // the second step: the password was right
		view.OTP = true
		if e := s.verifySecondFactor(ctx, *p.userID, r.PostForm.Get("otp")); e != nil {
			status := http.StatusUnauthorized
			view.Error = "The code is not valid."
			if e.Status != http.StatusBadRequest {
				status, view.Error = e.Status, e.Description
			}
			s.renderLogin(w, status, view)
			return
		}
		userID = *p.userID
	} else {
		var e *Error
		userID, e = s.checkPassword(ctx, app, r.PostForm.Get("email"), r.PostForm.Get("password"))
		if e != nil {
			status := http.StatusUnauthorized
			view.Error = "The email address or password is incorrect."
			if e.Status != http.StatusBadRequest {
				status, view.Error = e.Status, e.Description
			}
			s.renderLogin(w, status, view)
			return
		}
		need, e := s.mfaNeeded(ctx, userID)
		if e != nil {
			s.renderError(w, e.Status, e.Description)
			return
		}
		if need {
			if _, err := db.Exec(ctx, s.pool, `UPDATE oauth_authorize_requests SET user_id = $2, auth_time = $3 WHERE hash = $1`,
				h, userID, s.now()); err != nil {
				s.renderError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please retry shortly.")
				return
			}
			view.OTP = true
			s.renderLogin(w, http.StatusOK, view)
			return
		}
	}
	code, err := s.issueCode(ctx, h, app, userID, &p)
	if err != nil {
		s.logger.ErrorContext(ctx, "issue authorization code", "error", err)
		s.renderError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please retry shortly.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/oauth/authorize", MaxAge: -1, HttpOnly: true,
		Secure: strings.HasPrefix(s.issuer, "https://"), SameSite: http.SameSiteLaxMode})
	v := url.Values{"code": {code}, "iss": {s.issuer}}
	if p.state != "" {
		v.Set("state", p.state)
	}
	http.Redirect(w, r, withQuery(p.redirectURI, v), http.StatusSeeOther)
}

// issueCode consumes the pending request and stores a code for it.
func (s *Server) issueCode(ctx context.Context, reqHash []byte, app *project.Application, userID uuid.UUID, p *pending) (string, error) {
	code := newToken(prefixCode)
	now := s.now()
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM oauth_authorize_requests WHERE hash = $1`, reqHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return errors.New("authorization request already used")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oauth_codes
			(hash, client_id, user_id, redirect_uri, scopes, code_challenge, nonce, auth_time, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)`,
			s.sig("code", code), app.Name, userID, p.redirectURI, p.scopes, p.challenge, p.nonce, now, now.Add(s.cfg.CodeTTL)); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{ActorID: &userID, ClientID: app.Name, Action: "auth.login",
			Outcome: audit.Success, At: now, Details: map[string]any{"method": "authorize"}})
	})
	return code, err
}

// loginView is what the login page shows.
type loginView struct {
	App, CSRF, Email, Error string
	OTP                     bool // ask for the second factor
}

// pageHeaders are set on every HTML page: no third-party content, no
// framing, no referrer (OA-6).
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

var pages = template.Must(template.New("page").Parse(`{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Sign in</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem}.error{color:#a00}</style></head><body>{{end}}
{{define "login"}}{{template "head"}}<h1>Sign in</h1><p>to continue to <strong>{{.App}}</strong></p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/authorize" autocomplete="on">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{if .OTP}}<label for="otp">Code from your authenticator app (or a recovery code)</label><input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Verify</button>{{else}}<label for="email">Email address</label><input id="email" name="email" type="email" autocomplete="username" required value="{{.Email}}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>{{end}}</form></body></html>{{end}}
{{define "error"}}{{template "head"}}<h1>Cannot sign in</h1><p class="error">{{.}}</p></body></html>{{end}}`))

func (s *Server) renderLogin(w http.ResponseWriter, status int, v loginView) {
	pageHeaders(w)
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, "login", v)
}

func (s *Server) renderError(w http.ResponseWriter, status int, msg string) {
	pageHeaders(w)
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, "error", msg)
}
