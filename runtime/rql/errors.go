package rql

import (
	"fmt"
	"net/http"

	"github.com/exhgen/exhgen/runtime/apierr"
)

// Stable error codes. Never rename one: clients switch on them. The HTTP
// layer answers 400 with the code, except CodeNoMatch (412).
const (
	CodeSyntax       = apierr.CodeQuerySyntax       // malformed query
	CodeEmpty        = apierr.CodeQueryEmpty        // a query is required but none was given
	CodeUnknownField = apierr.CodeQueryUnknownField // a path names no field of the schema
	CodeInvalidValue = apierr.CodeQueryInvalidValue // a value does not fit the field or operator
	CodeUnsupported  = apierr.CodeQueryUnsupported  // the operator does not apply to the field
	CodeTooComplex   = apierr.CodeQueryTooComplex   // a cap on terms, depth, values, … was exceeded
	CodeNoMatch      = apierr.CodeQueryNoMatch      // a guarded update: the document does not match
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

func (e *Error) Error() string { return "rql: " + e.Code + ": " + e.text() }

// text is the message with the position, as clients see it.
func (e *Error) text() string {
	if e.Pos >= 0 {
		return fmt.Sprintf("%s at position %d.", e.Message, e.Pos)
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

// Public is the error's public face: 400 (412 for CodeNoMatch) with its
// code, and a detail for the query string naming the field, if any.
func (e *Error) Public() *apierr.Error {
	status := http.StatusBadRequest
	if e.Code == CodeNoMatch {
		status = http.StatusPreconditionFailed
	}
	msg := e.text()
	field := "query"
	if e.Field != "" {
		field = "query:" + e.Field
	}
	return &apierr.Error{Status: status, Code: e.Code, Message: msg, Cause: e,
		Details: []apierr.FieldError{{Field: field, Code: e.Code, Message: msg}}}
}
