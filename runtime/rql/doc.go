// Package rql is the query language of list endpoints: the persvr Resource
// Query Language dialect medical BaaS clients speak, parsed from a raw query
// string and compiled to parameterised PostgreSQL.
//
//	GET /data/measurement/documents?and(gt(systolic,140),eq(arm,left))&sort(-taken_at)&limit(20)
//
// # Grammar
//
// A query is terms joined by `&` (ANDed). A term is a call `name(args…)`;
// an argument is a call, a value, or a parenthesised list of values. The
// operators are a closed set:
//
//	eq ne gt ge lt le (path, value)   compare; on an array: eq "contains",
//	                                  ne "does not contain", gt… "some element"
//	in out (path, values… | (values…)) any / none of the values; on an array:
//	                                  some element in / no element in
//	like (path, value)                case-insensitive substring (strings and
//	                                  string arrays)
//	contains excludes (path)          has / lacks the property (or array index: tags.1)
//	contains excludes (path, cond)    an array of objects with / without an
//	                                  element matching cond (paths in cond are
//	                                  relative to the element)
//	and or (conds…)                   nested logic
//	select(paths…) sort(±path…) limit(n[,offset]) skipCount()   top level only
//
// Paths are dot-separated field names (`device.serial`, `samples.pressure`);
// a leading `data.` is accepted for document fields. Values are typed by
// guessing — null, true/false, numbers (JSON syntax), dates (2026-01-31),
// date-times (RFC 3339) — unless prefixed `string:`; the field's type then
// decides how the value is compared (a guessed number compared with a string
// field is its text). The structure (parentheses, commas, `&`) is read after
// the query string's own percent-decoding; values and paths are
// percent-decoded once more, so special characters in values arrive
// percent-encoded twice (`(` as %2528).
//
// # Clients
//
// The builder (Eq, Gt, And, …, Builder) writes queries from Go values with
// the encoding above, and Client sends a query put in a request's context
// (WithRawQuery, Builder.Context) with a generated (ogen) client's
// requests; generated backends' api packages hold each model's field paths
// as constants (MeasurementFieldTakenAt).
//
// # Errors
//
// Parse and compile errors are *Error values with a stable Code (CodeSyntax,
// CodeUnknownField, …) and the byte position in the raw query string; the
// HTTP layer maps them to 400 (apierr, server).
//
// # Security (IN-4)
//
// Every value becomes a bind parameter; nested paths and jsonpath
// expressions are bind parameters too; identifiers only come from the
// Schema and are quoted. The SQL text is thus a function of the query's
// shape and the schema, never of user bytes (FuzzCompile checks this).
// Terms, nesting depth, values per term, value length, select paths, sort
// keys, limit and offset are capped (Limits).
//
// # Indexes
//
// Comparisons on typed columns are plain `col op $n` (in: `col = ANY($n)`),
// which a btree index serves; equality on jsonb fields is containment
// (`col @> $n::jsonb`) and on uuid[]/text[] columns `@>` / `&&`, which GIN
// indexes serve. Sorting on an indexed column can walk its index.
package rql
