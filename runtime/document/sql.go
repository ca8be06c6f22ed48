package document

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// maxBuildPairs is how many key/value pairs one json_build_object call can
// take (PostgreSQL functions take at most 100 arguments).
const maxBuildPairs = 50

// namePattern is what a field name must look like: it is written into SQL
// as a string literal, so it is restricted to a harmless alphabet.
var namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// sqlTypes maps the SQL types a top-level field may have (in the forms
// PostgreSQL and the generator spell them) to the canonical cast.
var sqlTypes = map[string]string{
	"text":                     "text",
	"bigint":                   "bigint",
	"int8":                     "bigint",
	"integer":                  "integer",
	"int":                      "integer",
	"int4":                     "integer",
	"smallint":                 "smallint",
	"int2":                     "smallint",
	"numeric":                  "numeric",
	"double precision":         "double precision",
	"float8":                   "double precision",
	"real":                     "real",
	"float4":                   "real",
	"boolean":                  "boolean",
	"bool":                     "boolean",
	"timestamptz":              "timestamptz",
	"timestamp with time zone": "timestamptz",
	"date":                     "date",
	"uuid":                     "uuid",
	"jsonb":                    "jsonb",
	"json":                     "json",
}

// column is a top-level field stored in its own column.
type column struct {
	name    string // field name: the key in the document's data
	ident   string // quoted column identifier
	column  string // unquoted column name
	sqlType string // canonical SQL type
}

// lit quotes s as an SQL string literal. Only names matching namePattern
// are ever passed, so no escaping is needed beyond the quotes.
func lit(s string) string { return "'" + s + "'" }

func ident(parts ...string) string { return pgx.Identifier(parts).Sanitize() }

// extract is the SQL expression reading field c from the jsonb parameter
// param, typed for c's column.
func (c column) extract(param string) string {
	switch c.sqlType {
	case "jsonb":
		return "(" + param + "::jsonb -> " + lit(c.name) + ")"
	case "json":
		return "((" + param + "::jsonb -> " + lit(c.name) + ")::json)"
	default:
		return "((" + param + "::jsonb ->> " + lit(c.name) + ")::" + c.sqlType + ")"
	}
}

// utc renders a timestamptz as RFC 3339 in UTC ("2026-11-27T00:14:17.123456Z"),
// whatever the session's TimeZone.
func utc(expr string) string {
	return "to_char(" + expr + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
}

// out is the SQL expression for c's value in a response.
func (c column) out() string {
	if c.sqlType == "timestamptz" {
		return utc(c.ident)
	}
	return c.ident
}

// dataExpr builds the document's data object from its columns; NULL
// columns are left out (json_strip_nulls also drops null members of nested
// objects, which the schemas do not allow anyway).
func dataExpr(cols []column) string {
	if len(cols) <= maxBuildPairs {
		parts := make([]string, 0, 2*len(cols))
		for _, c := range cols {
			parts = append(parts, lit(c.name), c.out())
		}
		return "json_strip_nulls(json_build_object(" + strings.Join(parts, ", ") + "))"
	}
	parts := make([]string, 0, len(cols))
	for _, c := range cols {
		parts = append(parts, c.out()+" AS "+ident(c.name))
	}
	return "(SELECT json_strip_nulls(row_to_json(exh_data)) FROM (SELECT " + strings.Join(parts, ", ") + ") AS exh_data)"
}

// docExpr builds the whole document (the API shape) from a row.
func docExpr(cols []column) string {
	return "json_build_object('id', id, 'creator_id', creator_id, 'user_ids', user_ids, " +
		"'group_ids', group_ids, 'status', status, 'status_changed_at', " + utc("status_changed_at") + ", " +
		"'created_at', " + utc("created_at") + ", 'updated_at', " + utc("updated_at") + ", 'version', version, " +
		"'data', " + dataExpr(cols) + ")"
}

// scoped holds a statement in two forms: for callers granted the action on
// every document, and restricted by the document-dependent access rules
// ("" when the rules have none).
type scoped struct {
	all      string
	filtered string
}

// statements are a model's SQL, built once by New. Every value is a bind
// parameter; identifiers are quoted.
type statements struct {
	// insert: $1 id, $2 creator, $3 now, $4 data (jsonb).
	insert string
	// get: $1 id [, $2 caller].
	get scoped
	// list: $1 limit, $2 offset [, $3 caller].
	list scoped
	// lockUpdate, lockDelete: $1 id [, $2 caller] → version, creator_id,
	// user_ids, data (text).
	lockUpdate scoped
	lockDelete scoped
	// update: $1 id, $2 now, $3 data (jsonb), $4 expected version.
	update string
	// deleteNow: $1 id [, $2 caller], without If-Match.
	deleteNow scoped
	// deleteLocked: $1 id, $2 expected version, after lockDelete.
	deleteLocked string
}

func buildStatements(table string, cols []column, initialStatus string, acc accessRules) statements {
	t := ident(table)
	doc := docExpr(cols)

	insertCols := []string{"id", "creator_id", "user_ids", "status", "status_changed_at", "created_at", "updated_at", "version"}
	insertVals := []string{"$1::uuid", "$2::uuid", "ARRAY[$2::uuid]", lit(initialStatus), "$3::timestamptz", "$3::timestamptz", "$3::timestamptz", "1"}
	sets := make([]string, 0, len(cols)+2)
	for _, c := range cols {
		insertCols = append(insertCols, c.ident)
		insertVals = append(insertVals, c.extract("$4"))
		sets = append(sets, c.ident+" = "+c.extract("$3"))
	}
	sets = append(sets, "version = version + 1", "updated_at = $2::timestamptz")

	var st statements
	st.insert = fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) RETURNING %s::text",
		t, strings.Join(insertCols, ", "), strings.Join(insertVals, ", "), doc)

	both := func(r rules, callerParam string, build func(cond string) string) scoped {
		sc := scoped{all: build("TRUE")}
		if r.restricted() {
			sc.filtered = build(r.filter(callerParam))
		}
		return sc
	}
	st.get = both(acc.read, "$2::uuid", func(cond string) string {
		return fmt.Sprintf("SELECT %s::text FROM %s WHERE id = $1::uuid AND %s", doc, t, cond)
	})
	st.list = both(acc.read, "$3::uuid", func(cond string) string {
		return fmt.Sprintf("SELECT json_build_object("+
			"'data', coalesce((SELECT json_agg(page.doc ORDER BY page.created_at DESC, page.id DESC) FROM "+
			"(SELECT %s AS doc, created_at, id FROM %s WHERE %s ORDER BY created_at DESC, id DESC LIMIT $1::bigint OFFSET $2::bigint) AS page), '[]'::json), "+
			"'page', json_build_object('limit', $1::bigint, 'offset', $2::bigint, 'total', (SELECT count(*) FROM %s WHERE %s)))::text",
			doc, t, cond, t, cond)
	})
	lock := func(cond string) string {
		return fmt.Sprintf("SELECT version, creator_id, user_ids, %s::text FROM %s WHERE id = $1::uuid AND %s FOR UPDATE", dataExpr(cols), t, cond)
	}
	st.lockUpdate = both(acc.update, "$2::uuid", lock)
	st.lockDelete = both(acc.delete, "$2::uuid", lock)
	st.update = fmt.Sprintf("UPDATE %s SET %s WHERE id = $1::uuid AND version = $4::bigint RETURNING %s::text",
		t, strings.Join(sets, ", "), doc)
	st.deleteNow = both(acc.delete, "$2::uuid", func(cond string) string {
		return fmt.Sprintf("DELETE FROM %s WHERE id = $1::uuid AND %s", t, cond)
	})
	st.deleteLocked = fmt.Sprintf("DELETE FROM %s WHERE id = $1::uuid AND version = $2::bigint", t)
	return st
}
