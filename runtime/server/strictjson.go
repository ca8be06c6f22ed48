package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

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
// malformed JSON or data after the value; a body declared US-ASCII must
// be ASCII. Other content types pass through. maxBody is the body limit
// (the bodyLimit middleware enforces it).
func strictJSON(next http.Handler, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json, charset := jsonMediaType(r.Header.Get("Content-Type"))
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || !json {
			next.ServeHTTP(w, r)
			return
		}
		// JSON is UTF-8 (RFC 8259 §8.1); a body declared in another
		// charset would be misread, so it is refused rather than guessed.
		if !utf8Charset(charset) {
			WriteError(w, r, errMediaType)
			return
		}
		body, err := readBody(r.Body, r.ContentLength, maxBody)
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
		if strings.EqualFold(charset, "us-ascii") && !isASCII(body) {
			WriteError(w, r, errNotASCII)
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
	errNotASCII   = apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, "The request body is declared US-ASCII but is not.")
)

// readBody reads a whole body. One of a known length (at most maxBody) is
// read into a buffer of that size: io.ReadAll would hold about twice the
// body while it grows its buffer, and the server reads every JSON body.
func readBody(body io.Reader, length, maxBody int64) ([]byte, error) {
	if length <= 0 || length > maxBody {
		return io.ReadAll(body)
	}
	buf := make([]byte, length)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return buf, nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jsonMediaType reports whether a Content-Type is JSON, and its charset
// parameter if any.
func jsonMediaType(contentType string) (json bool, charset string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return false, ""
	}
	return true, params["charset"]
}

// utf8Charset reports whether a charset parameter ("" when there is none)
// declares a body that is read correctly as UTF-8: UTF-8 under its names
// "utf-8" and "utf8", or US-ASCII, a subset of it. Charset names are
// case-insensitive.
func utf8Charset(charset string) bool {
	switch strings.ToLower(charset) {
	case "", "utf-8", "utf8", "us-ascii":
		return true
	}
	return false
}

// checkJSON returns nil when body is one well-formed JSON value without
// repeated member names, NUL characters or excessive nesting. It builds
// nothing (strictjson.Check): a body of a million small values costs no
// more memory than the body itself, whoever sends it.
func checkJSON(body []byte) *apierr.Error {
	err := strictjson.Check(body)
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
