package rql

import "fmt"

// Stable error codes. Never rename one: clients switch on them. The HTTP
// layer answers 400 with the code, except CodeNoMatch (412).
const (
	CodeSyntax       = "rql_syntax"        // malformed query
	CodeEmpty        = "rql_empty"         // a query is required but none was given
	CodeUnknownField = "rql_unknown_field" // a path names no field of the schema
	CodeInvalidValue = "rql_invalid_value" // a value does not fit the field or operator
	CodeUnsupported  = "rql_unsupported"   // the operator does not apply to the field
	CodeTooComplex   = "rql_too_complex"   // a cap on terms, depth, values, … was exceeded
	CodeNoMatch      = "rql_no_match"      // a guarded update: the document does not match
)

// Error is a query the package rejects. Pos is the byte offset in the raw
// query string (-1 when not about one place); Field names the field
// concerned, when there is one.
type Error struct {
	Code    string
	Pos     int
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Pos >= 0 {
		return fmt.Sprintf("%s at position %d", e.Message, e.Pos)
	}
	return e.Message
}

func errAt(code string, pos int, format string, args ...any) *Error {
	return &Error{Code: code, Pos: pos, Message: fmt.Sprintf(format, args...)}
}

// ErrEmptyQuery is returned by Required for an empty query.
var ErrEmptyQuery = &Error{Code: CodeEmpty, Pos: -1, Message: "A query is required."}

// ErrNoMatch reports a guarded change to a document that does not match
// the query.
var ErrNoMatch = &Error{Code: CodeNoMatch, Pos: -1, Message: "The document does not match the query."}

// Required returns ErrEmptyQuery when q has no condition.
func Required(q *Query) error {
	if q == nil || q.Filter == nil {
		return ErrEmptyQuery
	}
	return nil
}
