package group

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/rql"
)

// listCase is one RQL query against a list and what it must answer: the
// names in order, the total (-1: absent) and the page, or an RQL error.
type listCase struct {
	query         string
	want          string
	total         int64
	limit, offset int
	code          string
}

func checkList(t *testing.T, tc listCase, got []string, info PageInfo, err error) {
	t.Helper()
	if tc.code != "" {
		var qe *rql.Error
		if !errors.As(err, &qe) || qe.Code != tc.code {
			t.Fatalf("err = %v, want %s", err, tc.code)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(got, " "); g != tc.want {
		t.Errorf("list = %q, want %q", g, tc.want)
	}
	limit := tc.limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if info.Limit != limit || info.Offset != tc.offset {
		t.Errorf("page = %+v", info)
	}
	switch {
	case tc.total < 0 && info.Total != nil:
		t.Errorf("total = %d, want none", *info.Total)
	case tc.total >= 0 && (info.Total == nil || *info.Total != tc.total):
		t.Errorf("total = %v, want %d", info.Total, tc.total)
	}
}

func TestListGroupsRQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.addUser("registrar")
	var ids []uuid.UUID
	for _, n := range []string{"North", "South (old)", "East", "West"} {
		e.clock.t = e.clock.t.Add(time.Minute)
		g, err := e.svc.Create(e.as(reg), n, "clinic "+strings.ToLower(n))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	// A member without groups:read sees only their groups, whatever the
	// query says.
	pat := e.addUser()
	if _, err := e.svc.EnlistPatient(e.as(reg), ids[0], pat, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.EnlistPatient(e.as(reg), ids[2], pat, nil); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		patient bool
		listCase
	}{
		"all by name":          {listCase: listCase{query: "", want: "East North South (old) West", total: 4}},
		"like":                 {listCase: listCase{query: "like(description,clinic%2520s)", want: "South (old)", total: 1}},
		"double-encoded paren": {listCase: listCase{query: "eq(name,South%2520%2528old%2529)", want: "South (old)", total: 1}},
		"in and sort":          {listCase: listCase{query: "in(name,West,North)&sort(-name)", want: "West North", total: 2}},
		"created_at":           {listCase: listCase{query: "gt(created_at,2026-11-27T09:02:00Z)&sort(-created_at)", want: "West East", total: 2}},
		"id":                   {listCase: listCase{query: "eq(id," + ids[3].String() + ")", want: "West", total: 1}},
		"paging":               {listCase: listCase{query: "limit(2,1)", want: "North South (old)", total: 4, limit: 2, offset: 1}},
		"clamped, skipCount":   {listCase: listCase{query: "limit(500)&skipCount()", want: "East North South (old) West", total: -1, limit: MaxLimit}},
		"patient sees own":     {patient: true, listCase: listCase{query: "", want: "East North", total: 2}},
		"or cannot widen":      {patient: true, listCase: listCase{query: "or(eq(name,West),ne(name,West))", want: "East North", total: 2}},
		"unknown field":        {listCase: listCase{query: "eq(title,x)", code: rql.CodeUnknownField}},
		"bad value":            {listCase: listCase{query: "eq(id,42)", code: rql.CodeInvalidValue}},
		"syntax":               {listCase: listCase{query: "eq(name,", code: rql.CodeSyntax}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := e.as(reg)
			if tc.patient {
				ctx = e.as(pat)
			}
			list, info, err := e.svc.List(ctx, tc.query)
			var names []string
			for _, g := range list {
				names = append(names, g.Name)
			}
			checkList(t, tc.listCase, names, info, err)
		})
	}
}

func TestListMembersRQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.addUser("registrar")
	g := e.group(reg, "North")
	user := func(email, first, last string) uuid.UUID {
		id := uuid.New()
		if _, err := e.pool.Exec(t.Context(), `INSERT INTO users (id, email, email_key, first_name, last_name, language, roles, created_at, updated_at, failed_logins)
			VALUES ($1, $2, lower($2), $3, $4, 'en', '{admin}', now(), now(), 3)`, id, email, first, last); err != nil {
			t.Fatal(err)
		}
		return id
	}
	until := e.clock.t.Add(48 * time.Hour)
	ann, bob, cy := user("Ann@Example.test", "Ann", "Lee"), user("bob@example.test", "Bob", "Lee"), user("cy@example.test", "Cy", "Abe")
	for _, p := range []struct {
		id  uuid.UUID
		exp *time.Time
	}{{ann, nil}, {bob, &until}, {cy, nil}} {
		e.clock.t = e.clock.t.Add(time.Minute)
		if _, err := e.svc.EnlistPatient(e.as(reg), g.ID, p.id, p.exp); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.SetStaff(e.as(reg), g.ID, ann, []string{"clinic_manager"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetStaff(e.as(reg), g.ID, cy, []string{"clinic_staff"}); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		staff bool
		listCase
	}{
		"patients by last name":     {listCase: listCase{query: "", want: "Cy Ann Bob", total: 3}},
		"email folds case":          {listCase: listCase{query: "eq(email,ann@EXAMPLE.test)", want: "Ann", total: 1}},
		"expires_at null":           {listCase: listCase{query: "eq(expires_at,null)&sort(-first_name)", want: "Cy Ann", total: 2}},
		"expires_at range":          {listCase: listCase{query: "gt(expires_at,2026-11-28)", want: "Bob", total: 1}},
		"since":                     {listCase: listCase{query: "ge(since,2026-11-27T09:02:00Z)&sort(since)", want: "Bob Cy", total: 2}},
		"paging":                    {listCase: listCase{query: "limit(1,2)&skipCount()", want: "Bob", total: -1, limit: 1, offset: 2}},
		"staff roles":               {staff: true, listCase: listCase{query: "eq(roles,clinic_staff)", want: "Cy", total: 1}},
		"staff sort":                {staff: true, listCase: listCase{query: "sort(-last_name)", want: "Ann Cy", total: 2}},
		"patients have no roles":    {listCase: listCase{query: "eq(roles,clinic_staff)", code: rql.CodeUnknownField}},
		"staff have no expires_at":  {staff: true, listCase: listCase{query: "eq(expires_at,null)", code: rql.CodeUnknownField}},
		"global roles not exposed":  {listCase: listCase{query: "eq(user_roles,admin)", code: rql.CodeUnknownField}},
		"lockout not exposed":       {listCase: listCase{query: "gt(failed_logins,0)", code: rql.CodeUnknownField}},
		"email_key not exposed":     {staff: true, listCase: listCase{query: "sort(email_key)", code: rql.CodeUnknownField}},
		"password hash not exposed": {staff: true, listCase: listCase{query: "eq(password_hash,null)", code: rql.CodeUnknownField}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			list, info, err := e.svc.ListPatients(e.as(reg), g.ID, tc.query)
			if tc.staff {
				list, info, err = e.svc.ListStaff(e.as(reg), g.ID, tc.query)
			}
			var names []string
			for _, m := range list {
				names = append(names, m.FirstName)
			}
			checkList(t, tc.listCase, names, info, err)
		})
	}
}
