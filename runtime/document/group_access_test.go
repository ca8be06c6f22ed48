package document

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/auth"
)

func groupModelEnv(t *testing.T) *env {
	t.Helper()
	acc := ownerAccess
	acc.Read = []string{RuleCreator, RuleLinkedGroupStaff, RuleLinkedGroupPatients}
	acc.Update = []string{RuleCreator, RuleLinkedGroupStaff}
	acc.Link = []string{RuleCreator, RulePermission}
	return newEnv(t, measurementModel(acc))
}

func staff(g uuid.UUID, perms ...string) *auth.Principal {
	p := user()
	p.GroupPermissions = map[uuid.UUID][]string{g: perms}
	return p
}

// addGroup inserts a group row (links check that the group exists).
func (e *env) addGroup() uuid.UUID {
	e.t.Helper()
	id := uuid.New()
	if _, err := e.pool.Exec(e.t.Context(), `INSERT INTO groups (id, name, created_at, updated_at) VALUES ($1, 'g', now(), now())`, id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) deniedRows(actor uuid.UUID) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(e.t.Context(), `SELECT count(*) FROM audit_log WHERE actor_id = $1 AND action = 'access.denied' AND outcome = 'denied'`, actor).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestAC2_LinkedGroupRules: staff of a linked group read a document only
// with the group permission there; patients of the linked group read it;
// everybody else gets 404 and an audit row, and lists and totals hold only
// what the caller may read.
func TestAC2_LinkedGroupRules(t *testing.T) {
	t.Parallel()
	e := groupModelEnv(t)
	ctx := t.Context()
	owner := user()
	g, other := e.addGroup(), e.addGroup()
	d := e.create(as(ctx, owner), validBody)
	e.create(as(ctx, owner), validBody) // not linked to the group
	var linked doc
	if err := e.svc.Link(as(ctx, owner), "measurement", d.ID, LinkGroup, g, &linked); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(linked.GroupIDs, []uuid.UUID{g}) || linked.Version != 2 {
		t.Fatalf("linked: %+v", linked)
	}
	patient := user()
	patient.PatientGroups = []uuid.UUID{g}
	otherPatient := user()
	otherPatient.PatientGroups = []uuid.UUID{other}
	tests := []struct {
		name string
		p    *auth.Principal
		read bool
	}{
		{"staff with the group permission", staff(g, "data:measurement:read"), true},
		{"staff with a wildcard group permission", staff(g, "data:*:*"), true},
		{"staff without it", staff(g, "groups:patients:read"), false},
		{"staff of another group", staff(other, "data:measurement:read"), false},
		{"patient of the group", patient, true},
		{"patient of another group", otherPatient, false},
		{"stranger", user(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := as(ctx, tt.p)
			var got doc
			err := e.svc.Get(c, "measurement", d.ID, &got)
			var l list
			if lerr := e.svc.List(c, "measurement", "", &l); lerr != nil {
				t.Fatal(lerr)
			}
			if tt.read {
				if err != nil || got.ID != d.ID {
					t.Fatalf("get: %v", err)
				}
				if l.Page.Total != 1 || len(l.Data) != 1 || l.Data[0].ID != d.ID {
					t.Fatalf("list: %+v", l)
				}
				return
			}
			wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
			if l.Page.Total != 0 || len(l.Data) != 0 {
				t.Fatalf("list leaks: %+v", l)
			}
			if n := e.deniedRows(tt.p.UserID); n != 1 {
				t.Errorf("audit rows for the denied get: %d", n)
			}
		})
	}
	// Staff may update (linked_group_staff with data:measurement:update)
	// only with that permission in the group.
	reader := staff(g, "data:measurement:read")
	err := e.svc.Update(as(ctx, reader), "measurement", d.ID, "", rawJSON(`{"note":"x"}`), &doc{})
	wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
	writer := staff(g, "data:measurement:read", "data:measurement:update")
	if err := e.svc.Update(as(ctx, writer), "measurement", d.ID, "", rawJSON(`{"note":"x"}`), &doc{}); err != nil {
		t.Fatalf("staff update: %v", err)
	}
	// Unlinking the group ends the staff's access.
	if err := e.svc.Unlink(as(ctx, owner), "measurement", d.ID, LinkGroup, g, &linked); err != nil {
		t.Fatal(err)
	}
	err = e.svc.Get(as(ctx, reader), "measurement", d.ID, &doc{})
	wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
}

// TestAC2_LinkNeedsItsOwnRule: linking takes the link rule (creator or the
// data:measurement:link permission) and read; others get 404. Links to
// users and groups that do not exist are 400.
func TestAC2_LinkNeedsItsOwnRule(t *testing.T) {
	t.Parallel()
	e := groupModelEnv(t)
	ctx := t.Context()
	owner := user()
	d := e.create(as(ctx, owner), validBody)
	g := e.addGroup()
	g2 := staff(g, "data:measurement:read", "data:measurement:update")
	err := e.svc.Link(as(ctx, user()), "measurement", d.ID, LinkGroup, g, &doc{})
	wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
	// A caller with the global link permission but no read is refused too.
	err = e.svc.Link(as(ctx, user("data:measurement:link")), "measurement", d.ID, LinkGroup, g, &doc{})
	wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
	err = e.svc.Link(as(ctx, owner), "measurement", d.ID, LinkGroup, uuid.New(), &doc{})
	wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
	err = e.svc.Link(as(ctx, owner), "measurement", d.ID, LinkUser, uuid.New(), &doc{})
	wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
	if err := e.svc.Link(as(ctx, owner), "measurement", d.ID, LinkGroup, g, &doc{}); err != nil {
		t.Fatal(err)
	}
	// Staff who can read and update, but not link, cannot unlink their
	// group (the unlink rule defaults to link's).
	err = e.svc.Unlink(as(ctx, g2), "measurement", d.ID, LinkGroup, g, &doc{})
	wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
	// Linking twice changes nothing.
	var again doc
	if err := e.svc.Link(as(ctx, owner), "measurement", d.ID, LinkGroup, g, &again); err != nil || again.Version != 2 {
		t.Fatalf("second link: %+v %v", again, err)
	}
}

// TestAC3_MassAssignment: a body naming server-owned fields is refused
// whole, on create and on update; nothing is stored.
func TestAC3_MassAssignment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	owner := user()
	d := e.create(as(ctx, owner), validBody)
	victim := uuid.New().String()
	for _, field := range []string{
		`"creator_id":"` + victim + `"`, `"user_ids":["` + victim + `"]`, `"group_ids":["` + victim + `"]`,
		`"status":"reviewed"`, `"version":99`, `"id":"` + victim + `"`, `"created_at":"2020-01-01T00:00:00Z"`,
	} {
		body := `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z",` + field + `}`
		err := e.svc.Create(as(ctx, owner), "measurement", rawJSON(body), &doc{})
		wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
		err = e.svc.Update(as(ctx, owner), "measurement", d.ID, "", rawJSON(`{`+field+`}`), &doc{})
		wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
	}
	var l list
	if err := e.svc.List(as(ctx, owner), "measurement", "", &l); err != nil || l.Page.Total != 1 {
		t.Fatalf("list: %+v %v", l, err)
	}
	if got := l.Data[0]; got.Version != 1 || got.CreatorID != owner.UserID || len(got.GroupIDs) != 0 || got.Status != InitialStatus {
		t.Fatalf("server-owned fields changed: %+v", got)
	}
}

// TestAC4_CreateChecksTheNewState: a create rule that depends on the new
// document (linked_group_patients) is checked against the stored state, and
// a refused create leaves nothing behind.
func TestAC4_CreateChecksTheNewState(t *testing.T) {
	t.Parallel()
	acc := ownerAccess
	acc.Create = []string{RuleLinkedGroupPatients}
	e := newEnv(t, measurementModel(acc))
	ctx := t.Context()
	p := user()
	p.PatientGroups = []uuid.UUID{uuid.New()} // a group the new document is not in
	err := e.svc.Create(as(ctx, p), "measurement", rawJSON(validBody), &doc{})
	wantStatus(t, err, http.StatusForbidden, apierr.CodeForbidden)
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM data_measurement`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after a refused create: %d %v", n, err)
	}
	if got := e.deniedRows(p.UserID); got != 1 {
		t.Errorf("audit rows: %d", got)
	}
}
