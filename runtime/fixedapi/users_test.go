package fixedapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/user"
)

// signUp registers email over HTTP and returns its id and a bearer token.
func (e *env) signUp(t *testing.T, email string, roles ...string) (uuid.UUID, string) {
	t.Helper()
	status, _, b := e.do(t, http.MethodPost, "/auth/register", `{"email":"`+email+`","password":"`+strongPassword+`"}`)
	if status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", email, status, b)
	}
	var u struct{ ID uuid.UUID }
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	if len(roles) > 0 {
		if err := e.users.SetRoles(t.Context(), u.ID, roles); err != nil {
			t.Fatal(err)
		}
	}
	return u.ID, e.token(t, email, strongPassword)
}

func (e *env) token(t *testing.T, email, password string) string {
	t.Helper()
	status, _, b := e.do(t, http.MethodPost, "/auth/login", `{"email":"`+email+`","password":"`+password+`"}`)
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, status, b)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func bearerHeader(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// TestAC5_MassAssignmentRefused: no request body sets a server-owned field
// (roles, id, email through the profile, verification, timestamps, failed
// logins): each such body is a 400 and nothing changes.
func TestAC5_MassAssignmentRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	aliceID, alice := e.signUp(t, "alice@example.com")
	_, admin := e.signUp(t, "admin@example.com", "admin")
	tests := []struct {
		name, method, path, body string
		token                    string
	}{
		{"register with roles", http.MethodPost, "/auth/register",
			`{"email":"mallory@example.com","password":"` + strongPassword + `","roles":["admin"]}`, ""},
		{"register with id", http.MethodPost, "/auth/register",
			`{"email":"mallory@example.com","password":"` + strongPassword + `","id":"` + uuid.NewString() + `"}`, ""},
		{"register verified", http.MethodPost, "/auth/register",
			`{"email":"mallory@example.com","password":"` + strongPassword + `","email_verified":true}`, ""},
		{"own roles", http.MethodPatch, "/users/me", `{"roles":["admin"]}`, alice},
		{"own email", http.MethodPatch, "/users/me", `{"email":"x@example.com"}`, alice},
		{"own verification", http.MethodPatch, "/users/me", `{"email_verified":true}`, alice},
		{"own failed logins", http.MethodPatch, "/users/me", `{"failed_logins":0}`, alice},
		{"own timestamps", http.MethodPatch, "/users/me", `{"created_at":"2000-01-01T00:00:00Z"}`, alice},
		{"own id", http.MethodPatch, "/users/me", `{"id":"` + uuid.NewString() + `"}`, alice},
		{"admin sets roles through the profile", http.MethodPatch, "/users/" + aliceID.String(), `{"roles":["admin"]}`, admin},
		{"admin sets a lock through the profile", http.MethodPatch, "/users/" + aliceID.String(), `{"locked_until":null}`, admin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hdr []string
			if tt.token != "" {
				hdr = bearerHeader(tt.token)
			}
			status, _, b := e.do(t, tt.method, tt.path, tt.body, hdr...)
			if body := decodeError(t, b); status != http.StatusBadRequest || body.Code != apierr.CodeValidation {
				t.Fatalf("got %d %s", status, b)
			}
		})
	}
	t.Cleanup(func() {
		ctx := context.Background()
		u, err := e.users.Get(ctx, aliceID)
		if err != nil || len(u.Roles) != 0 || u.Email != "alice@example.com" || u.EmailVerified {
			t.Errorf("alice changed: %+v %v", u, err)
		}
		if _, err := e.users.Login(ctx, user.Credentials{Email: "mallory@example.com", Password: strongPassword}); err == nil {
			t.Error("mallory was registered")
		}
	})
}

// TestAUTH6_LockoutOverHTTP: the 31st wrong password, and then the right
// one, answer 429 with a Retry-After of the lock's remaining seconds.
func TestAUTH6_LockoutOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	e.signUp(t, "alice@example.com")
	for range 30 {
		status, _, b := e.do(t, http.MethodPost, "/auth/login", `{"email":"alice@example.com","password":"not the right password"}`)
		if status != http.StatusUnauthorized {
			t.Fatalf("%d %s", status, b)
		}
	}
	status, h, b := e.do(t, http.MethodPost, "/auth/login", `{"email":"alice@example.com","password":"`+strongPassword+`"}`)
	body := decodeError(t, b)
	secs, err := strconv.Atoi(h.Get("Retry-After"))
	if status != http.StatusTooManyRequests || body.Code != apierr.CodeTooManyRequests || err != nil || secs < 55 || secs > 60 {
		t.Fatalf("got %d Retry-After %q %s", status, h.Get("Retry-After"), b)
	}
}

// TestAccountFlowOverHTTP: register, verify by PIN from the outbox, update
// the profile, change the password, log out.
func TestAccountFlowOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	id, tok := e.signUp(t, "alice@example.com")
	var raw []byte
	if err := e.pool.QueryRow(t.Context(), `SELECT data FROM mail_outbox WHERE to_address = 'alice@example.com' AND template = $1`,
		user.MailVerifyEmail).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var data map[string]string
	_ = json.Unmarshal(raw, &data)
	steps := []struct {
		name, method, path, body string
		auth                     bool
		status                   int
	}{
		{"wrong pin", http.MethodPost, "/auth/email/verify", `{"email":"alice@example.com","pin":"99999x"}`, false, http.StatusBadRequest},
		{"verify", http.MethodPost, "/auth/email/verify", `{"email":"alice@example.com","pin":"` + data["pin"] + `"}`, false, http.StatusNoContent},
		{"profile", http.MethodPatch, "/users/me", `{"first_name":"Alice","phone":"+31 6 1234 5678"}`, true, http.StatusOK},
		{"resend when verified", http.MethodPost, "/users/me/verification", ``, true, http.StatusAccepted},
		{"forgot (unknown address)", http.MethodPost, "/auth/password/forgot", `{"email":"nobody@example.com"}`, false, http.StatusAccepted},
		{"change email", http.MethodPost, "/users/me/email", `{"email":"alice2@example.com","current_password":"` + strongPassword + `"}`, true, http.StatusAccepted},
		{"change password", http.MethodPost, "/users/me/password",
			`{"current_password":"` + strongPassword + `","new_password":"a brand new passphrase for alice"}`, true, http.StatusNoContent},
		{"me", http.MethodGet, "/users/me", ``, true, http.StatusOK},
		{"logout", http.MethodPost, "/auth/logout", ``, true, http.StatusNoContent},
		{"me after logout", http.MethodGet, "/users/me", ``, true, http.StatusUnauthorized},
	}
	for _, st := range steps {
		var hdr []string
		if st.auth {
			hdr = bearerHeader(tok)
		}
		status, _, b := e.do(t, st.method, st.path, st.body, hdr...)
		if status != st.status {
			t.Fatalf("%s: got %d %s, want %d", st.name, status, b, st.status)
		}
		if st.name == "me" {
			var u map[string]any
			_ = json.Unmarshal(b, &u)
			if u["id"] != id.String() || u["email_verified"] != true || u["first_name"] != "Alice" || u["phone"] != "+31 6 1234 5678" {
				t.Fatalf("me = %s", b)
			}
		}
	}
	// The reset flow by token.
	if status, _, _ := e.do(t, http.MethodPost, "/auth/password/forgot", `{"email":"alice@example.com"}`); status != http.StatusAccepted {
		t.Fatal(status)
	}
	if err := e.pool.QueryRow(t.Context(), `SELECT data FROM mail_outbox WHERE to_address = 'alice@example.com' AND template = $1`,
		user.MailPasswordReset).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(raw, &data)
	status, _, b := e.do(t, http.MethodPost, "/auth/password/reset", `{"token":"`+data["token"]+`","password":"the third passphrase of alice"}`)
	if status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", status, b)
	}
	e.token(t, "alice@example.com", "the third passphrase of alice")
}

// TestUserAdministrationOverHTTP: the list's shape, role grant and revoke,
// the self-escalation refusal, deletion.
func TestUserAdministrationOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	adminID, admin := e.signUp(t, "admin@example.com", "admin")
	aliceID, alice := e.signUp(t, "alice@example.com")
	for i := range 3 {
		e.signUp(t, fmt.Sprintf("u%d@example.com", i))
	}
	status, _, b := e.do(t, http.MethodGet, "/users?limit(2,1)", "", bearerHeader(admin)...)
	var page struct {
		Page map[string]int64 `json:"page"`
		Data []struct {
			Email string `json:"email"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &page); err != nil || status != http.StatusOK {
		t.Fatalf("%d %s", status, b)
	}
	if page.Page["total"] != 5 || page.Page["offset"] != 1 || page.Page["limit"] != 2 || len(page.Data) != 2 ||
		page.Data[0].Email != "alice@example.com" {
		t.Fatalf("page = %s", b)
	}
	for _, tt := range []struct {
		name, method, path, token string
		status                    int
		code                      string
	}{
		{"list without users:read", http.MethodGet, "/users", alice, http.StatusForbidden, apierr.CodeForbidden},
		{"the former limit parameter", http.MethodGet, "/users?limit=101", admin, http.StatusBadRequest, apierr.CodeQuerySyntax},
		{"unknown field", http.MethodGet, "/users?eq(emial,x)", admin, http.StatusBadRequest, apierr.CodeQueryUnknownField},
		{"hidden column", http.MethodGet, "/users?sort(password_hash)", admin, http.StatusBadRequest, apierr.CodeQueryUnknownField},
		{"grant to oneself", http.MethodPut, "/users/" + adminID.String() + "/roles/clinician", admin, http.StatusForbidden, user.CodeSelfRoleChange},
		{"grant without permission", http.MethodPut, "/users/" + adminID.String() + "/roles/clinician", alice, http.StatusForbidden, apierr.CodeForbidden},
		{"undefined role", http.MethodPut, "/users/" + aliceID.String() + "/roles/wizard", admin, http.StatusBadRequest, user.CodeUnknownRole},
		{"grant", http.MethodPut, "/users/" + aliceID.String() + "/roles/clinician", admin, http.StatusOK, ""},
		{"get another user (now with users:read)", http.MethodGet, "/users/" + adminID.String(), alice, http.StatusOK, ""},
		{"revoke", http.MethodDelete, "/users/" + aliceID.String() + "/roles/clinician", admin, http.StatusOK, ""},
		{"get another user again", http.MethodGet, "/users/" + adminID.String(), alice, http.StatusForbidden, apierr.CodeForbidden},
		{"reset login attempts", http.MethodDelete, "/users/" + aliceID.String() + "/login-attempts", admin, http.StatusNoContent, ""},
		{"delete", http.MethodDelete, "/users/" + aliceID.String(), admin, http.StatusNoContent, ""},
		{"deleted user's token", http.MethodGet, "/users/me", alice, http.StatusUnauthorized, apierr.CodeUnauthorized},
		{"get deleted", http.MethodGet, "/users/" + aliceID.String(), admin, http.StatusNotFound, apierr.CodeNotFound},
		{"bad id", http.MethodGet, "/users/not-a-uuid", admin, http.StatusBadRequest, apierr.CodeValidation},
	} {
		status, _, b := e.do(t, tt.method, tt.path, "", bearerHeader(tt.token)...)
		if status != tt.status {
			t.Fatalf("%s: got %d %s, want %d", tt.name, status, b, tt.status)
		}
		if tt.code != "" {
			if body := decodeError(t, b); body.Code != tt.code {
				t.Fatalf("%s: code %s, want %s", tt.name, body.Code, tt.code)
			}
		}
	}
	status, _, b = e.do(t, http.MethodPost, "/users/invitations", `{"email":"carol@example.com","language":"nl"}`, bearerHeader(admin)...)
	if status != http.StatusAccepted {
		t.Fatalf("invite: %d %s", status, b)
	}
}

// TestListsTakeRQL drives the users list over HTTP
// with RQL in the query string: a filter with a double-encoded value,
// sort, paging, skipCount() (no total), and 400s naming the field.
func TestListsTakeRQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, user.RegistrationOpen, nil)
	_, admin := e.signUp(t, "admin@example.com", "admin")
	for _, m := range []string{"bo+x@example.com", "carl@example.com"} {
		e.signUp(t, m)
	}
	for _, tt := range []struct {
		name, path string
		status     int
		want       string // the page and the emails, or the error code
	}{
		{"filter with a double-encoded value", "/users?eq(email,BO%252BX@EXAMPLE.com)", 200, `{"limit":20,"offset":0,"total":1} bo+x@example.com`},
		{"sort, page, skipCount", "/users?sort(-email)&limit(1,1)&skipCount()", 200, `{"limit":1,"offset":1} bo+x@example.com`},
		{"in over roles", "/users?in(roles,admin,nurse)", 200, `{"limit":20,"offset":0,"total":1} admin@example.com`},
		{"clamped", "/users?limit(1000)&skipCount()&sort(email)", 200, `{"limit":100,"offset":0} admin@example.com bo+x@example.com carl@example.com`},
		{"unknown field", "/users?eq(mail,x)", 400, apierr.CodeQueryUnknownField},
		{"hidden field", "/users?gt(failed_logins,0)", 400, apierr.CodeQueryUnknownField},
	} {
		status, _, b := e.do(t, http.MethodGet, tt.path, "", bearerHeader(admin)...)
		if status != tt.status {
			t.Fatalf("%s: %d %s", tt.name, status, b)
		}
		if status != 200 {
			if body := decodeError(t, b); body.Code != tt.want {
				t.Fatalf("%s: code %s, want %s", tt.name, body.Code, tt.want)
			}
			continue
		}
		var page struct {
			Page json.RawMessage `json:"page"`
			Data []struct {
				Email string `json:"email"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		got := string(page.Page)
		for _, d := range page.Data {
			got += " " + d.Email
		}
		if got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}
