package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	ht "github.com/ogen-go/ogen/http"
	"github.com/ogen-go/ogen/ogenerrors"
	"github.com/ogen-go/ogen/validate"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/rql"
)

// CodeNotImplemented answers operations an ogen handler does not implement.
// (Not in apierr's vocabulary yet.)
const CodeNotImplemented = "not_implemented"

// CodeClientClosedRequest is the code of a request whose client went away
// before it was answered (its context was canceled), with the status
// StatusClientClosedRequest. Nobody reads that answer; the code and status
// keep such requests apart from server errors in logs and metrics.
const CodeClientClosedRequest = "client_closed_request"

// StatusClientClosedRequest is nginx's non-standard status for a request
// the client closed before the server answered.
const StatusClientClosedRequest = 499

// Public errors the mapping produces.
var (
	errBodyRequired = apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, "A request body is required.")
	errBadJSON      = apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, "The request body is not valid JSON or does not match the schema.")
	errBadRequest   = apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, "The request is invalid.")
	errMediaType    = apierr.New(http.StatusUnsupportedMediaType, apierr.CodeUnsupportedMedia, "The request's Content-Type is not supported by this operation.")
	errNotAllowed   = apierr.New(http.StatusMethodNotAllowed, apierr.CodeMethodNotAllowed, "The method is not allowed on this resource.")
	errNotImpl      = apierr.New(http.StatusNotImplemented, CodeNotImplemented, "This operation is not implemented.")
	errUnavailable  = apierr.New(http.StatusServiceUnavailable, apierr.CodeUnavailable, "The service is temporarily unavailable. Please retry shortly.")
	errClientClosed = apierr.New(StatusClientClosedRequest, CodeClientClosedRequest, "The client closed the request.")
)

const validationFailed = "The request is invalid."

// PublicError returns the public face of err: ogen's decode, validation and
// security errors and body-size errors are mapped to their status and code;
// an *apierr.Error in the chain is used as is, except that a 500 caused by
// an unavailable database becomes a 503; an unavailable database
// (db.IsUnavailable: pool exhausted or closed, connection refused or lost,
// SQLSTATE class 08, statement timeout, server shutting down) or a passed
// deadline is a 503 service_unavailable (WriteError adds Retry-After); a
// canceled context (the client went away: errors.Is(err,
// context.Canceled)) is a 499 client_closed_request unless a 4xx verdict
// stands; anything else is a 500 internal_error whose cause stays in the
// chain for logging only.
func PublicError(err error) *apierr.Error {
	if err == nil {
		return apierr.ErrInternal
	}
	var (
		secErr    *ogenerrors.SecurityError
		reqErr    *ogenerrors.DecodeRequestError
		paramsErr *ogenerrors.DecodeParamsError
		ogenErr   ogenerrors.Error
		maxErr    *http.MaxBytesError
		ctErr     *validate.InvalidContentTypeError
		ae        *apierr.Error
		queryErr  *rql.Error
	)
	hasAE := errors.As(err, &ae)
	// A verdict (4xx) or a deliberate 5xx stands; an internal error whose
	// cause is the database being unavailable is a 503.
	unavailable := (!hasAE || ae.Status == http.StatusInternalServerError) && db.IsUnavailable(err)
	// Whatever failed because the request's context was canceled failed
	// because the client left (the server cancels no request context: a
	// shutdown drains them), unless it reached a 4xx verdict first.
	canceled := (!hasAE || ae.Status >= http.StatusInternalServerError) && errors.Is(err, context.Canceled)
	switch {
	case canceled:
		return withCause(errClientClosed, err)
	case errors.As(err, &maxErr):
		// Also reached through DecodeRequestError: ogen reads the body.
		return &apierr.Error{
			Status:  http.StatusRequestEntityTooLarge,
			Code:    apierr.CodePayloadTooLarge,
			Message: "The request body exceeds " + strconv.FormatInt(maxErr.Limit, 10) + " bytes.",
			Cause:   err,
		}
	case errors.As(err, &secErr):
		// The security handler (auth.Tokens.Authenticate) says what is
		// wrong: a 401/403 verdict on the token, or a 5xx when it could
		// not decide (the database is down, say).
		if unavailable {
			return withCause(errUnavailable, err)
		}
		if hasAE {
			return ae
		}
		return withCause(apierr.ErrUnauthorized, err)
	case errors.As(err, &ctErr):
		return withCause(errMediaType, err)
	case errors.As(err, &reqErr):
		return decodeRequestError(reqErr)
	case errors.As(err, &paramsErr):
		return decodeParamsError(paramsErr)
	case errors.Is(err, ht.ErrNotImplemented):
		return withCause(errNotImpl, err)
	case unavailable:
		return withCause(errUnavailable, err)
	case errors.As(err, &queryErr):
		return queryErr.Public()
	case hasAE:
		return ae
	case errors.As(err, &ogenErr):
		if ogenErr.Code() == http.StatusBadRequest {
			return withCause(errBadRequest, err)
		}
	}
	return apierr.From(err)
}

func withCause(e *apierr.Error, cause error) *apierr.Error {
	c := *e
	c.Cause = cause
	return &c
}

func decodeRequestError(err *ogenerrors.DecodeRequestError) *apierr.Error {
	if errors.Is(err, validate.ErrBodyRequired) {
		return withCause(errBodyRequired, err)
	}
	if details := fieldDetails(err.Err); len(details) > 0 {
		return &apierr.Error{Status: http.StatusBadRequest, Code: apierr.CodeValidation,
			Message: validationFailed, Details: details, Cause: err}
	}
	var body *ogenerrors.DecodeBodyError
	if errors.As(err, &body) {
		return withCause(errBadJSON, err)
	}
	// ogen wraps a Content-Type it cannot parse (or a missing one) as
	// "parse media type"; it only parses it for operations with a body.
	if !isMediaTypeOK(err) {
		return withCause(errMediaType, err)
	}
	return withCause(errBadRequest, err)
}

// isMediaTypeOK reports whether err is not ogen's "parse media type" failure.
func isMediaTypeOK(err error) bool {
	for e := error(err); e != nil; e = next(e) {
		if ownMessage(e) == "parse media type" {
			return false
		}
	}
	return true
}

func decodeParamsError(err *ogenerrors.DecodeParamsError) *apierr.Error {
	var p *ogenerrors.DecodeParamError
	if !errors.As(err, &p) {
		return withCause(errBadRequest, err)
	}
	d := classify(p.Err)
	d.Field = string(p.In) + ":" + p.Name
	return &apierr.Error{Status: http.StatusBadRequest, Code: apierr.CodeValidation,
		Message: validationFailed, Details: []apierr.FieldError{d}, Cause: err}
}

// Public maps err with PublicError, logs the cause of a 5xx (and, at Debug
// level, of a 499 client_closed_request), and returns the status and the
// JSON body (with the request id) to send. Use it where the response is
// written by someone else, e.g. an ogen Handler's NewError.
func Public(ctx context.Context, err error) (int, apierr.Body) {
	e := PublicError(err)
	if e.Status >= 500 || e.Status == StatusClientClosedRequest {
		level := slog.LevelError
		switch e.Status {
		case http.StatusServiceUnavailable, http.StatusNotImplemented:
			level = slog.LevelWarn
		case StatusClientClosedRequest:
			// Not the server's fault, and common: the cause is only
			// of interest when debugging.
			level = slog.LevelDebug
		}
		loggerFrom(ctx).LogAttrs(ctx, level, "request failed",
			slog.String("request_id", RequestID(ctx)),
			slog.Int("status", e.Status),
			slog.String("code", e.Code),
			slog.Any("error", err),
		)
	}
	return e.Status, apierr.Body{Code: e.Code, Message: e.Message, RequestID: RequestID(ctx), Details: e.Details}
}

// WriteError writes err as a JSON apierr.Body with the request id, after
// mapping it with PublicError. It logs the cause of a 5xx. A 401 gets
// WWW-Authenticate: Bearer, a 503 Retry-After.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := Public(r.Context(), err)
	h := w.Header()
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", "Bearer")
	}
	setRetryAfter(h, status)
	writeJSON(w, status, body)
}

// writeErrorResponse writes e without logging (the caller already did).
func writeErrorResponse(w http.ResponseWriter, r *http.Request, e *apierr.Error) {
	writeJSON(w, e.Status, apierr.Body{Code: e.Code, Message: e.Message, RequestID: RequestID(r.Context()), Details: e.Details})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":"internal_error","message":"An internal error occurred."}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// ErrorHandler writes the errors an ogen server reports outside its
// operations (decoding parameters and bodies, unimplemented operations,
// security errors when the spec has no shared default response). Pass it to
// ogen's WithErrorHandler.
func ErrorHandler(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r.WithContext(ctx), err)
}

// NotFound writes a 404 not_found JSON response. Pass it to ogen's
// WithNotFound.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, apierr.ErrNotFound)
}

// MethodNotAllowed answers a request whose path exists but not with this
// method: 405 method_not_allowed JSON with an Allow header, or 204 for an
// OPTIONS request. Pass it to ogen's WithMethodNotAllowed.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request, allowed string) {
	w.Header().Set("Allow", allowed)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	WriteError(w, r, errNotAllowed)
}

// BearerChallenge adds `WWW-Authenticate: Bearer` to 401 responses (RFC 6750
// §3), and Retry-After to 503 and 429 ones: ogen writes its Handler's
// NewError responses itself, without headers. (Server's middleware adds
// Retry-After too; this covers handlers served without it.)
func BearerChallenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&challengeWriter{ResponseWriter: w}, r)
	})
}

type challengeWriter struct{ http.ResponseWriter }

func (w *challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	setRetryAfter(w.Header(), code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *challengeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
