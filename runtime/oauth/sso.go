package oauth

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/user"
)

// SSO limits.
const (
	// ssoRequestTTL bounds a round trip to an identity provider.
	ssoRequestTTL = 10 * time.Minute
	// linkTicketTTL bounds how long a link URL may wait to be opened.
	linkTicketTTL = 5 * time.Minute
	// ssoLinkCookie binds a link flow to the browser that opened it.
	ssoLinkCookie = "exh_sso_link"
	prefixState   = "exh_ss_"
	prefixTicket  = "exh_lt_"
)

// ssoProvider is a declared identity provider whose client secret is
// configured; its discovery document is fetched on first use.
type ssoProvider struct {
	cfg    project.SSOProvider
	secret string

	mu       sync.Mutex
	provider *oidc.Provider
}

// ssoSetup returns the enabled providers: those with a client secret.
func ssoSetup(p *project.Project, secrets map[string]string) map[string]*ssoProvider {
	out := map[string]*ssoProvider{}
	for _, sp := range p.SSOProviders {
		if sec := secrets[sp.Name]; sec != "" {
			out[sp.Name] = &ssoProvider{cfg: sp, secret: sec}
		}
	}
	return out
}

// discover returns the provider's OIDC metadata and keys, fetching the
// discovery document on first success. Keys are fetched (and refetched on
// an unknown kid) by go-oidc with the server's HTTP client.
func (s *Server) discover(ctx context.Context, sp *ssoProvider) (*oidc.Provider, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.provider != nil {
		return sp.provider, nil
	}
	// The provider keeps this context for later key fetches: it must
	// outlive the request.
	pctx := oidc.ClientContext(context.WithoutCancel(ctx), s.httpClient)
	p, err := oidc.NewProvider(pctx, sp.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover sso provider %q: %w", sp.cfg.Name, err)
	}
	sp.provider = p
	return p, nil
}

func (s *Server) ssoConfig(sp *ssoProvider, p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: sp.cfg.ClientID, ClientSecret: sp.secret, Endpoint: p.Endpoint(),
		RedirectURL: s.issuer + "/oauth/authorize/sso/" + sp.cfg.Name + "/callback",
		Scopes:      sp.cfg.Scopes,
	}
}

// stateSecrets derives the PKCE verifier and the nonce of a round trip
// from its state, so neither is stored.
func (s *Server) stateSecrets(state string) (verifier, nonce string) {
	return encodeSig(s.sig("sso_verifier", state)), encodeSig(s.sig("sso_nonce", state))
}

// ssoRedirect stores a round trip and sends the browser to the provider.
func (s *Server) ssoRedirect(w http.ResponseWriter, r *http.Request, sp *ssoProvider, kind string, binding []byte, userID *uuid.UUID) error {
	ctx := r.Context()
	p, err := s.discover(ctx, sp)
	if err != nil {
		return err
	}
	state := newToken(prefixState)
	now := s.now()
	if _, err := db.Exec(ctx, s.pool, `INSERT INTO sso_requests (hash, kind, provider, binding, user_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.sig("sso_state", state), kind, sp.cfg.Name, binding, userID, now, now.Add(ssoRequestTTL)); err != nil {
		return fmt.Errorf("store sso request: %w", err)
	}
	verifier, nonce := s.stateSecrets(state)
	http.Redirect(w, r, s.ssoConfig(sp, p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
	return nil
}

// loginRequest returns the browser's pending authorization request (by its
// cookie) and the cookie.
func (s *Server) loginRequest(r *http.Request) (*pending, string, bool) {
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" {
		return nil, "", false
	}
	var p pending
	err = db.QueryRow(r.Context(), s.pool, `SELECT client_id, redirect_uri, scopes, state, code_challenge, nonce, expires_at, user_id
		FROM oauth_authorize_requests WHERE hash = $1`, s.sig("login", c.Value)).
		Scan(&p.clientID, &p.redirectURI, &p.scopes, &p.state, &p.challenge, &p.nonce, &p.expiresAt, &p.userID)
	if err != nil || !s.now().Before(p.expiresAt) {
		return nil, "", false
	}
	return &p, c.Value, true
}

const msgExpired = "Your sign-in request has expired or was opened in another window. Return to the application and start again."

// pageProvider returns the provider a page's path names, or renders 404.
func (s *Server) pageProvider(w http.ResponseWriter, r *http.Request) (*ssoProvider, bool) {
	sp, ok := s.sso[r.PathValue("provider")]
	if !ok {
		s.renderError(w, http.StatusNotFound, "This sign-in method is not available.")
	}
	return sp, ok
}

// ssoStart is the login page's "Sign in with <provider>" button.
func (s *Server) ssoStart(w http.ResponseWriter, r *http.Request) {
	sp, ok := s.pageProvider(w, r)
	if !ok {
		return
	}
	if e := parseForm(r); e != nil {
		s.renderError(w, http.StatusBadRequest, e.Description)
		return
	}
	_, cookie, ok := s.loginRequest(r)
	if !ok {
		s.renderError(w, http.StatusBadRequest, msgExpired)
		return
	}
	if !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(s.csrf(cookie))) {
		s.renderError(w, http.StatusForbidden, msgExpired)
		return
	}
	if err := s.ssoRedirect(w, r, sp, "login", s.sig("login", cookie), nil); err != nil {
		s.logger.ErrorContext(r.Context(), "start sso", "provider", sp.cfg.Name, "error", err)
		s.renderError(w, http.StatusServiceUnavailable, "The identity provider cannot be reached. Please retry shortly.")
	}
}

// ssoIdentity is what a verified ID token says about its user.
type ssoIdentity struct {
	subject, email      string
	emailVerified       bool
	firstName, lastName string
	provider            string
}

// ssoFailure is a sign-in refused for a reason the user can act on.
type ssoFailure struct {
	status int
	reason string // stable code for the audit log
	msg    string
}

func (f *ssoFailure) Error() string { return f.reason }

// ssoCallback receives the provider's answer (its redirect_uri).
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sp, ok := s.pageProvider(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	now := s.now()
	var (
		kind    string
		binding []byte
		linkTo  *uuid.UUID
	)
	err := db.QueryRow(ctx, s.pool, `UPDATE sso_requests SET used_at = $3
		WHERE hash = $1 AND provider = $2 AND kind IN ('login', 'link') AND used_at IS NULL AND expires_at > $3
		RETURNING kind, binding, user_id`, s.sig("sso_state", state), sp.cfg.Name, now).Scan(&kind, &binding, &linkTo)
	if errors.Is(err, pgx.ErrNoRows) {
		s.renderError(w, http.StatusBadRequest, msgExpired)
		return
	}
	if err != nil {
		s.renderError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please retry shortly.")
		return
	}
	// The state must come back to the browser that started the flow (OA-6).
	cookieName, kindSig := loginCookie, "login"
	if kind == "link" {
		cookieName, kindSig = ssoLinkCookie, "sso_link"
	}
	c, err := r.Cookie(cookieName)
	if err != nil || !hmac.Equal(s.sig(kindSig, c.Value), binding) {
		s.renderError(w, http.StatusForbidden, msgExpired)
		return
	}
	id, err := s.ssoVerify(ctx, sp, state, q)
	var fail *ssoFailure
	if errors.As(err, &fail) {
		s.ssoRefuse(ctx, w, r, sp, kind, c.Value, linkTo, fail)
		return
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "sso callback", "provider", sp.cfg.Name, "error", err)
		s.renderError(w, http.StatusBadGateway, "The identity provider's answer could not be verified. Please retry shortly.")
		return
	}
	if kind == "link" {
		s.ssoLinkVerified(w, r, sp, c.Value, *linkTo, id)
		return
	}
	userID, err := s.ssoUser(ctx, sp, id)
	if errors.As(err, &fail) {
		s.ssoRefuse(ctx, w, r, sp, kind, c.Value, nil, fail)
		return
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "sso sign-in", "provider", sp.cfg.Name, "error", err)
		s.renderError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please retry shortly.")
		return
	}
	s.finishLogin(w, r, c.Value, userID, "sso:"+sp.cfg.Name)
}

// ssoVerify redeems the provider's code (with the PKCE verifier) and
// verifies its ID token: signature by the provider's published keys,
// issuer, audience, expiry and our nonce.
func (s *Server) ssoVerify(ctx context.Context, sp *ssoProvider, state string, q url.Values) (*ssoIdentity, error) {
	if e := q.Get("error"); e != "" {
		return nil, &ssoFailure{http.StatusForbidden, "provider_error", sp.cfg.Title + " did not sign you in (" + oneLine(e) + ")."}
	}
	// RFC 9207: an iss that is not the provider's is a mix-up attack.
	if iss := q.Get("iss"); iss != "" && strings.TrimSuffix(iss, "/") != strings.TrimSuffix(sp.cfg.Issuer, "/") {
		return nil, &ssoFailure{http.StatusBadRequest, "issuer_mismatch", "The identity provider's answer is not valid."}
	}
	code := q.Get("code")
	if code == "" {
		return nil, &ssoFailure{http.StatusBadRequest, "no_code", "The identity provider's answer is not valid."}
	}
	p, err := s.discover(ctx, sp)
	if err != nil {
		return nil, err
	}
	verifier, nonce := s.stateSecrets(state)
	hctx := oidc.ClientContext(ctx, s.httpClient)
	tok, err := s.ssoConfig(sp, p).Exchange(hctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, &ssoFailure{http.StatusBadRequest, "code_refused", "The identity provider refused the sign-in. Please start again."}
		}
		return nil, fmt.Errorf("redeem code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the provider sent no id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: sp.cfg.ClientID, Now: s.clock}).Verify(hctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify id token: %w", err)
	}
	if !hmac.Equal([]byte(idt.Nonce), []byte(nonce)) {
		return nil, errors.New("verify id token: nonce mismatch")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("id token claims: %w", err)
	}
	str := func(name string) string { v, _ := claims[name].(string); return strings.TrimSpace(v) }
	id := &ssoIdentity{subject: idt.Subject, email: str(sp.cfg.Claims.Email),
		firstName: str(sp.cfg.Claims.FirstName), lastName: str(sp.cfg.Claims.LastName), provider: sp.cfg.Name}
	switch v := claims[sp.cfg.Claims.EmailVerified].(type) {
	case bool:
		id.emailVerified = v
	case string: // some providers send "true"
		id.emailVerified = v == "true"
	}
	if d := sp.cfg.AllowedEmailDomains; len(d) > 0 {
		_, domain, _ := strings.Cut(strings.ToLower(id.email), "@")
		if !id.emailVerified || !slices.Contains(d, domain) {
			return nil, &ssoFailure{http.StatusForbidden, "email_domain_not_allowed",
				"Your " + sp.cfg.Title + " account may not sign in here."}
		}
	}
	return id, nil
}

func oneLine(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// ssoUser finds or creates the account a provider's user signs in to:
//   - the account linked to (provider, sub);
//   - else the account with the same email address, which is linked now,
//     only when the provider says the address is verified: an unverified
//     address would let anyone who registers it at the provider take the
//     account over;
//   - else a new account, when the provider may create users.
func (s *Server) ssoUser(ctx context.Context, sp *ssoProvider, id *ssoIdentity) (uuid.UUID, error) {
	var userID uuid.UUID
	now := s.now()
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE sso_identities SET last_login_at = $3 WHERE provider = $1 AND subject = $2 RETURNING user_id`,
			sp.cfg.Name, id.subject, now).Scan(&userID)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if id.email == "" {
			return &ssoFailure{http.StatusForbidden, "no_email", "Your " + sp.cfg.Title + " account has no email address to sign in with."}
		}
		var hasPassword bool
		err = tx.QueryRow(ctx, `SELECT id, password_hash IS NOT NULL FROM users WHERE email_key = $1 FOR UPDATE`, user.EmailKey(id.email)).
			Scan(&userID, &hasPassword)
		switch {
		case err == nil && !id.emailVerified:
			return &ssoFailure{http.StatusConflict, "unverified_email_in_use", "An account with your email address already exists. Sign in with your password, then link your " +
				sp.cfg.Title + " account from your account settings."}
		case err == nil:
			// The provider verified the address the account has.
			if _, err := tx.Exec(ctx, `UPDATE users SET email_verified_at = $2 WHERE id = $1 AND email_verified_at IS NULL`, userID, now); err != nil {
				return fmt.Errorf("mark email verified: %w", err)
			}
			return s.insertIdentity(ctx, tx, sp, id, userID, nil, "verified_email")
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		case !sp.cfg.CreateUsers:
			return &ssoFailure{http.StatusForbidden, "no_account", "There is no account for your " + sp.cfg.Title + " account. Ask an administrator for an invitation."}
		}
		// Through the user service, so the account has every column a
		// registration fills; no password: the account signs in through
		// the provider until the user sets one (password reset).
		if userID, err = s.cfg.Accounts.CreateExternal(ctx, tx, user.External{Email: id.email, EmailVerified: id.emailVerified,
			FirstName: id.firstName, LastName: id.lastName, Roles: sp.cfg.DefaultRoles, Provider: sp.cfg.Name}); err != nil {
			return err
		}
		return s.insertIdentity(ctx, tx, sp, id, userID, nil, "created")
	})
	return userID, err
}

// insertIdentity links a provider's account to a user and audits it.
func (s *Server) insertIdentity(ctx context.Context, tx pgx.Tx, sp *ssoProvider, id *ssoIdentity, userID uuid.UUID, actor *uuid.UUID, how string) error {
	now := s.now()
	tag, err := tx.Exec(ctx, `INSERT INTO sso_identities (id, provider, subject, user_id, email, created_at, last_login_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING`, uuid.New(), sp.cfg.Name, id.subject, userID, id.email, now)
	if err != nil {
		return fmt.Errorf("link sso identity: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return &ssoFailure{http.StatusConflict, "already_linked", "Your " + sp.cfg.Title + " account or this account is already linked to another one."}
	}
	if actor == nil {
		actor = &userID
	}
	return audit.Write(ctx, tx, audit.Entry{ActorID: actor, Action: "sso.link", Resource: "user", ResourceID: userID.String(),
		Outcome: audit.Success, At: now, Details: map[string]any{"provider": sp.cfg.Name, "how": how}})
}

// ssoRefuse shows why a sign-in or link through a provider failed, and
// audits it.
func (s *Server) ssoRefuse(ctx context.Context, w http.ResponseWriter, r *http.Request, sp *ssoProvider, kind, cookie string, actor *uuid.UUID, f *ssoFailure) {
	action := "auth.login"
	if kind == "link" {
		action = "sso.link"
	}
	if err := audit.Write(ctx, s.pool, audit.Entry{ActorID: actor, Action: action, Outcome: audit.Denied, Reason: f.reason,
		At: s.now(), Details: map[string]any{"method": "sso", "provider": sp.cfg.Name}}); err != nil {
		s.logger.ErrorContext(ctx, "audit sso refusal", "error", err)
	}
	if kind == "login" {
		if p, _, ok := s.loginRequest(r); ok {
			if app, ok := s.app(p.clientID); ok {
				s.renderLogin(w, f.status, loginView{App: app.Name, CSRF: s.csrf(cookie), Error: f.msg, SSO: s.ssoButtons()})
				return
			}
		}
	}
	s.renderError(w, f.status, f.msg)
}

// finishLogin ends a successful first factor: asks for the second one
// when needed, else issues the code and redirects to the application.
func (s *Server) finishLogin(w http.ResponseWriter, r *http.Request, cookie string, userID uuid.UUID, method string) {
	ctx := r.Context()
	p, _, ok := s.loginRequest(r)
	if !ok {
		s.renderError(w, http.StatusBadRequest, msgExpired)
		return
	}
	app, ok := s.app(p.clientID)
	if !ok {
		s.renderError(w, http.StatusBadRequest, msgExpired)
		return
	}
	h := s.sig("login", cookie)
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
		s.renderLogin(w, http.StatusOK, loginView{App: app.Name, CSRF: s.csrf(cookie), OTP: true})
		return
	}
	code, err := s.issueCode(ctx, h, app, userID, p, method)
	if err != nil {
		s.logger.ErrorContext(ctx, "issue authorization code", "error", err)
		s.renderError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please retry shortly.")
		return
	}
	s.redirectCode(w, r, p, code)
}

func (s *Server) redirectCode(w http.ResponseWriter, r *http.Request, p *pending, code string) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/oauth/authorize", MaxAge: -1, HttpOnly: true,
		Secure: strings.HasPrefix(s.issuer, "https://"), SameSite: http.SameSiteLaxMode})
	v := url.Values{"code": {code}, "iss": {s.issuer}}
	if p.state != "" {
		v.Set("state", p.state)
	}
	http.Redirect(w, r, withQuery(p.redirectURI, v), http.StatusSeeOther)
}

// ssoButton is a provider on the login page.
type ssoButton struct{ Name, Title string }

func (s *Server) ssoButtons() []ssoButton {
	var out []ssoButton
	for _, sp := range s.project.SSOProviders {
		if _, ok := s.sso[sp.Name]; ok {
			out = append(out, ssoButton{sp.Name, sp.Title})
		}
	}
	return out
}

// Account linking. A signed-in user asks for a link URL through the API
// (with a sign-in at most an hour old), opens it in the browser, signs in
// at the provider and confirms on our page which account gets linked: the
// confirmation shows both accounts, so a link URL sent to someone else
// cannot quietly tie their provider account to the sender's.

// LinkTicket is the answer to a link request.
type LinkTicket struct {
	URL       string `json:"url"`
	ExpiresIn int64  `json:"expires_in"`
}

func (s *Server) ssoLinkTicket(w http.ResponseWriter, r *http.Request) {
	ctx, uid, _, _, err := s.recentCaller(r)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	sp, ok := s.sso[r.PathValue("provider")]
	if !ok {
		writeAPIError(w, r, apierr.ErrNotFound)
		return
	}
	ticket := newToken(prefixTicket)
	now := s.now()
	if _, err := db.Exec(ctx, s.pool, `INSERT INTO sso_requests (hash, kind, provider, user_id, created_at, expires_at)
		VALUES ($1, 'link_ticket', $2, $3, $4, $5)`, s.sig("sso_ticket", ticket), sp.cfg.Name, uid, now, now.Add(linkTicketTTL)); err != nil {
		writeAPIError(w, r, fmt.Errorf("store link ticket: %w", err))
		return
	}
	writeJSON(w, http.StatusCreated, LinkTicket{
		URL:       s.issuer + "/oauth/authorize/sso/" + sp.cfg.Name + "/link?" + url.Values{"ticket": {ticket}}.Encode(),
		ExpiresIn: int64(linkTicketTTL / time.Second)})
}

// recentCaller authenticates a bearer request whose user signed in at
// most auth.RecentAuthAge ago (AUTH-8: linking and unlinking accounts are
// sensitive actions).
func (s *Server) recentCaller(r *http.Request) (context.Context, uuid.UUID, string, time.Time, error) {
	ctx, p, err := s.bearer(r)
	if err != nil {
		return nil, uuid.Nil, "", time.Time{}, err
	}
	if err := p.RequireRecentAuth(s.clock()); err != nil {
		return nil, uuid.Nil, "", time.Time{}, err
	}
	return ctx, p.UserID, p.Email, p.AuthTime, nil
}

// ssoLinkStart opens a link URL: it binds the flow to this browser with a
// cookie and goes to the provider.
func (s *Server) ssoLinkStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sp, ok := s.pageProvider(w, r)
	if !ok {
		return
	}
	var uid uuid.UUID
	err := db.QueryRow(ctx, s.pool, `UPDATE sso_requests SET used_at = $3
		WHERE hash = $1 AND provider = $2 AND kind = 'link_ticket' AND used_at IS NULL AND expires_at > $3 RETURNING user_id`,
		s.sig("sso_ticket", r.URL.Query().Get("ticket")), sp.cfg.Name, s.now()).Scan(&uid)
	if err != nil {
		s.renderError(w, http.StatusBadRequest, "This link has expired or was used already. Start again from the application.")
		return
	}
	cookie := newToken(prefixLogin)
	http.SetCookie(w, &http.Cookie{Name: ssoLinkCookie, Value: cookie, Path: "/oauth/authorize/sso", HttpOnly: true,
		Secure: strings.HasPrefix(s.issuer, "https://"), SameSite: http.SameSiteLaxMode, MaxAge: int(ssoRequestTTL / time.Second)})
	if err := s.ssoRedirect(w, r, sp, "link", s.sig("sso_link", cookie), &uid); err != nil {
		s.logger.ErrorContext(ctx, "start sso link", "provider", sp.cfg.Name, "error", err)
		s.renderError(w, http.StatusServiceUnavailable, "The identity provider cannot be reached. Please retry shortly.")
	}
}

// linkView is the link confirmation page.
type linkView struct {
	Provider, ProviderEmail, Email, CSRF, Action string
}

// ssoLinkVerified keeps the verified provider account and asks the user
// to confirm the link.
func (s *Server) ssoLinkVerified(w http.ResponseWriter, r *http.Request, sp *ssoProvider, cookie string, userID uuid.UUID, id *ssoIdentity) {
	ctx := r.Context()
	var email string
	if err := db.QueryRow(ctx, s.pool, `SELECT email FROM users WHERE id = $1`, userID).Scan(&email); err != nil {
		s.renderError(w, http.StatusBadRequest, "This link has expired or was used already. Start again from the application.")
		return
	}
	now := s.now()
	if _, err := db.Exec(ctx, s.pool, `INSERT INTO sso_requests (hash, kind, provider, binding, user_id, subject, email, created_at, expires_at)
		VALUES ($1, 'link_confirm', $2, $1, $3, $4, $5, $6, $7)`, s.sig("sso_link_confirm", cookie), sp.cfg.Name, userID,
		id.subject, id.email, now, now.Add(ssoRequestTTL)); err != nil {
		s.renderError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please retry shortly.")
		return
	}
	pageHeaders(w)
	w.WriteHeader(http.StatusOK)
	_ = pages.ExecuteTemplate(w, "link", linkView{Provider: sp.cfg.Title, ProviderEmail: id.email, Email: email,
		CSRF: encodeSig(s.sig("sso_link_csrf", cookie)), Action: "/oauth/authorize/sso/" + sp.cfg.Name + "/link"})
}

// ssoLinkConfirm links the provider account the user confirmed.
func (s *Server) ssoLinkConfirm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sp, ok := s.pageProvider(w, r)
	if !ok {
		return
	}
	if e := parseForm(r); e != nil {
		s.renderError(w, http.StatusBadRequest, e.Description)
		return
	}
	expired := "This link has expired or was used already. Start again from the application."
	c, err := r.Cookie(ssoLinkCookie)
	if err != nil || !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(encodeSig(s.sig("sso_link_csrf", c.Value)))) {
		s.renderError(w, http.StatusForbidden, expired)
		return
	}
	var (
		uid uuid.UUID
		id  = &ssoIdentity{provider: sp.cfg.Name}
	)
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `DELETE FROM sso_requests WHERE hash = $1 AND provider = $2 AND kind = 'link_confirm' AND expires_at > $3
			RETURNING user_id, subject, email`, s.sig("sso_link_confirm", c.Value), sp.cfg.Name, s.now()).Scan(&uid, &id.subject, &id.email); err != nil {
			return err
		}
		return s.insertIdentity(ctx, tx, sp, id, uid, &uid, "confirmed")
	})
	var fail *ssoFailure
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		s.renderError(w, http.StatusBadRequest, expired)
		return
	case errors.As(err, &fail):
		s.renderError(w, fail.status, fail.msg)
		return
	case err != nil:
		s.renderError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please retry shortly.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoLinkCookie, Value: "", Path: "/oauth/authorize/sso", MaxAge: -1, HttpOnly: true,
		Secure: strings.HasPrefix(s.issuer, "https://"), SameSite: http.SameSiteLaxMode})
	pageHeaders(w)
	w.WriteHeader(http.StatusOK)
	_ = pages.ExecuteTemplate(w, "linked", sp.cfg.Title)
}

// Identity is a provider account linked to the caller.
type Identity struct {
	ID          uuid.UUID  `json:"id"`
	Provider    string     `json:"provider"`
	Email       string     `json:"email"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

func (s *Server) listIdentities(w http.ResponseWriter, r *http.Request) {
	ctx, p, err := s.bearer(r)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	rows, err := db.Query(ctx, s.pool, `SELECT id, provider, email, created_at, last_login_at FROM sso_identities
		WHERE user_id = $1 ORDER BY provider`, p.UserID)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Identity, error) {
		var i Identity
		err := row.Scan(&i.ID, &i.Provider, &i.Email, &i.CreatedAt, &i.LastLoginAt)
		return i, err
	})
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	if out == nil {
		out = []Identity{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

var errLastSignIn = apierr.New(http.StatusConflict, "last_sign_in_method",
	"This is the account's only way to sign in: set a password before unlinking it.")

func (s *Server) unlinkIdentity(w http.ResponseWriter, r *http.Request) {
	ctx, uid, _, _, err := s.recentCaller(r)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		writeAPIError(w, r, apierr.ErrNotFound)
		return
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			hasPassword bool
			others      int
			provider    string
		)
		err := tx.QueryRow(ctx, `SELECT u.password_hash IS NOT NULL, i.provider,
			(SELECT count(*) FROM sso_identities o WHERE o.user_id = u.id AND o.id <> i.id)
			FROM sso_identities i JOIN users u ON u.id = i.user_id WHERE i.id = $1 AND i.user_id = $2 FOR UPDATE OF u`, id, uid).
			Scan(&hasPassword, &provider, &others)
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.ErrNotFound
		}
		if err != nil {
			return err
		}
		if !hasPassword && others == 0 {
			return errLastSignIn
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sso_identities WHERE id = $1`, id); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{ActorID: &uid, Action: "sso.unlink", Resource: "user", ResourceID: uid.String(),
			Outcome: audit.Success, At: s.now(), Details: map[string]any{"provider": provider}})
	})
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
