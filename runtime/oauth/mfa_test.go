package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/exhgen/exhgen/runtime/mfa"
	"github.com/exhgen/exhgen/runtime/user"
)

// enrolMFA sets up TOTP through the API with a first-party login token and
// returns the authenticator key.
func (e *env) enrolMFA(email string) *otp.Key {
	e.t.Helper()
	lt, err := e.users.Login(e.t.Context(), userCreds(email, e.password))
	var me *user.MFAError
	if errors.As(err, &me) && me.EnrollmentToken != nil {
		lt, err = me.EnrollmentToken, nil // a role requires MFA: an enrolment-only session
	}
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/mfa/totp", nil)
	req.Header.Set("Authorization", "Bearer "+lt.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	var begin struct {
		URL string `json:"otpauth_url"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&begin)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("begin: %d", resp.StatusCode)
	}
	key, err := otp.NewKeyFromURL(begin.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"code": e.otp(key, 0)})
	req, _ = http.NewRequest(http.MethodPost, e.issuer+"/oauth/mfa/totp/confirm", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+lt.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("confirm: %d %s", resp.StatusCode, b)
	}
	e.clock.Advance(2 * mfa.Period) // the confirming code is spent
	return key
}

func (e *env) otp(key *otp.Key, steps int) string {
	c, err := totp.GenerateCodeCustom(key.Secret(), e.clock.Now().Add(time.Duration(steps)*mfa.Period),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// TestMFA_PasswordGrantNeedsSecondStep: a login needing MFA answers the
// stable mfa_required error with an mfa_token, which the mfa grant
// exchanges with a TOTP code, once.
func TestMFA_PasswordGrantNeedsSecondStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	key := e.enrolMFA("ada@example.test")
	pw := tokenForm("grant_type", "password", "username", "ada@example.test", "password", e.password, "client_id", "legacy")
	st, body := e.post("/oauth/token", pw, "", "")
	mt, _ := body["mfa_token"].(string)
	if st != http.StatusForbidden || errCode(body) != "mfa_required" || mt == "" || body["access_token"] != nil {
		t.Fatalf("password step: %d %v", st, body)
	}
	wrong := tokenForm("grant_type", "mfa", "mfa_token", mt, "otp", "000000", "client_id", "legacy")
	if e.otp(key, 0) != "000000" {
		if st, body := e.post("/oauth/token", wrong, "", ""); st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
			t.Fatalf("wrong otp: %d %v", st, body)
		}
	}
	// Another client cannot redeem the mfa_token.
	if st, _ := e.post("/oauth/token", tokenForm("grant_type", "mfa", "mfa_token", mt, "otp", e.otp(key, 0), "client_id", "mobile"), "", ""); st != http.StatusBadRequest {
		t.Fatalf("mfa grant by another client: %d", st)
	}
	ok := tokenForm("grant_type", "mfa", "mfa_token", mt, "otp", e.otp(key, 0), "client_id", "legacy")
	st, body = e.post("/oauth/token", ok, "", "")
	if st != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("mfa grant: %d %v", st, body)
	}
	e.clock.Advance(mfa.Period)
	ok.Set("otp", e.otp(key, 0))
	if st, _ := e.post("/oauth/token", ok, "", ""); st != http.StatusBadRequest {
		t.Fatalf("mfa_token reused: %d", st)
	}
}

// TestMFA_LoginPageAsksForSecondFactor: the authorize flow of an enrolled
// user shows a code step before redirecting with the code.
func TestMFA_LoginPageAsksForSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	key := e.enrolMFA("ada@example.test")
	_, c := pkce()
	b := e.browser()
	resp, _ := b.Get(e.authURL("mobile", "http://127.0.0.1/callback", "", "s1", c))
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := string(csrfRe.FindSubmatch(page)[1])
	resp, _ = b.PostForm(e.issuer+"/oauth/authorize", url.Values{"csrf": {csrf}, "email": {"ada@example.test"}, "password": {e.password}})
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`name="otp"`)) {
		t.Fatalf("no code step: %d %s", resp.StatusCode, page)
	}
	resp, _ = b.PostForm(e.issuer+"/oauth/authorize", url.Values{"csrf": {csrf}, "otp": {"99999"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	resp, _ = b.PostForm(e.issuer+"/oauth/authorize", url.Values{"csrf": {csrf}, "otp": {e.otp(key, 0)}})
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" {
		t.Fatalf("after the code: %d %v", resp.StatusCode, loc)
	}
}

// TestMFA_RequiredForRoles: a user whose role requires MFA and who has not
// enrolled gets no application tokens.
func TestMFA_RequiredForRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("doc@example.test", "clinician")
	st, body := e.post("/oauth/token", tokenForm("grant_type", "password", "username", "doc@example.test", "password", e.password, "client_id", "legacy"), "", "")
	if st != http.StatusForbidden || errCode(body) != "mfa_enrollment_required" {
		t.Fatalf("unenrolled clinician: %d %v", st, body)
	}
	e.enrolMFA("doc@example.test")
	st, body = e.post("/oauth/token", tokenForm("grant_type", "password", "username", "doc@example.test", "password", e.password, "client_id", "legacy"), "", "")
	if st != http.StatusForbidden || errCode(body) != "mfa_required" {
		t.Fatalf("enrolled clinician: %d %v", st, body)
	}
}

// TestMFA5_GrantsFromBeforeMFADoNotRefresh: a refresh token obtained with
// the password alone stops working once the user enrols TOTP (or a role
// comes to require MFA), and its family is revoked — refreshing must not
// skip the second factor for the rest of the grant's life.
func TestMFA5_GrantsFromBeforeMFADoNotRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	pw := tokenForm("grant_type", "password", "username", "ada@example.test", "password", e.password, "client_id", "legacy")
	st, body := e.post("/oauth/token", pw, "", "")
	rt, _ := body["refresh_token"].(string)
	if st != http.StatusOK || rt == "" {
		t.Fatalf("password grant: %d %v", st, body)
	}
	// Before MFA the refresh works and rotates.
	st, body = e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", rt, "client_id", "legacy"), "", "")
	rt, _ = body["refresh_token"].(string)
	if st != http.StatusOK || rt == "" {
		t.Fatalf("refresh before MFA: %d %v", st, body)
	}
	e.clock.Advance(time.Second)
	e.enrolMFA("ada@example.test")
	st, body = e.post("/oauth/token", tokenForm("grant_type", "refresh_token", "refresh_token", rt, "client_id", "legacy"), "", "")
	if st != http.StatusBadRequest || errCode(body) != "invalid_grant" || body["access_token"] != nil {
		t.Fatalf("refresh after MFA enrolment: %d %v", st, body)
	}
	var revoked int
	if err := e.pool.QueryRow(t.Context(), `SELECT count(*) FROM oauth_grants WHERE revoked_reason = 'mfa_required'`).Scan(&revoked); err != nil || revoked != 1 {
		t.Fatalf("revoked grants = %d, %v", revoked, err)
	}
}

// TestMFA3_MFATokenSurvivesFewWrongCodes: the mfa grant's token is spent
// after five wrong codes, so one password step buys a bounded number of
// guesses; the right code is refused afterwards.
func TestMFA3_MFATokenSurvivesFewWrongCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("ada@example.test")
	key := e.enrolMFA("ada@example.test")
	pw := tokenForm("grant_type", "password", "username", "ada@example.test", "password", e.password, "client_id", "legacy")
	_, body := e.post("/oauth/token", pw, "", "")
	mt, _ := body["mfa_token"].(string)
	if mt == "" {
		t.Fatalf("password step: %v", body)
	}
	valid := map[string]bool{e.otp(key, -1): true, e.otp(key, 0): true, e.otp(key, 1): true}
	wrong := "000000"
	for n := 1; valid[wrong]; n++ {
		wrong = fmt.Sprintf("%06d", n)
	}
	for range 5 {
		st, body := e.post("/oauth/token", tokenForm("grant_type", "mfa", "mfa_token", mt, "otp", wrong, "client_id", "legacy"), "", "")
		if st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
			t.Fatalf("wrong code: %d %v", st, body)
		}
	}
	st, body := e.post("/oauth/token", tokenForm("grant_type", "mfa", "mfa_token", mt, "otp", e.otp(key, 0), "client_id", "legacy"), "", "")
	if st != http.StatusBadRequest || body["access_token"] != nil {
		t.Fatalf("right code after five wrong ones: %d %v", st, body)
	}
}
