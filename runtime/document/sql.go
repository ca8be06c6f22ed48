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

// comparable makes expr, a value of c's type, comparable with IS DISTINCT
// FROM: json has no equality operator, so it is compared as jsonb.
func (c column) comparable(expr string) string {
	if c.sqlType == "json" {
		return "(" + expr + ")::jsonb"
	}
	return expr
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

// accessMarker stands for the access condition in a statement template;
// with replaces it with the condition built for the caller (accessCond),
// which holds only fixed SQL and placeholders.
const accessMarker = "/*access*/TRUE"

// tmpl is a statement holding accessMarker.
type tmpl string

// with returns the statement with cond as its access condition.
func (t tmpl) with(cond string) string {
	return strings.ReplaceAll(string(t), accessMarker, "("+cond+")")
}

// statements are a model's SQL, built once by New. Every value is a bind
// parameter; identifiers are quoted. Templates take the access condition
// (accessCond), whose parameters follow the fixed ones.
type statements struct {
	// insert: $1 id, $2 creator, $3 now, $4 data (jsonb).
	insert string
	// get: $1 id; guarded by read.
	get tmpl
	// lock: $1 id → version, creator_id, user_ids, group_ids, data
	// (text); FOR UPDATE; guarded by the action's rules and read.
	lock tmpl
	// update: $1 id, $2 now, $3 data (jsonb), $4 expected version. It
	// writes only when a column changes; otherwise it returns the stored
	// document as it is (no new version, same updated_at).
	update string
	// deleteNow: $1 id, without If-Match; guarded by delete and read.
	deleteNow tmpl
	// deleteLocked: $1 id, $2 expected version, after lock.
	deleteLocked string
	// exists: $1 id → whether the document exists, whoever may see it
	// (to audit a refusal; never to answer).
	exists string
	// link and unlink, by column (user_ids, group_ids): $1 id, $2 the
	// user or group, $3 now → the document, when the links changed.
	link, unlink map[string]string
	// get of the document without access condition ($1 id), after a
	// link that changed nothing.
	getAny string
}

// Names the statements use for their own relations. Field columns are
// always qualified next to them, so a field of the same name is harmless.
const (
	inputAlias = "exh_in"   // the one-row relation holding the data parameter
	inputCol   = "exh_body" // its jsonb column
	rowAlias   = "exh_row"  // the updated row
	updatedCTE = "exh_upd"  // the rows an update wrote
)

func buildStatements(table string, cols []column, initialStatus string, groupSync bool) statements {
	t := ident(table)
	doc := docExpr(cols)
	// The data parameter is read through a one-row relation, so every
	// statement references it even when the model has no field columns.
	in := inputAlias + "." + inputCol

	insertCols := []string{"id", "creator_id", "user_ids", "status", "status_changed_at", "created_at", "updated_at", "version"}
	insertVals := []string{"$1::uuid", "$2::uuid", "ARRAY[$2::uuid]", lit(initialStatus), "$3::timestamptz", "$3::timestamptz", "$3::timestamptz", "1"}
	if groupSync {
		// The creator's unexpired patient groups as they are in the
		// database now, not as the caller's cached Principal says.
		insertCols = append(insertCols, "group_ids")
		insertVals = append(insertVals, "(SELECT coalesce(array_agg(gp.group_id ORDER BY gp.group_id), '{}') FROM group_patients AS gp "+
			"WHERE gp.user_id = $2::uuid AND (gp.expires_at IS NULL OR gp.expires_at > $3::timestamptz))")
	}
	sets := make([]string, 0, len(cols)+2)
	changed := make([]string, 0, len(cols))
	for _, c := range cols {
		insertCols = append(insertCols, c.ident)
		insertVals = append(insertVals, c.extract(in))
		sets = append(sets, c.ident+" = "+c.extract(in))
		changed = append(changed, c.comparable(rowAlias+"."+c.ident)+" IS DISTINCT FROM "+c.comparable(c.extract(in)))
	}
	sets = append(sets, "version = "+rowAlias+".version + 1", "updated_at = $2::timestamptz")
	if len(changed) == 0 {
		changed = append(changed, "FALSE") // no field column: nothing can change
	}

	var st statements
	st.insert = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM (SELECT $4::jsonb AS %s) AS %s RETURNING %s::text",
		t, strings.Join(insertCols, ", "), strings.Join(insertVals, ", "), inputCol, inputAlias, doc)
	st.get = tmpl(fmt.Sprintf("SELECT %s::text FROM %s WHERE id = $1::uuid AND %s", doc, t, accessMarker))
	st.getAny = fmt.Sprintf("SELECT %s::text FROM %s WHERE id = $1::uuid", doc, t)
	st.lock = tmpl(fmt.Sprintf("SELECT version, creator_id, user_ids, group_ids, %s::text FROM %s WHERE id = $1::uuid AND %s FOR UPDATE", dataExpr(cols), t, accessMarker))
	// A data-modifying CTE: the outer query sees the table as it was before
	// the update, so the second branch returns the unchanged row when the
	// update wrote nothing.
	st.update = fmt.Sprintf("WITH %[1]s AS (UPDATE %[2]s AS %[3]s SET %[4]s FROM (SELECT $3::jsonb AS %[5]s) AS %[6]s "+
		"WHERE %[3]s.id = $1::uuid AND %[3]s.version = $4::bigint AND (%[7]s) RETURNING %[3]s.*) "+
		"SELECT %[8]s::text FROM %[1]s "+
		"UNION ALL SELECT %[8]s::text FROM %[2]s WHERE id = $1::uuid AND version = $4::bigint AND NOT EXISTS (SELECT FROM %[1]s)",
		updatedCTE, t, rowAlias, strings.Join(sets, ", "), inputCol, inputAlias, strings.Join(changed, " OR "), doc)
	st.deleteNow = tmpl(fmt.Sprintf("DELETE FROM %s WHERE id = $1::uuid AND %s", t, accessMarker))
	st.deleteLocked = fmt.Sprintf("DELETE FROM %s WHERE id = $1::uuid AND version = $2::bigint", t)
	st.exists = fmt.Sprintf("SELECT EXISTS (SELECT FROM %s WHERE id = $1::uuid)", t)
	st.link, st.unlink = map[string]string{}, map[string]string{}
	for _, col := range []string{"user_ids", "group_ids"} {
		st.link[col] = fmt.Sprintf("UPDATE %[1]s SET %[2]s = %[2]s || $2::uuid, version = version + 1, updated_at = $3::timestamptz "+
			"WHERE id = $1::uuid AND NOT %[2]s @> ARRAY[$2::uuid] RETURNING %[3]s::text", t, col, doc)
		st.unlink[col] = fmt.Sprintf("UPDATE %[1]s SET %[2]s = array_remove(%[2]s, $2::uuid), version = version + 1, updated_at = $3::timestamptz "+
			"WHERE id = $1::uuid AND %[2]s @> ARRAY[$2::uuid] RETURNING %[3]s::text", t, col, doc)
	}
	return st
}
