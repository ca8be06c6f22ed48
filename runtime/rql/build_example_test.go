package rql_test

import (
	"fmt"
	"time"

	"github.com/exhgen/exhgen/runtime/rql"
)

// The builder writes the query string a generated client sends: with
// rql.Client as its HTTP client, pass q.Context(ctx) to a list operation,
// e.g. c.ListMeasurementDocuments(q.Context(ctx)).
func ExampleBuilder() {
	q := rql.Gt("systolic", 140).
		And(rql.Eq("arm", "left (upper)"), rql.Ge("taken_at", time.Date(2026, 1, 31, 8, 30, 0, 0, time.UTC))).
		Sort("-taken_at").
		Limit(20)
	fmt.Println(q)
	fmt.Println(rql.In("code", "140", "A,B").SkipCount())
	// Output:
	// and(gt(systolic,140),eq(arm,left%2520%2528upper%2529),ge(taken_at,2026-01-31T08:30:00Z))&sort(-taken_at)&limit(20)
	// in(code,string:140,A%252CB)&skipCount()
}
