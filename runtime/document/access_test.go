package document

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/project"
)

const (
	permRead   = "data:measurement:read"
	permUpdate = "data:measurement:update"
	permDelete = "data:measurement:delete"
)

// writeWithoutReadCase is one caller of TestAC2_UpdateWithoutReadIs404 and
// TestAC2_DeleteWithoutReadIs404: the read rules and the write action's
// rules, the caller's permissions, whether the caller is linked to the
// document, and whether it may both read and write it.
type writeWithoutReadCase struct {
	name   string
	read   []string
	write  []string
	perms  []string
	linked bool
	ok     bool
}

// writeWithoutReadCases cover every combination of the write's and read's
// rules granting all documents or filtering by the caller.
func writeWithoutReadCases(perm string) []writeWithoutReadCase {
	return []writeWithoutReadCase{
		{name: "write permission only", read: []string{RuleCreator}, write: []string{RulePermission}, perms: []string{perm}},
		{name: "write and read permissions", read: []string{RuleCreator, RulePermission}, write: []string{RulePermission}, perms: []string{perm, permRead}, ok: true},
		{name: "wildcard write permission only", read: []string{RuleCreator, RulePermission}, write: []string{RulePermission}, perms: []string{"data:*:" + perm[len("data:measurement:"):]}},
		{name: "write permission, read linked, not linked", read: []string{RuleCreator, RuleLinkedUsers}, write: []string{RulePermission}, perms: []string{perm}},
		{name: "write permission, read linked, linked", read: []string{RuleCreator, RuleLinkedUsers}, write: []string{RulePermission}, perms: []string{perm}, linked: true, ok: true},
		{name: "all users write, read creator", read: []string{RuleCreator}, write: []string{RuleAllUsers}},
		{name: "linked write, read by permission, no permission", read: []string{RulePermission}, write: []string{RuleLinkedUsers}, linked: true},
		{name: "linked write, read by permission", read: []string{RulePermission}, write: []string{RuleLinkedUsers}, perms: []string{permRead}, linked: true, ok: true},
		{name: "linked write, read linked, linked", read: []string{RuleLinkedUsers}, write: []string{RuleLinkedUsers}, linked: true, ok: true},
		{name: "linked write, read creator, linked", read: []string{RuleCreator}, write: []string{RuleLinkedUsers}, linked: true},
	}
}

// setUp stores a document by another user (linking the caller when the
// case says so) and returns a service applying the case's rules.
func (tc writeWithoutReadCase) setUp(t *testing.T, e *env, action string, caller *auth.Principal) (*Service, uuid.UUID) {
	t.Helper()
	d := e.create(as(t.Context(), user()), validBody)
	if tc.linked {
		if _, err := e.pool.Exec(t.Context(), `UPDATE data_measurement SET user_ids = user_ids || $1::uuid WHERE id = $2`, caller.UserID, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	acc := project.Access{Create: []string{RuleAllUsers}, Read: tc.read, Update: []string{RuleCreator}, Delete: []string{RuleCreator}}
	switch action {
	case actionUpdate:
		acc.Update = tc.write
	case actionDelete:
		acc.Delete = tc.write
	}
	svc, err := New(e.pool, testProject(measurementModel(acc)), nil, WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return svc, d.ID
}

// storedVersion reads a document's version behind the service's back; 0
// means it is gone.
func (e *env) storedVersion(t *testing.T, id uuid.UUID) int64 {
	t.Helper()
	var v int64
	err := e.pool.QueryRow(t.Context(), `SELECT coalesce((SELECT version FROM data_measurement WHERE id = $1), 0)`, id).Scan(&v)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAC2_UpdateWithoutReadIs404: updating returns the document, so a
// caller granted update but not read gets 404 like for a missing document,
// and nothing is written.
func TestAC2_UpdateWithoutReadIs404(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range writeWithoutReadCases(permUpdate) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			caller := user(tc.perms...)
			ctx := as(t.Context(), caller)
			svc, id := tc.setUp(t, e, actionUpdate, caller)

			getErr := svc.Get(ctx, "measurement", id, &doc{})
			if tc.ok {
				if getErr != nil {
					t.Fatalf("Get: %v", getErr)
				}
				var out doc
				if err := svc.Update(ctx, "measurement", id, "", rawJSON(`{"systolic":130}`), &out); err != nil {
					t.Fatalf("Update: %v", err)
				}
				if out.Version != 2 || out.Data["systolic"] == nil {
					t.Fatalf("Update: %+v", out)
				}
				if err := svc.Update(ctx, "measurement", id, `"2"`, rawJSON(`{"systolic":131}`), &out); err != nil || out.Version != 3 {
					t.Fatalf("Update with If-Match: %v %+v", err, out)
				}
				return
			}
			wantStatus(t, getErr, http.StatusNotFound, apierr.CodeNotFound)
			for _, tt := range []struct{ ifMatch, patch string }{
				{"", `{"systolic":130}`},
				{`"1"`, `{"systolic":130}`},
				{`"7"`, `{"systolic":130}`}, // stale: still 404, not 412
				{"", `{}`},                  // a no-op patch shows the document too
				{"", `{"systolic":1000}`},   // invalid: still 404, not 400
			} {
				var out doc
				err := svc.Update(ctx, "measurement", id, tt.ifMatch, rawJSON(tt.patch), &out)
				wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
				if out.ID != uuid.Nil || out.Data != nil {
					t.Fatalf("Update(%s, %s) leaked the document: %+v", tt.ifMatch, tt.patch, out)
				}
			}
			if v := e.storedVersion(t, id); v != 1 {
				t.Fatalf("document written: version %d", v)
			}
			// Indistinguishable from a missing document.
			err := svc.Update(ctx, "measurement", uuid.New(), "", rawJSON(`{"systolic":130}`), &doc{})
			wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
		})
	}
}

// TestAC2_DeleteWithoutReadIs404: a caller granted delete but not read
// gets 404, with or without If-Match, and the document stays.
func TestAC2_DeleteWithoutReadIs404(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range writeWithoutReadCases(permDelete) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			caller := user(tc.perms...)
			ctx := as(t.Context(), caller)
			for _, ifMatch := range []string{"", `"1"`} {
				svc, id := tc.setUp(t, e, actionDelete, caller)
				err := svc.Delete(ctx, "measurement", id, ifMatch)
				if tc.ok {
					if err != nil {
						t.Fatalf("Delete(If-Match %s): %v", ifMatch, err)
					}
					if v := e.storedVersion(t, id); v != 0 {
						t.Fatalf("Delete(If-Match %s) left the document", ifMatch)
					}
					continue
				}
				wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
				if v := e.storedVersion(t, id); v != 1 {
					t.Fatalf("Delete(If-Match %s) removed the document", ifMatch)
				}
				wantStatus(t, svc.Delete(ctx, "measurement", id, `"7"`), http.StatusNotFound, apierr.CodeNotFound)
				wantStatus(t, svc.Delete(ctx, "measurement", uuid.New(), ifMatch), http.StatusNotFound, apierr.CodeNotFound)
			}
		})
	}
}
