package server

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/strictjson"
)

// MaxJSONDepth is the deepest nesting of objects and arrays a JSON request
// body may have (IN-3).
const MaxJSONDepth = strictjson.MaxDepth

// Detail codes of the strict JSON check.
const (
	DetailDuplicateKey = strictjson.CodeDuplicateKey
	DetailNULCharacter = strictjson.CodeNULCharacter
	DetailTooDeep      = strictjson.CodeTooDeep
)

// strictJSON rejects, before any handler parses them, JSON request bodies
// that Go's and ogen's decoders would accept but that are ambiguous or
// unstorable (IN-2, IN-3): invalid UTF-8, a repeated member name, a \u0000
// (PostgreSQL text and jsonb refuse it), nesting deeper than MaxJSONDepth,
// malformed JSON or data after the value. Other content types pass through.
func strictJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json, charset := jsonMediaType(r.Header.Get("Content-Type"))
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || !json {
			next.ServeHTTP(w, r)
			return
		}
		// JSON is UTF-8 (RFC 8259 §8.1); a body declared in another
		// charset would be misread, so it is refused rather than guessed.
		if charset != "" && !strings.EqualFold(charset, "utf-8") {
			WriteError(w, r, errMediaType)
			return
		}
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				WriteError(w, r, err)
				return
			}
			WriteError(w, r, withCause(errUnreadable, err))
			return
		}
		if e := checkJSON(body); e != nil {
			WriteError(w, r, e)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

var (
	errUnreadable = apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, "The request body could not be read.")
	errNotUTF8    = apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, "The request body is not valid UTF-8.")
)

// jsonMediaType reports whether a Content-Type is JSON, and its charset
// parameter if any.
func jsonMediaType(contentType string) (json bool, charset string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return false, ""
	}
	return true, params["charset"]
}

// checkJSON returns nil when body is one well-formed JSON value without
// repeated member names, NUL characters or excessive nesting.
func checkJSON(body []byte) *apierr.Error {
	_, err := strictjson.Parse(body)
	if err == nil {
		return nil
	}
	var se *strictjson.Error
	if !errors.As(err, &se) {
		return withCause(errBadJSON, err)
	}
	switch se.Code {
	case strictjson.CodeDuplicateKey, strictjson.CodeNULCharacter, strictjson.CodeTooDeep:
		return apierr.Validation("The request body is invalid.", apierr.FieldError{Field: se.Pointer(), Code: se.Code, Message: se.Message})
	case strictjson.CodeInvalidUTF8:
		return withCause(errNotUTF8, err)
	default:
		return withCause(errBadJSON, err)
	}
}
