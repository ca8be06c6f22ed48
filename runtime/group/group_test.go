package group

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var testProject = &project.Project{
	Name: "clinic",
	Roles: []project.Role{
		{Name: "admin", Permissions: []string{"*:*:*", "*:*", "groups:*"}},
		{Name: "registrar", Permissions: []string{"groups:*", "groups:patients:*", "groups:staff:*", "data:measurement:read"}},
	},
	GroupRoles: []project.Role{
		{Name: "clinic_manager", Permissions: []string{"groups:update", "groups:patients:*", "groups:staff:*"}},
		{Name: "clinic_staff", Permissions: []string{"data:measurement:read", "groups:patients:read"}},
	},
	Models: []project.Model{{
		Name: "measurement", Table: "data_measurement",
		Access: project.Access{GroupSync: project.GroupSyncCreatorPatientGroups},
	}},
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

type env struct {
	t      *testing.T
	pool   *pgxpool.Pool
	svc    *Service
	tokens *auth.Tokens
	clock  *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := dbtest.New(t)
	migs := slices.Concat(user.Migrations(), audit.Migrations(), Migrations())
	if _, err := db.Migrate(t.Context(), pool, migs); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), `CREATE TABLE data_measurement (id uuid PRIMARY KEY, creator_id uuid NOT NULL,
		group_ids uuid[] NOT NULL DEFAULT '{}')`); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	tokens := auth.NewTokens(pool, "https://issuer.test", 15*time.Minute, c.Now,
		auth.WithRoles(testProject.Roles), auth.WithGroupRoles(testProject.GroupRoles),
		auth.WithMemberships(Loader(pool, c.Now)))
	return &env{t: t, pool: pool, svc: New(pool, testProject, tokens, nil, WithClock(c.Now)), tokens: tokens, clock: c}
}

// addUser inserts a user holding the global roles.
func (e *env) addUser(roles ...string) uuid.UUID {
	e.t.Helper()
	id := uuid.New()
	if roles == nil {
		roles = []string{}
	}
	_, err := e.pool.Exec(e.t.Context(), `INSERT INTO users (id, email, email_key, first_name, last_name, language, roles, created_at, updated_at)
		VALUES ($1, $2, $2, 'Ann', 'Lee', 'en', $3, now(), now())`, id, id.String()+"@example.test", roles)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// as authenticates id through a real token, as a request would.
func (e *env) as(id uuid.UUID) context.Context {
	e.t.Helper()
	tok, _, err := e.tokens.Issue(e.t.Context(), &auth.Principal{UserID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, err := e.tokens.Authenticate(e.t.Context(), tok)
	if err != nil {
		e.t.Fatal(err)
	}
	return ctx
}

func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
}

// auditCount counts audit rows of an action and outcome by actor.
func (e *env) auditCount(actor uuid.UUID, action, outcome string) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(e.t.Context(), `SELECT count(*) FROM audit_log WHERE actor_id = $1 AND action = $2 AND outcome = $3`,
		actor, action, outcome).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) group(admin uuid.UUID, name string) *Group {
	e.t.Helper()
	g, err := e.svc.Create(e.as(admin), name, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

func TestGroupLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.addUser("registrar")
	g := e.group(reg, " Clinic North ")
	if g.Name != "Clinic North" {
		t.Errorf("name not trimmed: %q", g.Name)
	}
	_, err := e.svc.Create(e.as(reg), "", "")
	wantCode(t, err, 400, apierr.CodeValidation)

	got, err := e.svc.Get(e.as(reg), g.ID)
	if err != nil || got.ID != g.ID {
		t.Fatalf("get: %+v %v", got, err)
	}
	name := "Clinic South"
	upd, err := e.svc.Update(e.as(reg), g.ID, &name, nil)
	if err != nil || upd.Name != name {
		t.Fatalf("update: %+v %v", upd, err)
	}
	list, info, err := e.svc.List(e.as(reg), "")
	if err != nil || *info.Total != 1 || len(list) != 1 {
		t.Fatalf("list: %v %+v %v", list, info, err)
	}
	// A user without groups:read and no membership sees nothing, and the
	// group does not exist for them (404, not 403).
	nobody := e.addUser()
	if list, info, err := e.svc.List(e.as(nobody), ""); err != nil || *info.Total != 0 || len(list) != 0 {
		t.Fatalf("outsider's list: %v %+v %v", list, info, err)
	}
	_, err = e.svc.Get(e.as(nobody), g.ID)
	wantCode(t, err, 404, apierr.CodeNotFound)
	_, err = e.svc.Update(e.as(nobody), g.ID, &name, nil)
	wantCode(t, err, 404, apierr.CodeNotFound)
	if n := e.auditCount(nobody, "access.denied", audit.Denied); n != 2 {
		t.Errorf("denied audit rows: %d, want 2", n)
	}
	if err := e.svc.Delete(e.as(reg), g.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Get(e.as(reg), g.ID)
	wantCode(t, err, 404, apierr.CodeNotFound)
	if n := e.auditCount(reg, "group.create", audit.Success) + e.auditCount(reg, "group.update", audit.Success) + e.auditCount(reg, "group.delete", audit.Success); n != 3 {
		t.Errorf("success audit rows: %d, want 3", n)
	}
}

// TestAC5_NoSelfMembershipChanges: nobody enlists themselves, makes
// themselves staff, changes their own group roles or removes themselves,
// whatever they hold.
func TestAC5_NoSelfMembershipChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.addUser("registrar")
	g := e.group(reg, "Clinic")
	ctx := e.as(reg)
	_, err := e.svc.EnlistPatient(ctx, g.ID, reg, nil)
	wantCode(t, err, 403, CodeOwnMembership)
	_, err = e.svc.SetStaff(ctx, g.ID, reg, []string{"clinic_manager"})
	wantCode(t, err, 403, CodeOwnMembership)

	// A manager of the group cannot raise their own group roles nor
	// remove themselves.
	mgr := e.addUser()
	if _, err := e.svc.SetStaff(ctx, g.ID, mgr, []string{"clinic_staff", "clinic_manager"}); err != nil {
		t.Fatal(err)
	}
	mctx := e.as(mgr)
	_, err = e.svc.SetStaff(mctx, g.ID, mgr, []string{"clinic_manager"})
	wantCode(t, err, 403, CodeOwnMembership)
	err = e.svc.RemoveStaff(mctx, g.ID, mgr)
	wantCode(t, err, 403, CodeOwnMembership)
	if n := e.auditCount(reg, "access.denied", audit.Denied) + e.auditCount(mgr, "access.denied", audit.Denied); n != 4 {
		t.Errorf("denied audit rows: %d, want 4", n)
	}
	// ...but manages other members of their group.
	other := e.addUser()
	if _, err := e.svc.SetStaff(mctx, g.ID, other, []string{"clinic_staff"}); err != nil {
		t.Fatalf("manager adds staff: %v", err)
	}
}

// TestAC5_WildcardGrantsDoNotManageMembers: an admin holding `*:*:*`,
// `*:*` and `groups:*` creates groups but cannot change memberships
// without the membership resources named.
func TestAC5_WildcardGrantsDoNotManageMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.addUser("admin")
	g := e.group(admin, "Clinic")
	u := e.addUser()
	ctx := e.as(admin)
	_, err := e.svc.EnlistPatient(ctx, g.ID, u, nil)
	wantCode(t, err, 403, apierr.CodeForbidden)
	_, err = e.svc.SetStaff(ctx, g.ID, u, []string{"clinic_staff"})
	wantCode(t, err, 403, apierr.CodeForbidden)
	_, _, err = e.svc.ListStaff(ctx, g.ID, "")
	wantCode(t, err, 403, apierr.CodeForbidden)
}

// TestGroupRolesAreScopedToTheirGroup: a manager of group A manages A's
// members only; group B does not even exist for them.
func TestGroupRolesAreScopedToTheirGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.addUser("registrar")
	a, b := e.group(reg, "A"), e.group(reg, "B")
	mgr, pat := e.addUser(), e.addUser()
	if _, err := e.svc.SetStaff(e.as(reg), a.ID, mgr, []string{"clinic_manager"}); err != nil {
		t.Fatal(err)
	}
	ctx := e.as(mgr)
	exp := e.clock.t.Add(24 * time.Hour)
	m, err := e.svc.EnlistPatient(ctx, a.ID, pat, &exp)
	if err != nil {
		t.Fatal(err)
	}
	if m.UserID != pat || m.ExpiresAt == nil || !m.ExpiresAt.Equal(exp) || m.FirstName != "Ann" {
		t.Errorf("enlisted member: %+v", m)
	}
	_, err = e.svc.EnlistPatient(ctx, b.ID, pat, nil)
	wantCode(t, err, 404, apierr.CodeNotFound)
	past := e.clock.t.Add(-time.Hour)
	_, err = e.svc.EnlistPatient(ctx, a.ID, e.addUser(), &past)
	wantCode(t, err, 400, apierr.CodeValidation)
	_, err = e.svc.EnlistPatient(ctx, a.ID, uuid.New(), nil)
	wantCode(t, err, 400, apierr.CodeValidation)
	_, err = e.svc.SetStaff(e.as(reg), a.ID, pat, []string{"clinic_boss"})
	wantCode(t, err, 400, apierr.CodeValidation)

	patients, info, err := e.svc.ListPatients(ctx, a.ID, "")
	if err != nil || *info.Total != 1 || len(patients) != 1 || patients[0].UserID != pat || patients[0].Roles != nil {
		t.Fatalf("patients: %+v %+v %v", patients, info, err)
	}
	staff, info, err := e.svc.ListStaff(ctx, a.ID, "")
	if err != nil || *info.Total != 1 || staff[0].UserID != mgr || !slices.Equal(staff[0].Roles, []string{"clinic_manager"}) {
		t.Fatalf("staff: %+v %+v %v", staff, info, err)
	}
	// The patient sees the group but not its member lists.
	if _, err := e.svc.Get(e.as(pat), a.ID); err != nil {
		t.Fatalf("patient gets own group: %v", err)
	}
	_, _, err = e.svc.ListStaff(e.as(pat), a.ID, "")
	wantCode(t, err, 403, apierr.CodeForbidden)
	if n := e.auditCount(mgr, "group.enlist", audit.Success); n != 1 {
		t.Errorf("enlist audit rows: %d", n)
	}
}

// TestMembershipsReachThePrincipal: Authenticate loads memberships, and a
// change reaches the next request at once (the cached user is forgotten);
// an expired enlistment no longer counts.
func TestMembershipsReachThePrincipal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.addUser("registrar")
	g := e.group(reg, "Clinic")
	staff, pat := e.addUser(), e.addUser()
	p := principal(e.as(staff))
	if p.StaffOf(g.ID) || len(p.GroupPermissions) != 0 {
		t.Fatalf("not yet staff: %+v", p)
	}
	if _, err := e.svc.SetStaff(e.as(reg), g.ID, staff, []string{"clinic_staff"}); err != nil {
		t.Fatal(err)
	}
	p = principal(e.as(staff))
	if !p.CanInGroup(g.ID, "data:measurement:read") || p.CanInGroup(g.ID, "data:measurement:update") {
		t.Fatalf("staff permissions: %+v", p.GroupPermissions)
	}
	if got := p.GroupsWith("data:measurement:read"); !slices.Equal(got, []uuid.UUID{g.ID}) {
		t.Errorf("GroupsWith: %v", got)
	}
	exp := e.clock.t.Add(time.Hour)
	if _, err := e.svc.EnlistPatient(e.as(reg), g.ID, pat, &exp); err != nil {
		t.Fatal(err)
	}
	if p := principal(e.as(pat)); !p.PatientOf(g.ID) {
		t.Fatalf("patient groups: %v", p.PatientGroups)
	}
	e.clock.t = exp.Add(2 * time.Second) // past the enlistment and the user cache
	if p := principal(e.as(pat)); p.PatientOf(g.ID) {
		t.Fatalf("expired enlistment still counts: %v", p.PatientGroups)
	}
	if err := e.svc.RemoveStaff(e.as(reg), g.ID, staff); err != nil {
		t.Fatal(err)
	}
	if p := principal(e.as(staff)); p.StaffOf(g.ID) {
		t.Fatal("removed staff still staff")
	}
}

func principal(ctx context.Context) *auth.Principal {
	p, _ := auth.PrincipalFrom(ctx)
	return p
}

// TestGroupSyncFollowsEnlistments: documents of a creator_patient_groups
// model gain the group when their creator is enlisted and lose it when
// unenlisted; other creators' documents are untouched.
func TestGroupSyncFollowsEnlistments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.addUser("registrar")
	g := e.group(reg, "Clinic")
	pat, other := e.addUser(), e.addUser()
	doc, otherDoc, manual := uuid.New(), uuid.New(), uuid.New()
	if _, err := e.pool.Exec(t.Context(), `INSERT INTO data_measurement (id, creator_id, group_ids) VALUES ($1, $2, '{}'), ($3, $4, '{}')`,
		doc, pat, otherDoc, other); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(t.Context(), `UPDATE data_measurement SET group_ids = ARRAY[$1::uuid] WHERE id = $2`, manual, doc); err != nil {
		t.Fatal(err)
	}
	groups := func(id uuid.UUID) []uuid.UUID {
		var out []uuid.UUID
		if err := e.pool.QueryRow(t.Context(), `SELECT group_ids FROM data_measurement WHERE id = $1`, id).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for range 2 { // enlisting twice adds the group once
		if _, err := e.svc.EnlistPatient(e.as(reg), g.ID, pat, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := groups(doc); !slices.Equal(got, []uuid.UUID{manual, g.ID}) {
		t.Fatalf("after enlist: %v", got)
	}
	if got := groups(otherDoc); len(got) != 0 {
		t.Fatalf("other creator's document changed: %v", got)
	}
	if err := e.svc.UnenlistPatient(e.as(reg), g.ID, pat); err != nil {
		t.Fatal(err)
	}
	if got := groups(doc); !slices.Equal(got, []uuid.UUID{manual}) {
		t.Fatalf("after unenlist: %v", got)
	}
	err := e.svc.UnenlistPatient(e.as(reg), g.ID, pat)
	wantCode(t, err, 404, apierr.CodeNotFound)
}

// TestAC5_StaffManagersCannotGrantBeyondTheirRights: a manager who may add
// staff but holds no clinical permission cannot make anybody (a second
// account of their own, say) clinical staff, nor take such a role away.
func TestAC5_StaffManagersCannotGrantBeyondTheirRights(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.addUser("registrar")
	g := e.group(reg, "Clinic")
	mgr, clinician, sybil := e.addUser(), e.addUser(), e.addUser()
	if _, err := e.svc.SetStaff(e.as(reg), g.ID, mgr, []string{"clinic_manager"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetStaff(e.as(reg), g.ID, clinician, []string{"clinic_staff"}); err != nil {
		t.Fatal(err)
	}
	mctx := e.as(mgr)
	_, err := e.svc.SetStaff(mctx, g.ID, sybil, []string{"clinic_staff"})
	wantCode(t, err, 403, CodeRoleBeyondRights)
	_, err = e.svc.SetStaff(mctx, g.ID, clinician, []string{"clinic_manager"}) // replaces clinic_staff
	wantCode(t, err, 403, CodeRoleBeyondRights)
	if _, err := e.svc.SetStaff(mctx, g.ID, sybil, []string{"clinic_manager"}); err != nil {
		t.Fatalf("a manager appoints a manager: %v", err)
	}
}
