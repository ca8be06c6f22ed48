package rql_test

import (
	"fmt"

	"github.com/exhgen/exhgen/runtime/rql"
)

// A schema for a table that is not a document table, such as users: typed
// columns, a text[] of roles, a trusted expression. The caller's own
// conditions (access) take $1, so the query's placeholders start at $2.
func Example() {
	users := &rql.Schema{
		Fields: []rql.Field{
			{Name: "id", Type: rql.UUID, Column: "id", SQLType: "uuid"},
			{Name: "email", Type: rql.Email, Expr: "lower(u.email)", SQLType: "text"},
			{Name: "roles", Type: rql.Array, Column: "roles", SQLType: "text[]", Items: &rql.Field{Type: rql.String}},
			{Name: "created_at", Type: rql.DateTime, Column: "created_at", SQLType: "timestamptz"},
		},
		DefaultLimit: 20, MaxLimit: 100,
		DefaultSort: []rql.Order{{Field: "created_at", Desc: true}},
		TieBreak:    "id",
	}
	if err := users.Init(); err != nil {
		panic(err)
	}
	q, err := rql.Parse("eq(roles,clinician)&like(email,%2540clinic.example)&sort(-created_at)&limit(500)")
	if err != nil {
		panic(err)
	}
	c, err := users.Compile(q, 2)
	if err != nil {
		panic(err)
	}
	fmt.Println("WHERE", c.Where)
	fmt.Println("ORDER BY", c.OrderBy)
	fmt.Println("LIMIT", c.Limit, "args", c.Args)

	_, err = users.Compile(mustParse("eq(emial,x)"), 1)
	fmt.Println(err)
	// Output:
	// WHERE ("roles" @> ARRAY[$2::text] AND lower(u.email) ILIKE $3::text)
	// ORDER BY "created_at" DESC, "id" DESC
	// LIMIT 100 args [clinician %@clinic.example%]
	// rql: rql_unknown_field: The field "emial" is unknown (did you mean "email"?) at position 3.
}

func mustParse(s string) *rql.Query {
	q, err := rql.Parse(s)
	if err != nil {
		panic(err)
	}
	return q
}
