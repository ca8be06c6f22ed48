package user_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/rql"
	"github.com/exhgen/exhgen/runtime/user"
)

// TestListUsersRQL drives the users list with RQL queries: filters on each
// kind of field, sorting, paging and clamping, skipCount(), and fields
// that are unknown or exist in the table but are not exposed.
func TestListUsersRQL(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	_, admin := f.userWith(t, "admin@example.com", "admin")
	for _, u := range []struct {
		email, first, last string
		roles              []string
	}{
		{"Bea@Example.com", "Bea", "Zeeman", []string{"clinician"}},
		{"carl@example.com", "Carl", "Young", nil},
		{"dora@other.example", "Dora (Dee)", "Xu", []string{"clinician"}},
	} {
		f.advance(time.Second)
		got, ctx := f.userWith(t, u.email, u.roles...)
		if _, err := f.users.UpdateMe(ctx, user.Profile{FirstName: ptr(u.first), LastName: ptr(u.last)}); err != nil {
			t.Fatal(err)
		}
		_ = got
	}
	emails := func(p *user.Page) string {
		var out []string
		for _, u := range p.Users {
			out = append(out, u.Email)
		}
		return strings.Join(out, " ")
	}
	for name, tc := range map[string]struct {
		query         string
		want          string
		total         int64 // -1: absent
		limit, offset int
		code          string // an RQL error
	}{
		"all, oldest first":         {query: "", want: "admin@example.com Bea@Example.com carl@example.com dora@other.example", total: 4, limit: 20},
		"eq email folds case":       {query: "eq(email,bea@EXAMPLE.com)", want: "Bea@Example.com", total: 1, limit: 20},
		"like email":                {query: "like(email,example.com)&sort(email)", want: "admin@example.com Bea@Example.com carl@example.com", total: 3, limit: 20},
		"roles contains":            {query: "eq(roles,clinician)", want: "Bea@Example.com dora@other.example", total: 2, limit: 20},
		"roles out":                 {query: "out(roles,clinician,admin)", want: "carl@example.com", total: 1, limit: 20},
		"double-encoded value":      {query: "eq(first_name,Dora%2520%2528Dee%2529)", want: "dora@other.example", total: 1, limit: 20},
		"or and created_at":         {query: "or(eq(last_name,Young),ge(created_at,2030-05-06T07:08:12Z))", want: "carl@example.com dora@other.example", total: 2, limit: 20},
		"email_verified":            {query: "eq(email_verified,false)&sort(-last_name)&limit(2)", want: "Bea@Example.com carl@example.com", total: 4, limit: 2},
		"sort several keys":         {query: "sort(language,-first_name)", want: "dora@other.example carl@example.com Bea@Example.com admin@example.com", total: 4, limit: 20},
		"paging":                    {query: "limit(2,1)", want: "Bea@Example.com carl@example.com", total: 4, limit: 2, offset: 1},
		"beyond the end":            {query: "limit(2,10)", want: "", total: 4, limit: 2, offset: 10},
		"clamped":                   {query: "limit(1000)&skipCount()", want: "admin@example.com Bea@Example.com carl@example.com dora@other.example", total: -1, limit: user.MaxPageLimit},
		"unknown field":             {query: "eq(emial,x)", code: rql.CodeUnknownField},
		"password hash not exposed": {query: "eq(password_hash,x)", code: rql.CodeUnknownField},
		"lockout not exposed":       {query: "gt(failed_logins,0)", code: rql.CodeUnknownField},
		"sort on hidden column":     {query: "sort(locked_until)", code: rql.CodeUnknownField},
		"email_key not exposed":     {query: "eq(email_key,x)", code: rql.CodeUnknownField},
		"deleted_at not exposed":    {query: "eq(deleted_at,null)", code: rql.CodeUnknownField},
		"syntax":                    {query: "eq(email", code: rql.CodeSyntax},
		"type":                      {query: "gt(created_at,yesterday)", code: rql.CodeInvalidValue},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			page, err := f.users.List(admin, tc.query)
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
			if got := emails(page); got != tc.want {
				t.Errorf("users = %q, want %q", got, tc.want)
			}
			if page.Users == nil || page.Limit != tc.limit || page.Offset != tc.offset {
				t.Errorf("page = %+v", page)
			}
			switch {
			case tc.total < 0 && page.Total != nil:
				t.Errorf("total = %d, want none", *page.Total)
			case tc.total >= 0 && (page.Total == nil || *page.Total != tc.total):
				t.Errorf("total = %v, want %d", page.Total, tc.total)
			}
		})
	}
}

func TestListUsersSuggestsField(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	_, admin := f.userWith(t, "admin@example.com", "admin")
	_, err := f.users.List(admin, "eq(emial,x)")
	var qe *rql.Error
	if !errors.As(err, &qe) || !strings.Contains(qe.Error(), `did you mean "email"`) || qe.Public().Status != http.StatusBadRequest {
		t.Fatalf("err = %v", err)
	}
	// Hidden columns are not suggested either.
	_, err = f.users.List(admin, "eq(password_has,x)")
	if !errors.As(err, &qe) || qe.Code != rql.CodeUnknownField || strings.Contains(qe.Error(), "did you mean") {
		t.Fatalf("err = %v", err)
	}
}

func TestListUsersDeletedHidden(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	_, admin := f.userWith(t, "admin@example.com", "admin")
	gone, _ := f.userWith(t, "gone@example.com")
	if err := f.users.Delete(admin, gone.ID); err != nil {
		t.Fatal(err)
	}
	// The store's condition (no deleted users) is ANDed with the query's:
	// or() cannot widen it.
	page, err := f.users.List(admin, "or(like(email,deleted),eq(email_verified,false))")
	if err != nil || len(page.Users) != 1 || page.Users[0].Email != "admin@example.com" {
		t.Fatalf("page = %+v, %v", page, err)
	}
}

func TestListUsersAccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	_, plain := f.userWith(t, "plain@example.com")
	_, err := f.users.List(plain, "")
	requireAPIError(t, err, http.StatusForbidden, apierr.CodeForbidden)
	_, err = f.users.List(t.Context(), "")
	requireAPIError(t, err, http.StatusUnauthorized, apierr.CodeUnauthorized)
}

func TestListSchemaExposesOnlyProfileFields(t *testing.T) {
	t.Parallel()
	var names []string
	for _, fl := range user.ListSchema().Fields {
		names = append(names, fl.Name)
	}
	want := []string{"id", "email", "email_verified", "first_name", "last_name", "phone", "language", "time_zone", "roles", "created_at", "updated_at"}
	if !slices.Equal(names, want) {
		t.Fatalf("fields = %v, want %v", names, want)
	}
}
