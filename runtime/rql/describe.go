package rql

import "fmt"

// Description documents the query string of a list operation for OpenAPI
// (which cannot describe RQL as parameters: it is not key=value), with the
// list's default and maximum limit. The generator appends it to every
// operation carrying an x-rql extension, fixed (users, groups, members)
// and generated (documents) alike, so there is one text.
func Description(defaultLimit, maxLimit int) string {
	return fmt.Sprintf("The whole query string is an RQL query (Resource Query Language): terms joined by `&`, such as "+
		"`eq(field,value)`, `ne`, `gt`, `ge`, `lt`, `le`, `in(field,a,b)`, `out`, `like(field,text)` (case-insensitive substring), "+
		"`contains(path)` / `excludes(path)` (has / lacks a property or array index), `contains(array,condition)` (an element of an array of objects matches), "+
		"`and(…)`, `or(…)`, `select(fields…)`, `sort(-field,+field)`, `limit(n,offset)` and `skipCount()` (leave `page.total` out). "+
		"The fields are those listed in `x-rql.fields`; paths use dots to reach nested fields. On an array field `eq` means contains and `in` any element in. "+
		"Values are typed by guessing (numbers, true/false, null, dates, RFC 3339 date-times) unless prefixed `string:`; "+
		"special characters in values are percent-encoded twice (`(` as `%%2528`). "+
		"The page size defaults to %d; larger limits are clamped to %d. "+
		"The query only narrows what the caller may see. "+
		"A malformed query answers 400 with code `rql_syntax` (and the position), an unknown field `rql_unknown_field` (with the nearest name), "+
		"a value that does not fit `rql_invalid_value`, an operator that does not apply `rql_unsupported`, and a query over the caps `rql_too_complex`.",
		defaultLimit, maxLimit)
}
