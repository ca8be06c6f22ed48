// Package apierr is the runtime's error vocabulary: every error a client can
// see has an HTTP status, a stable code (which doubles as a translation key)
// and a human message. Nothing else of a Go error ever reaches a client.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Stable public error codes. Never rename one: clients switch on them.
const (
	CodeBadRequest         = "bad_request"
	CodeValidation         = "validation_failed"
	CodeUnauthorized       = "unauthorized"
	CodeForbidden          = "forbidden"
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeConflict           = "conflict"
	CodePreconditionFailed = "precondition_failed"
	CodePayloadTooLarge    = "payload_too_large"
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodeTooManyRequests    = "too_many_requests"
	CodeInternal           = "internal_error"
	CodeUnavailable        = "service_unavailable"
	CodeInvalidCredentials = "invalid_credentials"
	CodeEmailTaken         = "email_taken"
	CodeRegistrationClosed = "registration_closed"

	// Query language (runtime/rql): 400, except CodeQueryNoMatch (412).
	CodeQuerySyntax       = "rql_syntax"        // malformed query; the message gives the position
	CodeQueryEmpty        = "rql_empty"         // a query is required but none was given
	CodeQueryUnknownField = "rql_unknown_field" // a path names no field; the message suggests the nearest
	CodeQueryInvalidValue = "rql_invalid_value" // a value does not fit its field or operator
	CodeQueryUnsupported  = "rql_unsupported"   // the operator does not apply to the field
	CodeQueryTooComplex   = "rql_too_complex"   // a cap on terms, depth, values, sort keys, … (IN-4)
	CodeQueryNoMatch      = "rql_no_match"      // a guarded update: the document does not match the query
)

// Codes of FieldError details. Stable: clients switch on them. Validation
// by ogen and by the runtime's JSON Schema check report the same codes.
const (
	DetailRequired     = "required"
	DetailUnknownField = "unknown_field"
	DetailInvalidType  = "invalid_type"
	DetailFormat       = "invalid_format"
	DetailEnum         = "enum"
	DetailMinimum      = "minimum"
	DetailMaximum      = "maximum"
	DetailMultipleOf   = "multiple_of"
	DetailMinLength    = "min_length"
	DetailMaxLength    = "max_length"
	DetailMinItems     = "min_items"
	DetailMaxItems     = "max_items"
	DetailUniqueItems  = "unique_items"
	DetailPattern      = "pattern"
	DetailInvalidItem  = "invalid_item"
	DetailInvalid      = "invalid"
)

// FieldError names one invalid field of a request body.
type FieldError struct {
	// Field is a JSON pointer into the request body, e.g. "/systolic".
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is an error with a public face. Cause is for logs only.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []FieldError
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with the given status, code and message.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Wrap returns an error with a public face around a cause kept for logs.
func Wrap(cause error, status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message, Cause: cause}
}

// Validation returns a 400 naming the invalid fields.
func Validation(message string, details ...FieldError) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeValidation, Message: message, Details: details}
}

// Common errors.
var (
	ErrNotFound           = New(http.StatusNotFound, CodeNotFound, "The resource does not exist.")
	ErrUnauthorized       = New(http.StatusUnauthorized, CodeUnauthorized, "A valid bearer token is required.")
	ErrForbidden          = New(http.StatusForbidden, CodeForbidden, "You are not allowed to do this.")
	ErrPreconditionFailed = New(http.StatusPreconditionFailed, CodePreconditionFailed, "The resource has changed since the version given in If-Match.")
	ErrInternal           = New(http.StatusInternalServerError, CodeInternal, "An internal error occurred.")
)

// Body is the JSON shape of every error response (the OpenAPI `Error` schema).
type Body struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	RequestID string       `json:"request_id,omitempty"`
	Details   []FieldError `json:"details,omitempty"`
}

// From returns the public face of err: an *Error found in its chain, or a
// generic internal error (the cause is never exposed).
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(err, http.StatusInternalServerError, CodeInternal, ErrInternal.Message)
}
