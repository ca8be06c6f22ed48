// The end-to-end driver of examples/clinic. examples/e2e_test.go copies it
// into the generated backend's module (as e2e/clinic_e2e_test.go), where it
// compiles against the generated Go client, and runs it against a running
// backend: TestPhase1, then a restart, then TestPhase2.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ogen-go/ogen/ogenerrors"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/exhgen/exhgen/runtime/rql"

	"clinic/api"
)

const password = "correct horse battery staple"

// takenAt has microseconds: date-times keep fractions of a second (stored
// with PostgreSQL's microsecond precision).
var takenAt = time.Date(2026, 11, 27, 8, 30, 0, 123456000, time.FixedZone("CET", 3600))

// state is what phase 1 leaves for phase 2.
type state struct {
	Email string    `json:"email"`
	Token string    `json:"token"`
	Kept  uuid.UUID `json:"kept"`
}

// bearer is a api.SecuritySource holding one token.
type bearer struct{ token string }

func (b *bearer) BearerAuth(context.Context, api.OperationName) (api.BearerAuth, error) {
	return api.BearerAuth{Token: b.token}, nil
}

// The API lists the OAuth schemes as alternatives to bearerAuth; the
// bearer token satisfies each operation, so the client skips them.

func (b *bearer) OAuth2(context.Context, api.OperationName) (api.OAuth2, error) {
	return api.OAuth2{}, ogenerrors.ErrSkipClientSecurity
}

func (b *bearer) OpenIdConnect(context.Context, api.OperationName, *http.Request) error {
	return ogenerrors.ErrSkipClientSecurity
}

func (b *bearer) Oauth1(context.Context, api.OperationName, *http.Request) error {
	return ogenerrors.ErrSkipClientSecurity
}

func newClient(t *testing.T) (*api.Client, *bearer) {
	t.Helper()
	url := os.Getenv("EXH_E2E_URL")
	if url == "" {
		t.Fatal("EXH_E2E_URL is not set: run this through examples/e2e_test.go")
	}
	sec := &bearer{}
	c, err := api.NewClient(url, sec, api.WithClient(rql.Client{HTTP: http.DefaultClient}))
	if err != nil {
		t.Fatal(err)
	}
	return c, sec
}

func login(t *testing.T, ctx context.Context, c *api.Client, sec *bearer, email string) {
	t.Helper()
	res, err := c.Login(ctx, &api.LoginRequest{Email: email, Password: password})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	tok, ok := res.(*api.TokenResponse)
	if !ok {
		t.Fatalf("login %s: %+v, want a token (no MFA for this role)", email, res)
	}
	if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		t.Fatalf("login: unexpected token response %+v", tok)
	}
	sec.token = tok.AccessToken
}

// apiError is the status and body of an error the client returned.
func apiError(t *testing.T, err error) *api.ErrorStatusCode {
	t.Helper()
	var e *api.ErrorStatusCode
	if !errors.As(err, &e) {
		t.Fatalf("want an API error, got %v", err)
	}
	return e
}

func reading(systolic int64) *api.MeasurementData {
	return &api.MeasurementData{
		Systolic:  systolic,
		Diastolic: 82,
		Pulse:     api.NewOptInt64(64),
		TakenAt:   takenAt,
		Position:  api.NewOptMeasurementDataPosition(api.MeasurementDataPositionSitting),
		Device: api.NewOptMeasurementDataDevice(api.MeasurementDataDevice{
			Serial: "BP-0042",
			Model:  api.NewOptString("Omron M7"),
		}),
		Samples: []api.MeasurementDataSamplesItem{{OffsetMs: 0, Pressure: 180.5}, {OffsetMs: 40, Pressure: 178}},
		Tags:    []string{"morning"},
	}
}

func TestPhase1(t *testing.T) {
	ctx := context.Background()
	c, sec := newClient(t)
	email := "patient-" + uuid.NewString()[:8] + "@example.com"

	// Register and log in.
	u, err := c.RegisterUser(ctx, &api.RegisterRequest{Email: email, Password: password, FirstName: api.NewOptString("Ann")})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if u.Email != email {
		t.Fatalf("registered %q, got %q", email, u.Email)
	}
	login(t, ctx, c, sec, email)
	me, err := c.GetCurrentUser(ctx)
	if err != nil || me.ID != u.ID {
		t.Fatalf("users/me: %+v, %v", me, err)
	}

	// Create: defaults applied, server-owned fields set.
	m, err := c.CreateMeasurement(ctx, reading(128))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if m.CreatorID != u.ID || m.Version != 1 || m.Status != "active" || len(m.UserIds) != 1 || m.UserIds[0] != u.ID {
		t.Fatalf("create: server-owned fields %+v", m)
	}
	if m.Data.Arm.Or("") != api.MeasurementDataArmLeft {
		t.Errorf("create: default arm not applied: %+v", m.Data.Arm)
	}
	if !m.Data.TakenAt.Equal(takenAt) || m.Data.Device.Value.Serial != "BP-0042" || len(m.Data.Samples) != 2 {
		t.Errorf("create: data not stored as sent: %+v", m.Data)
	}

	// Read it back.
	got, err := c.GetMeasurement(ctx, api.GetMeasurementParams{ID: m.ID})
	if err != nil || got.ID != m.ID || got.Data.Systolic != 128 {
		t.Fatalf("get: %+v, %v", got, err)
	}

	// List.
	second, err := c.CreateMeasurement(ctx, reading(141))
	if err != nil {
		t.Fatalf("create second: %v", err)
	}
	list, err := c.ListMeasurementDocuments(rql.WithRawQuery(ctx, "limit(10)"))
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if list.Page.Total.Value != 2 || len(list.Data) != 2 || list.Data[0].ID != second.ID || list.Page.Limit != 10 {
		t.Fatalf("list: want 2 documents newest first, got %+v: %+v", list.Page, list.Data)
	}

	// RQL: a filter, a sort, skipCount; a malformed query is a 400 with a
	// stable code; an update guarded by a query the document fails is a 412.
	list, err = c.ListMeasurementDocuments(rql.WithRawQuery(ctx, "gt(systolic,140)&eq(device.serial,BP-0042)&sort(-taken_at)&skipCount()"))
	if err != nil || len(list.Data) != 1 || list.Data[0].ID != second.ID || list.Page.Total.Set {
		t.Fatalf("rql list: %+v, %v", list, err)
	}
	// The same query written with the typed builder and the generated
	// field constants.
	q := rql.Gt(api.MeasurementFieldSystolic, 140).And(rql.Eq(api.MeasurementFieldDeviceSerial, "BP-0042")).
		Sort("-" + api.MeasurementFieldTakenAt).SkipCount()
	list, err = c.ListMeasurementDocuments(q.Context(ctx))
	if err != nil || len(list.Data) != 1 || list.Data[0].ID != second.ID || list.Page.Total.Set {
		t.Fatalf("rql list from the builder (%s): %+v, %v", q, list, err)
	}
	_, err = c.ListMeasurementDocuments(rql.WithRawQuery(ctx, "gt(systolic,140"))
	if e := apiError(t, err); e.StatusCode != http.StatusBadRequest || e.Response.Code != "rql_syntax" {
		t.Fatalf("malformed rql: %d %+v", e.StatusCode, e.Response)
	}
	_, err = c.ListMeasurementDocuments(rql.WithRawQuery(ctx, "eq(systolc,1)"))
	if e := apiError(t, err); e.StatusCode != http.StatusBadRequest || e.Response.Code != "rql_unknown_field" || !strings.Contains(e.Response.Message, "systolic") {
		t.Fatalf("unknown rql field: %d %+v", e.StatusCode, e.Response)
	}
	_, err = c.UpdateMeasurement(rql.WithRawQuery(ctx, "lt(systolic,100)"), &api.MeasurementPatch{Note: api.NewOptNilString("x")},
		api.UpdateMeasurementParams{ID: second.ID})
	if e := apiError(t, err); e.StatusCode != http.StatusPreconditionFailed || e.Response.Code != "rql_no_match" {
		t.Fatalf("guarded update: %d %+v", e.StatusCode, e.Response)
	}

	// Update with the current version, then a stale one gets 412.
	upd, err := c.UpdateMeasurement(ctx, &api.MeasurementPatch{Note: api.NewOptNilString("after coffee")},
		api.UpdateMeasurementParams{ID: m.ID, IfMatch: api.NewOptString("1")})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if upd.Version != 2 || upd.Data.Note.Or("") != "after coffee" || upd.Data.Systolic != 128 {
		t.Fatalf("update: %+v", upd)
	}
	// A merge patch merges nested objects member by member (RFC 7396).
	nested, err := c.UpdateMeasurement(ctx, &api.MeasurementPatch{
		Device: api.NewOptNilMeasurementPatchDevice(api.MeasurementPatchDevice{Firmware: api.NewOptNilString("2.1")}),
	}, api.UpdateMeasurementParams{ID: m.ID})
	if err != nil {
		t.Fatalf("nested patch: %v", err)
	}
	if d := nested.Data.Device.Value; d.Serial != "BP-0042" || d.Firmware.Or("") != "2.1" || d.Model.Or("") != "Omron M7" {
		t.Fatalf("nested patch did not merge: %+v", d)
	}
	_, err = c.UpdateMeasurement(ctx, &api.MeasurementPatch{Note: api.NewOptNilString("stale")},
		api.UpdateMeasurementParams{ID: m.ID, IfMatch: api.NewOptString("1")})
	if e := apiError(t, err); e.StatusCode != http.StatusPreconditionFailed || e.Response.Code != "precondition_failed" {
		t.Fatalf("stale update: want 412 precondition_failed, got %d %s", e.StatusCode, e.Response.Code)
	}

	// An invalid body: 400 with a stable code naming the field.
	_, err = c.CreateMeasurement(ctx, reading(500))
	e := apiError(t, err)
	if e.StatusCode != http.StatusBadRequest || e.Response.Code != "validation_failed" {
		t.Fatalf("invalid body: want 400 validation_failed, got %d %+v", e.StatusCode, e.Response)
	}
	if len(e.Response.Details) == 0 || e.Response.Details[0].Field != "/systolic" {
		t.Fatalf("invalid body: details do not name /systolic: %+v", e.Response.Details)
	}
	if e.Response.RequestID.Or("") == "" {
		t.Errorf("error without request id: %+v", e.Response)
	}

	// Another user cannot see the documents (404, not 403) nor list them.
	other := "other-" + uuid.NewString()[:8] + "@example.com"
	if _, err := c.RegisterUser(ctx, &api.RegisterRequest{Email: other, Password: password}); err != nil {
		t.Fatalf("register other: %v", err)
	}
	otherC, otherSec := newClient(t)
	login(t, ctx, otherC, otherSec, other)
	_, err = otherC.GetMeasurement(ctx, api.GetMeasurementParams{ID: m.ID})
	if e := apiError(t, err); e.StatusCode != http.StatusNotFound {
		t.Fatalf("other user's get: want 404, got %d", e.StatusCode)
	}
	ol, err := otherC.ListMeasurementDocuments(ctx)
	if err != nil || ol.Page.Total.Value != 0 || len(ol.Data) != 0 {
		t.Fatalf("other user's list: %+v, %v", ol, err)
	}

	// Delete one; it is gone.
	if err := c.DeleteMeasurement(ctx, api.DeleteMeasurementParams{ID: second.ID}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.GetMeasurement(ctx, api.GetMeasurementParams{ID: second.ID})
	if e := apiError(t, err); e.StatusCode != http.StatusNotFound || e.Response.Code != "not_found" {
		t.Fatalf("get deleted: want 404 not_found, got %d %s", e.StatusCode, e.Response.Code)
	}

	// A request without a token: 401.
	resp, err := http.Get(os.Getenv("EXH_E2E_URL") + "/data/measurement/documents/" + m.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: want 401, got %d", resp.StatusCode)
	}

	clinics(t, ctx, c, u.ID, m.ID, otherC)

	data, _ := json.Marshal(state{Email: email, Token: sec.token, Kept: m.ID})
	if err := os.WriteFile(os.Getenv("EXH_E2E_STATE"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPhase2 runs after a restart of the backend: the data is still there,
// and tokens issued before the restart still verify.
func TestPhase2(t *testing.T) {
	ctx := context.Background()
	raw, err := os.ReadFile(os.Getenv("EXH_E2E_STATE"))
	if err != nil {
		t.Fatalf("phase 1 state: %v", err)
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	c, sec := newClient(t)
	// The token issued before the restart still verifies: signing keys
	// live in the database, not in the process.
	sec.token = st.Token
	if me, err := c.GetCurrentUser(ctx); err != nil || me.Email != st.Email {
		t.Fatalf("token from before the restart: %+v, %v", me, err)
	}
	login(t, ctx, c, sec, st.Email)
	got, err := c.GetMeasurement(ctx, api.GetMeasurementParams{ID: st.Kept})
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got.Version != 3 || got.Data.Note.Or("") != "after coffee" || got.Data.Systolic != 128 {
		t.Fatalf("after restart: %+v", got)
	}
	list, err := c.ListMeasurementDocuments(ctx)
	if err != nil || list.Page.Total.Value != 1 {
		t.Fatalf("after restart list: %+v, %v", list, err)
	}
	if err := c.DeleteMeasurement(ctx, api.DeleteMeasurementParams{ID: st.Kept, IfMatch: api.NewOptString("1")}); err == nil {
		t.Fatal("delete with a stale If-Match succeeded")
	}
}

// register registers a user and returns a client logged in as them.
func register(t *testing.T, ctx context.Context, c *api.Client, name string) (*api.Client, uuid.UUID) {
	t.Helper()
	uc, id, _ := registerEmail(t, ctx, c, name)
	return uc, id
}

func registerEmail(t *testing.T, ctx context.Context, c *api.Client, name string) (*api.Client, uuid.UUID, string) {
	t.Helper()
	email := name + "-" + uuid.NewString()[:8] + "@example.com"
	u, err := c.RegisterUser(ctx, &api.RegisterRequest{Email: email, Password: password})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	uc, sec := newClient(t)
	login(t, ctx, uc, sec, email)
	return uc, u.ID, email
}

// bootstrapAdmin registers the first administrator and gives it the admin
// role with the backend's `users grant-role` command, as an operator does
// (the one role not granted through the API); it returns a client logged
// in as them, through the second factor administrators must use (MFA-5).
func bootstrapAdmin(t *testing.T, ctx context.Context, c *api.Client) *api.Client {
	t.Helper()
	_, _, email := registerEmail(t, ctx, c, "admin")
	cmd := exec.CommandContext(ctx, os.Getenv("EXH_E2E_BACKEND"), "users", "grant-role", email, "admin")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+os.Getenv("EXH_E2E_DATABASE_URL"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("users grant-role: %v\n%s", err, out)
	}
	// A new session: its roles are read afresh.
	admin, sec := newClient(t)
	adminMFALogin(t, ctx, admin, sec, email)
	return admin
}

// totpCode is what an authenticator app shows for key at time at.
func totpCode(t *testing.T, key *otp.Key, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(key.Secret(), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// passwordLogin logs in with the password alone, which for an
// administrator must answer a challenge with the given code, never a token.
func passwordLogin(t *testing.T, ctx context.Context, c *api.Client, email string, want api.MFAChallengeCode) *api.MFAChallenge {
	t.Helper()
	res, err := c.Login(ctx, &api.LoginRequest{Email: email, Password: password})
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	ch, ok := res.(*api.MFAChallenge)
	if !ok {
		t.Fatalf("admin login with the password alone: %T %+v, want the %s challenge and no token", res, res, want)
	}
	if ch.Code != want {
		t.Fatalf("admin login: challenge %q, want %q", ch.Code, want)
	}
	return ch
}

// adminMFALogin is MFA-5 from the administrator's side, with
// github.com/pquerna/otp as the authenticator app: the first login only
// allows enrolling TOTP; later logins need a code; wrong and replayed
// codes are refused (MFA-2); then sec holds an administrator's token.
func adminMFALogin(t *testing.T, ctx context.Context, c *api.Client, sec *bearer, email string) {
	t.Helper()
	ch := passwordLogin(t, ctx, c, email, api.MFAChallengeCodeMfaEnrollmentRequired)
	if !ch.EnrollmentToken.Set || ch.EnrollmentToken.Value == "" || ch.MfaToken.Set {
		t.Fatalf("enrolment challenge: %+v", ch)
	}
	// The enrolment-only token does no administrator's work.
	sec.token = ch.EnrollmentToken.Value
	_, err := c.ListUsers(ctx)
	if e := apiError(t, err); e.StatusCode != http.StatusForbidden || e.Response.Code != "mfa_enrollment_required" {
		t.Fatalf("list users with the enrolment token: %d %+v", e.StatusCode, e.Response)
	}
	_, err = c.CreateGroup(ctx, &api.GroupInput{Name: "Before MFA"})
	wantStatus(t, "create group with the enrolment token", err, http.StatusForbidden)

	// Enrol the authenticator app and confirm it with its current code.
	en, err := c.BeginTOTPEnrollment(ctx)
	if err != nil {
		t.Fatalf("begin TOTP enrolment: %v", err)
	}
	key, err := otp.NewKeyFromURL(en.OtpauthURL)
	if err != nil {
		t.Fatalf("otpauth url %q: %v", en.OtpauthURL, err)
	}
	if key.Secret() != en.Secret || key.Period() != 30 || key.Digits() != otp.DigitsSix || key.AccountName() != email {
		t.Fatalf("enrolment key: %s (secret %q), want 30 s, 6 digits, account %s", en.OtpauthURL, en.Secret, email)
	}
	enrolled := time.Now()
	confirmCode := totpCode(t, key, enrolled)
	rc, err := c.ConfirmTOTPEnrollment(ctx, &api.ConfirmTOTPEnrollmentReq{Code: confirmCode})
	if err != nil {
		t.Fatalf("confirm TOTP enrolment: %v", err)
	}
	if len(rc.RecoveryCodes) < 10 {
		t.Fatalf("recovery codes: %d, want at least 10", len(rc.RecoveryCodes))
	}
	// Still no administrator: the user signs in again.
	_, err = c.ListUsers(ctx)
	wantStatus(t, "list users with the enrolment token after enrolling", err, http.StatusForbidden)

	// Enrolled: the password alone gives an mfa_token, not a token.
	ch = passwordLogin(t, ctx, c, email, api.MFAChallengeCodeMfaRequired)
	if !ch.MfaToken.Set || ch.MfaToken.Value == "" || ch.EnrollmentToken.Set {
		t.Fatalf("mfa challenge: %+v", ch)
	}
	// The next step's code (accepted with the ±1 step of MFA-1): the
	// confirmation recorded this step's, and codes only move forward.
	code := totpCode(t, key, enrolled.Add(30*time.Second))
	valid := map[string]bool{}
	for s := -2; s <= 3; s++ {
		valid[totpCode(t, key, enrolled.Add(time.Duration(s)*30*time.Second))] = true
	}
	wrong := "000000"
	for i := 1; valid[wrong]; i++ {
		wrong = fmt.Sprintf("%06d", i*111111%1000000)
	}
	_, err = c.LoginMFA(ctx, &api.LoginMFARequest{MfaToken: ch.MfaToken.Value, Code: wrong})
	if e := apiError(t, err); e.StatusCode != http.StatusUnauthorized || e.Response.Code != "mfa_invalid_code" {
		t.Fatalf("wrong code: %d %+v", e.StatusCode, e.Response)
	}
	tok, err := c.LoginMFA(ctx, &api.LoginMFARequest{MfaToken: ch.MfaToken.Value, Code: code})
	if err != nil {
		t.Fatalf("login with the second factor: %v", err)
	}
	if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		t.Fatalf("login with the second factor: %+v", tok)
	}
	sec.token = tok.AccessToken
	if me, err := c.GetCurrentUser(ctx); err != nil || me.Email != email || !slices.Contains(me.Roles, "admin") {
		t.Fatalf("users/me as the administrator: %+v, %v", me, err)
	}

	// MFA-2: the same code a second time, and the older code that
	// confirmed the enrolment, are refused on a fresh challenge.
	ch = passwordLogin(t, ctx, c, email, api.MFAChallengeCodeMfaRequired)
	for what, replay := range map[string]string{"the same code twice": code, "the enrolment's earlier code": confirmCode} {
		_, err = c.LoginMFA(ctx, &api.LoginMFARequest{MfaToken: ch.MfaToken.Value, Code: replay})
		if e := apiError(t, err); e.StatusCode != http.StatusUnauthorized || e.Response.Code != "mfa_invalid_code" {
			t.Fatalf("%s: %d %+v", what, e.StatusCode, e.Response)
		}
	}
}

func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	if e := apiError(t, err); e.StatusCode != status {
		t.Fatalf("%s: want %d, got %d %s", what, status, e.StatusCode, e.Response.Code)
	}
}

// clinics exercises groups, group roles and the access rules over HTTP:
// the patient (pc, patientID) is enlisted in clinic A, whose staff read and
// review the readings; a read-only viewer cannot review; staff of clinic B
// and a stranger see nothing; a linked user sees what is shared with them.
func clinics(t *testing.T, ctx context.Context, pc *api.Client, patientID, kept uuid.UUID, stranger *api.Client) {
	admin := bootstrapAdmin(t, ctx, pc)
	staff, staffID := register(t, ctx, pc, "clinician")
	// Every other role is granted through the API.
	if u, err := admin.GrantRole(ctx, api.GrantRoleParams{UserID: staffID, Role: "clinician"}); err != nil || !slices.Contains(u.Roles, "clinician") {
		t.Fatalf("grant role: %+v, %v", u, err)
	}
	// AC-5: nobody changes their own roles.
	_, err := staff.RevokeRole(ctx, api.RevokeRoleParams{UserID: staffID, Role: "clinician"})
	wantStatus(t, "own role change", err, http.StatusForbidden)
	viewer, viewerID := register(t, ctx, pc, "viewer")
	otherStaff, otherStaffID := register(t, ctx, pc, "clinician-b")
	gp, gpID := register(t, ctx, pc, "family-doctor")

	a, err := admin.CreateGroup(ctx, &api.GroupInput{Name: "Clinic A"})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	b, err := admin.CreateGroup(ctx, &api.GroupInput{Name: "Clinic B"})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	for _, s := range []struct {
		group, user uuid.UUID
		role        string
	}{{a.ID, staffID, "clinic_staff"}, {a.ID, viewerID, "clinic_viewer"}, {b.ID, otherStaffID, "clinic_staff"}} {
		if _, err := admin.SetGroupStaff(ctx, &api.StaffRequest{Roles: []string{s.role}},
			api.SetGroupStaffParams{GroupID: s.group, UserID: s.user}); err != nil {
			t.Fatalf("set staff: %v", err)
		}
	}
	if _, err := admin.EnlistGroupPatient(ctx, &api.EnlistRequest{}, api.EnlistGroupPatientParams{GroupID: a.ID, UserID: patientID}); err != nil {
		t.Fatalf("enlist: %v", err)
	}
	// AC-5: staff cannot raise their own group roles.
	_, err = staff.SetGroupStaff(ctx, &api.StaffRequest{Roles: []string{"clinic_manager"}}, api.SetGroupStaffParams{GroupID: a.ID, UserID: staffID})
	wantStatus(t, "self-escalation", err, http.StatusForbidden)
	// Staff see their clinic's staff list, not another clinic's (404).
	if l, err := staff.ListGroupStaff(ctx, api.ListGroupStaffParams{GroupID: a.ID}); err != nil || l.Page.Total.Value != 2 {
		t.Fatalf("staff list: %+v, %v", l, err)
	}
	_, err = staff.ListGroupStaff(ctx, api.ListGroupStaffParams{GroupID: b.ID})
	wantStatus(t, "other clinic's staff list", err, http.StatusNotFound)
	// The fixed lists take RQL like the document lists (issue 4 item 4).
	if l, err := staff.ListGroupStaff(rql.WithRawQuery(ctx, "eq(roles,clinic_viewer)&skipCount()"), api.ListGroupStaffParams{GroupID: a.ID}); err != nil ||
		len(l.Data) != 1 || l.Data[0].UserID != viewerID || l.Page.Total.Set {
		t.Fatalf("staff list with RQL: %+v, %v", l, err)
	}
	if l, err := admin.ListUsers(rql.WithRawQuery(ctx, "eq(id,"+gpID.String()+")")); err != nil || len(l.Data) != 1 || l.Page.Total.Value != 1 {
		t.Fatalf("users list with RQL: %+v, %v", l, err)
	}
	if l, err := admin.ListGroups(rql.WithRawQuery(ctx, "eq(name,Clinic%2520B)")); err != nil || len(l.Data) != 1 || l.Data[0].ID != b.ID {
		t.Fatalf("groups list with RQL: %+v, %v", l, err)
	}
	_, err = admin.ListUsers(rql.WithRawQuery(ctx, "eq(password_hash,x)"))
	wantStatus(t, "users list on a hidden column", err, http.StatusBadRequest)

	// The enlistment synced the patient's readings into clinic A.
	r, err := pc.CreateMeasurement(ctx, reading(152))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(r.GroupIds) != 1 || r.GroupIds[0] != a.ID {
		t.Fatalf("new reading's groups: %v, want [%s]", r.GroupIds, a.ID)
	}
	if got, err := staff.GetMeasurement(ctx, api.GetMeasurementParams{ID: kept}); err != nil || len(got.GroupIds) != 1 {
		t.Fatalf("staff reads an earlier reading (synced at enlistment): %+v, %v", got, err)
	}
	if l, err := staff.ListMeasurementDocuments(ctx); err != nil || l.Page.Total.Value != 2 {
		t.Fatalf("staff list: %+v, %v", l, err)
	}
	if _, err := staff.UpdateMeasurement(ctx, &api.MeasurementPatch{Note: api.NewOptNilString("reviewed: fine")},
		api.UpdateMeasurementParams{ID: r.ID}); err != nil {
		t.Fatalf("staff review: %v", err)
	}
	if _, err := viewer.GetMeasurement(ctx, api.GetMeasurementParams{ID: r.ID}); err != nil {
		t.Fatalf("viewer read: %v", err)
	}
	_, err = viewer.UpdateMeasurement(ctx, &api.MeasurementPatch{Note: api.NewOptNilString("x")}, api.UpdateMeasurementParams{ID: r.ID})
	wantStatus(t, "viewer update", err, http.StatusNotFound)
	for name, c := range map[string]*api.Client{"other clinic's staff": otherStaff, "stranger": stranger, "family doctor": gp} {
		_, err = c.GetMeasurement(ctx, api.GetMeasurementParams{ID: r.ID})
		wantStatus(t, name+" get", err, http.StatusNotFound)
		if l, err := c.ListMeasurementDocuments(ctx); err != nil || l.Page.Total.Value != 0 {
			t.Fatalf("%s list: %+v, %v", name, l, err)
		}
	}
	// Staff cannot share the reading; the patient can.
	_, err = staff.LinkMeasurementUser(ctx, &api.LinkUserRequest{UserID: gpID}, api.LinkMeasurementUserParams{ID: r.ID})
	wantStatus(t, "staff link", err, http.StatusNotFound)
	if _, err := pc.LinkMeasurementUser(ctx, &api.LinkUserRequest{UserID: gpID}, api.LinkMeasurementUserParams{ID: r.ID}); err != nil {
		t.Fatalf("link: %v", err)
	}
	if _, err := gp.GetMeasurement(ctx, api.GetMeasurementParams{ID: r.ID}); err != nil {
		t.Fatalf("linked user read: %v", err)
	}
	if _, err := pc.UnlinkMeasurementUser(ctx, api.UnlinkMeasurementUserParams{ID: r.ID, UserID: gpID}); err != nil {
		t.Fatalf("unlink: %v", err)
	}
	_, err = gp.GetMeasurement(ctx, api.GetMeasurementParams{ID: r.ID})
	wantStatus(t, "unlinked user get", err, http.StatusNotFound)
	// Phase 2 expects the patient's one kept reading.
	if err := pc.DeleteMeasurement(ctx, api.DeleteMeasurementParams{ID: r.ID}); err != nil {
		t.Fatalf("delete: %v", err)
	}
}
