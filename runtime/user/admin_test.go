package user_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/user"
)

func ptr(s string) *string { return &s }

func TestUpdateProfile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	u, self := f.userWith(t, "alice@example.com")
	_, admin := f.userWith(t, "admin@example.com", "admin")
	f.advance(time.Minute)
	got, err := f.users.UpdateMe(self, user.Profile{FirstName: ptr(" Alice "), Phone: ptr("+31 20 123 4567"), TimeZone: ptr("Europe/Amsterdam")})
	if err != nil {
		t.Fatal(err)
	}
	if got.FirstName != "Alice" || got.Phone != "+31 20 123 4567" || got.TimeZone != "Europe/Amsterdam" ||
		got.LastName != "" || got.Language != "nl" || !got.UpdatedAt.Equal(f.clock()) || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("updated = %+v", got)
	}
	_, err = f.users.UpdateMe(self, user.Profile{Phone: ptr("call me maybe"), Language: ptr("fr"), LastName: ptr("x\x00")})
	requireAPIError(t, err, http.StatusBadRequest, apierr.CodeValidation, "/last_name", "/phone", "/language")
	// Another user's profile needs users:update.
	_, err = f.users.Update(self, u.ID, user.Profile{LastName: ptr("Liddell")})
	requireAPIError(t, err, http.StatusForbidden, apierr.CodeForbidden)
	got, err = f.users.Update(admin, u.ID, user.Profile{LastName: ptr("Liddell")})
	if err != nil || got.LastName != "Liddell" || got.FirstName != "Alice" {
		t.Fatalf("admin update = %+v, %v", got, err)
	}
	_, err = f.users.Update(admin, uuid.New(), user.Profile{LastName: ptr("x")})
	requireAPIError(t, err, http.StatusNotFound, apierr.CodeNotFound)
	// Reading: oneself always, others with users:read.
	if _, err := f.users.GetAsAdmin(self, u.ID); err != nil {
		t.Fatal(err)
	}
	other := f.register(t, "bob@example.com")
	_, err = f.users.GetAsAdmin(self, other.ID)
	requireAPIError(t, err, http.StatusForbidden, apierr.CodeForbidden)
	if _, err := f.users.GetAsAdmin(admin, other.ID); err != nil {
		t.Fatal(err)
	}
}

// TestDeleteUser covers both user_deletion modes: the session ends, a
// user.deleted event and an audit row are written in the same transaction,
// and the address is free again.
func TestDeleteUser(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{user.DeletionAnonymise, user.DeletionDelete} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			p := testProject(user.RegistrationOpen)
			p.Auth.UserDeletion = mode
			f := newFixtureFor(t, p)
			admin, adminCtx := f.userWith(t, "admin@example.com", "admin")
			u, self := f.userWith(t, "alice@example.com")
			if _, err := f.users.UpdateMe(self, user.Profile{FirstName: ptr("Alice"), Phone: ptr("0612345678")}); err != nil {
				t.Fatal(err)
			}
			requireAPIError(t, f.users.Delete(self, u.ID), http.StatusForbidden, apierr.CodeForbidden)
			if err := f.users.Delete(adminCtx, u.ID); err != nil {
				t.Fatal(err)
			}
			requireAPIError(t, f.users.Delete(adminCtx, u.ID), http.StatusNotFound, apierr.CodeNotFound)
			_, err := f.users.Me(self)
			requireAPIError(t, err, http.StatusUnauthorized, apierr.CodeUnauthorized)
			_, err = f.users.Login(t.Context(), user.Credentials{Email: "alice@example.com", Password: strongPassword})
			requireAPIError(t, err, http.StatusUnauthorized, apierr.CodeInvalidCredentials)

			var n int
			var row struct {
				Email, First, Phone string
				Hash                *string
			}
			err = f.pool.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE id = $1`, u.ID).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			switch mode {
			case user.DeletionDelete:
				if n != 0 {
					t.Fatal("row kept")
				}
			default:
				if err := f.pool.QueryRow(t.Context(), `SELECT email, first_name, phone, password_hash FROM users WHERE id = $1`, u.ID).
					Scan(&row.Email, &row.First, &row.Phone, &row.Hash); err != nil {
					t.Fatal(err)
				}
				if row.Email == "alice@example.com" || row.First != "" || row.Phone != "" || row.Hash != nil {
					t.Fatalf("personal data kept: %+v", row)
				}
			}
			var (
				typ, subject string
				actor        uuid.UUID
				payload      []byte
			)
			if err := f.pool.QueryRow(t.Context(), `SELECT type, subject_id, actor_id, payload FROM event_outbox`).
				Scan(&typ, &subject, &actor, &payload); err != nil {
				t.Fatal(err)
			}
			var pl map[string]string
			_ = json.Unmarshal(payload, &pl)
			if typ != "user.deleted" || subject != u.ID.String() || actor != admin.ID || pl["mode"] != mode {
				t.Fatalf("event = %s %s %s %s", typ, subject, actor, payload)
			}
			if rows := f.audits(t, "user.delete"); len(rows) != 1 || rows[0].Outcome != audit.Success {
				t.Fatalf("audit = %+v", rows)
			}
			f.register(t, "alice@example.com") // the address is free
		})
	}
}

// TestAC5_NoSelfEscalation: role changes need users:roles:update, which no
// wildcard grant gives; nobody changes their own roles; nobody grants or
// revokes a role with permissions they lack; undefined roles are refused.
// Every refusal is audited.
func TestAC5_NoSelfEscalation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	admin, adminCtx := f.userWith(t, "admin@example.com", "admin")
	owner, ownerCtx := f.userWith(t, "owner@example.com", "owner")
	_, wildcardCtx := f.userWith(t, "wild@example.com", "wildcard")
	target := f.register(t, "alice@example.com")

	tests := []struct {
		name   string
		do     func() (*user.User, error)
		status int
		code   string
	}{
		{"wildcards do not cover users:roles:update", func() (*user.User, error) {
			return f.users.GrantRole(wildcardCtx, target.ID, "clinician")
		}, http.StatusForbidden, apierr.CodeForbidden},
		{"granting oneself", func() (*user.User, error) {
			return f.users.GrantRole(adminCtx, admin.ID, "owner")
		}, http.StatusForbidden, user.CodeSelfRoleChange},
		{"revoking one's own", func() (*user.User, error) {
			return f.users.RevokeRole(ownerCtx, owner.ID, "owner")
		}, http.StatusForbidden, user.CodeSelfRoleChange},
		{"granting a role beyond one's rights", func() (*user.User, error) {
			return f.users.GrantRole(adminCtx, target.ID, "owner") // owner holds *:*:*
		}, http.StatusForbidden, user.CodeRoleBeyondRights},
		{"raising an accomplice to one's own level is allowed only within it", func() (*user.User, error) {
			return f.users.GrantRole(adminCtx, target.ID, "wildcard")
		}, http.StatusForbidden, user.CodeRoleBeyondRights},
		{"undefined role", func() (*user.User, error) {
			return f.users.GrantRole(ownerCtx, target.ID, "wizard")
		}, http.StatusBadRequest, user.CodeUnknownRole},
		{"unknown user", func() (*user.User, error) {
			return f.users.GrantRole(adminCtx, uuid.New(), "clinician")
		}, http.StatusNotFound, apierr.CodeNotFound},
		{"anonymous", func() (*user.User, error) {
			return f.users.GrantRole(t.Context(), target.ID, "clinician")
		}, http.StatusUnauthorized, apierr.CodeUnauthorized},
	}
	for _, tt := range tests {
		_, err := tt.do()
		if err == nil {
			t.Fatalf("%s: allowed", tt.name)
		}
		requireAPIError(t, err, tt.status, tt.code)
	}
	if got, _ := f.users.Get(t.Context(), target.ID); len(got.Roles) != 0 {
		t.Fatalf("roles changed: %v", got.Roles)
	}
	if got, _ := f.users.Get(t.Context(), admin.ID); !slices.Equal(got.Roles, []string{"admin"}) {
		t.Fatalf("admin roles changed: %v", got.Roles)
	}
	denied := 0
	for _, r := range append(f.audits(t, user.ActionRoleGrant), f.audits(t, user.ActionRoleRevoke)...) {
		if r.Outcome == audit.Denied {
			denied++
		}
	}
	if denied != 4 || len(f.audits(t, "access.denied")) != 1 {
		t.Fatalf("denied role changes audited %d times, access.denied %d", denied, len(f.audits(t, "access.denied")))
	}
}

// TestAUD1_RoleGrantAndRevoke: an admin grants and revokes a role within
// their rights; the change applies to the user's next request and each
// change writes an audit row.
func TestAUD1_RoleGrantAndRevoke(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	admin, adminCtx := f.userWith(t, "admin@example.com", "admin")
	target, targetCtx := f.userWith(t, "alice@example.com")
	p, _ := auth.PrincipalFrom(targetCtx)
	tok, _, err := f.tokens.Issue(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.users.GrantRole(adminCtx, target.ID, "clinician")
	if err != nil || !slices.Equal(u.Roles, []string{"clinician"}) {
		t.Fatalf("grant = %+v, %v", u, err)
	}
	if _, err := f.users.GrantRole(adminCtx, target.ID, "clinician"); err != nil { // idempotent
		t.Fatal(err)
	}
	ctx, err := f.tokens.Authenticate(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := auth.PrincipalFrom(ctx); !p.Can("users:read") {
		t.Fatalf("granted role not effective: %+v", p)
	}
	u, err = f.users.RevokeRole(adminCtx, target.ID, "clinician")
	if err != nil || len(u.Roles) != 0 {
		t.Fatalf("revoke = %+v, %v", u, err)
	}
	grants, revokes := f.audits(t, user.ActionRoleGrant), f.audits(t, user.ActionRoleRevoke)
	if len(grants) != 2 || len(revokes) != 1 || *grants[0].ActorID != admin.ID || grants[0].ResourceID != target.ID.String() ||
		grants[0].Details["role"] != "clinician" || revokes[0].Outcome != audit.Success {
		t.Fatalf("audit grants %+v revokes %+v", grants, revokes)
	}
}
