package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/mfa"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/user"
)

// The gaps between the users, MFA and OAuth services, closed: the tests
// run the wiring of runtime/app (harness build) against the real database.

// postJSON sends a JSON body with an optional bearer token and decodes the
// JSON answer.
func (e *env) postJSON(path, bearer string, body any) (int, map[string]any) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("POST %s: %d %q is not JSON", path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func (e *env) loginJSON(email string) (int, map[string]any) {
	e.t.Helper()
	return e.postJSON("/auth/login", "", map[string]string{"email": email, "password": e.password})
}

func code(body map[string]any) string { s, _ := body["code"].(string); return s }

// failedLogins is the user's AUTH-6 failure count.
func (e *env) failedLogins(email string) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(e.t.Context(), `SELECT failed_logins FROM users WHERE email_key = $1`, email).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestMFA_LoginNeedsSecondFactor: POST /auth/login gives an enrolled user
// no token for the password alone but 403 mfa_required with an mfa_token,
// which POST /auth/login/mfa redeems once with a TOTP code (or a recovery
// code); wrong codes and spent tokens are refused.
func TestMFA_LoginNeedsSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	key := e.enrolMFA("ada@example.test")

	st, body := e.loginJSON("ada@example.test")
	mt, _ := body["mfa_token"].(string)
	if st != http.StatusForbidden || code(body) != user.CodeMFARequired || mt == "" || body["access_token"] != nil {
		t.Fatalf("password alone: %d %v", st, body)
	}
	if body["expires_in"] != float64(300) {
		t.Errorf("expires_in = %v", body["expires_in"])
	}
	if st, body := e.postJSON("/auth/login/mfa", "", map[string]string{"mfa_token": mt, "code": "000000"}); st != http.StatusUnauthorized || code(body) != "mfa_invalid_code" {
		t.Fatalf("wrong code: %d %v", st, body)
	}
	st, body = e.postJSON("/auth/login/mfa", "", map[string]string{"mfa_token": mt, "code": e.otp(key, 0)})
	at, _ := body["access_token"].(string)
	if st != http.StatusOK || !e.authenticated(at) {
		t.Fatalf("right code: %d %v", st, body)
	}
	if n := e.failedLogins("ada@example.test"); n != 0 {
		t.Errorf("failed logins after a complete login = %d, want 0", n)
	}
	e.clock.Advance(mfa.Period)
	if st, body := e.postJSON("/auth/login/mfa", "", map[string]string{"mfa_token": mt, "code": e.otp(key, 0)}); st != http.StatusUnauthorized || code(body) != "mfa_token_invalid" {
		t.Fatalf("spent mfa_token: %d %v", st, body)
	}
	if st, body := e.postJSON("/auth/login/mfa", "", map[string]string{"mfa_token": "exh_mfa_forged", "code": e.otp(key, 0)}); st != http.StatusUnauthorized || code(body) != "mfa_token_invalid" {
		t.Fatalf("forged mfa_token: %d %v", st, body)
	}

	// A recovery code completes a login too (and only once).
	codes, err := e.mfa.RegenerateRecoveryCodes(t.Context(), e.userID("ada@example.test"), "ada@example.test", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, body = e.loginJSON("ada@example.test")
	mt, _ = body["mfa_token"].(string)
	if st, body := e.postJSON("/auth/login/mfa", "", map[string]string{"mfa_token": mt, "code": codes[0]}); st != http.StatusOK {
		t.Fatalf("recovery code: %d %v", st, body)
	}
	_, body = e.loginJSON("ada@example.test")
	mt, _ = body["mfa_token"].(string)
	if st, body := e.postJSON("/auth/login/mfa", "", map[string]string{"mfa_token": mt, "code": codes[0]}); st != http.StatusUnauthorized {
		t.Fatalf("used recovery code: %d %v", st, body)
	}

	// A user without MFA logs in with the password alone.
	e.register("bob@example.test")
	if st, body := e.loginJSON("bob@example.test"); st != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("no MFA: %d %v", st, body)
	}
}

// TestMFA_LoginEnrollmentRequired: a user whose role requires MFA and who
// has not enrolled gets 403 mfa_enrollment_required with a token that can
// only set MFA up; after enrolling, logins ask for the second factor.
func TestMFA_LoginEnrollmentRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("doc@example.test", "clinician")
	st, body := e.loginJSON("doc@example.test")
	et, _ := body["enrollment_token"].(string)
	if st != http.StatusForbidden || code(body) != auth.CodeMFAEnrollmentRequired || et == "" || body["access_token"] != nil {
		t.Fatalf("unenrolled clinician: %d %v", st, body)
	}
	// The enrolment-only token is refused everywhere but MFA enrolment.
	if st, b := e.do(http.MethodGet, "/users/me", et); st != http.StatusForbidden || !bytes.Contains(b, []byte(auth.CodeMFAEnrollmentRequired)) {
		t.Fatalf("/users/me with the enrolment token: %d %s", st, b)
	}
	if st, b := e.do(http.MethodGet, "/oauth/grants", et); st != http.StatusForbidden {
		t.Fatalf("/oauth/grants with the enrolment token: %d %s", st, b)
	}
	if st, b := e.do(http.MethodDelete, "/oauth/mfa/totp", et); st != http.StatusForbidden {
		t.Fatalf("disable with the enrolment token: %d %s", st, b)
	}
	ctx, err := e.tokens.AuthenticateEnrollment(t.Context(), et)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := auth.PrincipalFrom(ctx); !p.EnrollmentOnly || len(p.Permissions) != 0 || len(p.Roles) != 0 {
		t.Fatalf("enrolment principal = %+v", p)
	}
	e.enrolMFA("doc@example.test") // with the enrolment token
	if st, body := e.loginJSON("doc@example.test"); st != http.StatusForbidden || code(body) != user.CodeMFARequired {
		t.Fatalf("enrolled clinician: %d %v", st, body)
	}
}

// TestMFA3_WrongCodesCountTowardLockout: wrong TOTP codes, at
// /auth/login/mfa and in the OAuth mfa grant, count toward the AUTH-6
// lockout; a right password does not reset the count while the second
// factor is pending; once locked, even the right code is refused (429).
func TestMFA3_WrongCodesCountTowardLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	key := e.enrolMFA("ada@example.test")
	ctx := t.Context()
	challenge := func() string {
		t.Helper()
		_, err := e.users.Login(ctx, userCreds("ada@example.test", e.password))
		var me *user.MFAError
		if !errors.As(err, &me) || me.MFAToken == "" {
			t.Fatalf("login: %v", err)
		}
		return me.MFAToken
	}
	threshold := user.DefaultLockout().Threshold
	// One wrong code through the OAuth mfa grant.
	_, body := e.post("/oauth/token", tokenForm("grant_type", "password", "username", "ada@example.test", "password", e.password, "client_id", "legacy"), "", "")
	mt, _ := body["mfa_token"].(string)
	if st, body := e.post("/oauth/token", tokenForm("grant_type", "mfa", "mfa_token", mt, "otp", "000000", "client_id", "legacy"), "", ""); st != http.StatusBadRequest {
		t.Fatalf("mfa grant, wrong code: %d %v", st, body)
	}
	if n := e.failedLogins("ada@example.test"); n != 1 {
		t.Fatalf("failures after a wrong code in the mfa grant = %d, want 1", n)
	}
	var err error
	for i := 1; i < threshold; {
		tok := challenge() // a right password: the count stays
		for j := 0; j < mfa.MaxChallengeAttempts && i < threshold; j++ {
			_, err = e.users.LoginMFA(ctx, tok, "000000")
			i++
		}
	}
	if wait, ok := user.RetryAfterOf(err); !ok || wait <= 0 {
		t.Fatalf("the %dth wrong code: %v, want 429", threshold, err)
	}
	if n := e.failedLogins("ada@example.test"); n != threshold {
		t.Fatalf("failures = %d, want %d", n, threshold)
	}
	// Locked: the right password and the right code are refused.
	if _, err := e.users.Login(ctx, userCreds("ada@example.test", e.password)); !isStatus(err, http.StatusTooManyRequests) {
		t.Fatalf("right password while locked: %v", err)
	}
	e.clock.Advance(mfa.Period)
	right := e.otp(key, 0)
	if err := e.mfa.Verify(ctx, e.userID("ada@example.test"), right); !isStatus(err, http.StatusTooManyRequests) {
		t.Fatalf("right code while locked: %v", err)
	}
	// After the wait, a right code completes the login and resets the count.
	e.clock.Advance(time.Minute)
	if _, err := e.users.LoginMFA(ctx, challenge(), e.otp(key, 0)); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if n := e.failedLogins("ada@example.test"); n != 0 {
		t.Fatalf("failures after a complete login = %d, want 0", n)
	}
}

func isStatus(err error, status int) bool {
	var ae *apierr.Error
	return errors.As(err, &ae) && ae.Status == status
}

func (e *env) userID(email string) uuid.UUID {
	e.t.Helper()
	var id uuid.UUID
	if err := e.pool.QueryRow(e.t.Context(), `SELECT id FROM users WHERE email_key = $1`, email).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// TestAUTH8_PasswordChangeRevokesOAuthGrants: changing the password
// revokes the user's other login sessions and every OAuth grant (refresh
// token families and their access tokens) except the caller's own.
func TestAUTH8_PasswordChangeRevokesOAuthGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	_, body := e.loginJSON("ada@example.test")
	session, _ := body["access_token"].(string)
	_, body = e.loginJSON("ada@example.test")
	other, _ := body["access_token"].(string)
	app1, app2 := e.mobileTokens("ada@example.test"), e.mobileTokens("ada@example.test")

	const next = "another long enough passphrase"
	if st, body := e.postJSON("/users/me/password", session, map[string]string{"current_password": e.password, "new_password": next}); st != http.StatusNoContent {
		t.Fatalf("change: %d %v", st, body)
	}
	if !e.authenticated(session) || e.authenticated(other) {
		t.Fatalf("sessions after the change: own %v, other %v", e.authenticated(session), e.authenticated(other))
	}
	for _, a := range []map[string]any{app1, app2} {
		if e.authenticated(a["access_token"].(string)) {
			t.Fatal("an application's access token survived the password change")
		}
		st, body := e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", a["refresh_token"].(string), "client_id", "mobile"), "", "")
		if st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
			t.Fatalf("refresh after the change: %d %v", st, body)
		}
	}

	// Changed through an application: that grant stays, the others go.
	e.password = next
	app3, app4 := e.mobileTokens("ada@example.test"), e.mobileTokens("ada@example.test")
	const third = "a third long enough passphrase"
	if st, body := e.postJSON("/users/me/password", app3["access_token"].(string), map[string]string{"current_password": next, "new_password": third}); st != http.StatusNoContent {
		t.Fatalf("change through an application: %d %v", st, body)
	}
	if !e.authenticated(app3["access_token"].(string)) || e.authenticated(app4["access_token"].(string)) || e.authenticated(session) {
		t.Fatal("want only the changing application's grant kept")
	}
	if st, body := e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", app3["refresh_token"].(string), "client_id", "mobile"), "", ""); st != http.StatusOK {
		t.Fatalf("the caller's own grant refreshes: %d %v", st, body)
	}
}

// TestAUTH8_PasswordResetRevokesOAuthGrants: a reset (the password may be
// known to someone else) revokes every session and grant.
func TestAUTH8_PasswordResetRevokesOAuthGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	a := e.mobileTokens("ada@example.test")
	if err := e.users.RequestPasswordReset(t.Context(), "ada@example.test"); err != nil {
		t.Fatal(err)
	}
	var data map[string]string
	if err := e.pool.QueryRow(t.Context(), `SELECT data FROM mail_outbox WHERE template = $1 ORDER BY created_at DESC LIMIT 1`,
		user.MailPasswordReset).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if err := e.users.ResetPassword(t.Context(), user.Secret{Token: data["token"]}, "a brand new long passphrase"); err != nil {
		t.Fatal(err)
	}
	if e.authenticated(a["access_token"].(string)) {
		t.Fatal("access token survived the reset")
	}
	if st, _ := e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", a["refresh_token"].(string), "client_id", "mobile"), "", ""); st != http.StatusBadRequest {
		t.Fatalf("refresh after the reset: %d", st)
	}
}

// TestAUTH8_SensitiveActionsNeedRecentAuth: a password change, an email
// change, MFA changes and SSO link tickets need a sign-in at most an hour
// old: an application token refreshed past that hour is refused with 403
// reauthentication_required.
func TestAUTH8_SensitiveActionsNeedRecentAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	a := e.mobileTokens("ada@example.test")
	e.clock.Advance(auth.RecentAuthAge + time.Minute)
	st, body := e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", a["refresh_token"].(string), "client_id", "mobile"), "", "")
	if st != http.StatusOK {
		t.Fatalf("refresh: %d %v", st, body)
	}
	old := body["access_token"].(string)
	for _, tc := range []struct {
		path string
		body any
	}{
		{"/users/me/password", map[string]string{"current_password": e.password, "new_password": "another long enough passphrase"}},
		{"/users/me/email", map[string]string{"email": "ada2@example.test", "current_password": e.password}},
		{"/oauth/mfa/totp", map[string]string{}},
		{"/oauth/mfa/recovery-codes", map[string]string{}},
	} {
		if st, body := e.postJSON(tc.path, old, tc.body); st != http.StatusForbidden || code(body) != auth.CodeReauthRequired {
			t.Errorf("%s with a sign-in over an hour old: %d %v", tc.path, st, body)
		}
	}
	// A fresh sign-in may.
	_, body = e.loginJSON("ada@example.test")
	if st, body := e.postJSON("/oauth/mfa/totp", body["access_token"].(string), map[string]string{}); st != http.StatusCreated {
		t.Fatalf("fresh sign-in: %d %v", st, body)
	}
	p := &auth.Principal{AuthTime: e.clock.Now().Add(-auth.RecentAuthAge - time.Second)}
	if err := p.RequireRecentAuth(e.clock.Now()); !errors.Is(err, auth.ErrReauthRequired) {
		t.Fatalf("RequireRecentAuth(61 min) = %v", err)
	}
	if err := (&auth.Principal{}).RequireRecentAuth(e.clock.Now()); !errors.Is(err, auth.ErrReauthRequired) {
		t.Fatalf("RequireRecentAuth(no sign-in, as OAuth 1.0) = %v", err)
	}
}

// TestAUTH8_SessionIdleAndAbsoluteTimeout: a login session unused for 30
// minutes ends even though its token has not expired; one in use lives
// 12 hours at most.
func TestAUTH8_SessionIdleAndAbsoluteTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	// Tokens living an hour, so the session ends before they do.
	tokens := auth.NewTokens(e.pool, e.issuer, time.Hour, e.clock.Now, auth.WithUserCache(0))
	users := user.NewService(e.pool, e.srv.project, tokens, nil, user.WithClock(e.clock.Now))
	login := func() string {
		t.Helper()
		tok, err := users.Login(t.Context(), userCreds("ada@example.test", e.password))
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	ok := func(tok string) bool { _, err := tokens.Authenticate(t.Context(), tok); return err == nil }
	used := login()
	idle := login()
	for range 2 {
		e.clock.Advance(auth.SessionIdle - time.Minute)
		if !ok(used) {
			t.Fatal("a session in use ended")
		}
	}
	if ok(idle) {
		t.Fatal("a session unused for an hour is still valid")
	}
	var absolute time.Duration
	if err := e.pool.QueryRow(t.Context(), `SELECT max(expires_at - created_at) FROM auth_sessions`).Scan(&absolute); err != nil {
		t.Fatal(err)
	}
	if absolute != auth.SessionTTL || auth.SessionTTL != 12*time.Hour {
		t.Fatalf("session lifetime = %s", absolute)
	}
}

// TestOAuth1_EnabledWithoutApplications documents the switch of the
// provider (and of OAuth 1.0 verification): applications, a role that
// names auth:oauth1_credentials:create, or MFA required for a role.
func TestOAuth1_EnabledWithoutApplications(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		p    project.Project
		want bool
	}{
		"nothing":            {project.Project{Roles: []project.Role{{Name: "admin", Permissions: []string{"*:*:*", "users:*"}}}}, false},
		"applications":       {project.Project{Applications: []project.Application{{Name: "cli"}}}, true},
		"oauth1 credentials": {project.Project{Roles: []project.Role{{Name: "ops", Permissions: []string{"auth:oauth1_credentials:*"}}}}, true},
		"mfa required":       {project.Project{Auth: project.Auth{MFARequiredForRoles: []string{"admin"}}}, true},
	} {
		if got := Enabled(&tc.p); got != tc.want {
			t.Errorf("%s: Enabled = %v, want %v", name, got, tc.want)
		}
	}
}
