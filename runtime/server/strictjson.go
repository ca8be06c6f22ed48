package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/exhgen/exhgen/runtime/apierr"
)

// MaxJSONDepth is the deepest nesting of objects and arrays a JSON request
// body may have (IN-3).
const MaxJSONDepth = 64

// Detail codes of the strict JSON check.
const (
	DetailDuplicateKey = "duplicate_key"
	DetailNULCharacter = "nul_character"
	DetailTooDeep      = "too_deep"
)

// strictJSON rejects, before any handler parses them, JSON request bodies
// that Go's and ogen's decoders would accept but that are ambiguous or
// unstorable (IN-2, IN-3): invalid UTF-8, a repeated member name, a \u0000
// (PostgreSQL text and jsonb refuse it), nesting deeper than MaxJSONDepth,
// malformed JSON or data after the value. Other content types pass through.
func strictJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || !isJSON(r.Header.Get("Content-Type")) {
			next.ServeHTTP(w, r)
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

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

type jsonFrame struct {
	object  bool
	wantKey bool // object: the next token is a member name or '}'
	key     string
	index   int
	keys    map[string]struct{}
}

// checkJSON returns nil when body is one well-formed JSON value without
// repeated member names, NUL characters or excessive nesting.
func checkJSON(body []byte) *apierr.Error {
	if !utf8.Valid(body) {
		return errNotUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*jsonFrame
	done := false
	path := func(extra ...string) []string {
		var p []string
		for _, f := range stack {
			if f.object {
				p = append(p, f.key)
			} else {
				p = append(p, strconv.Itoa(f.index))
			}
		}
		return append(p, extra...)
	}
	valueDone := func() {
		if len(stack) == 0 {
			done = true
			return
		}
		top := stack[len(stack)-1]
		if top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	invalid := func(p []string, code, msg string) *apierr.Error {
		return apierr.Validation("The request body is invalid.", apierr.FieldError{Field: pointer(p), Code: code, Message: msg})
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !done {
				return withCause(errBadJSON, io.ErrUnexpectedEOF)
			}
			return nil
		}
		if err != nil || done {
			return withCause(errBadJSON, err)
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				valueDone()
				continue
			}
			key, _ := tok.(string) // the decoder guarantees a name here
			top.key = key
			if _, dup := top.keys[key]; dup {
				return invalid(path(), DetailDuplicateKey, "This member name appears more than once.")
			}
			if strings.ContainsRune(key, 0) {
				return invalid(path(), DetailNULCharacter, "Member names cannot contain the NUL character.")
			}
			top.keys[key] = struct{}{}
			top.wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= MaxJSONDepth {
				return invalid(path(), DetailTooDeep, "Objects and arrays are nested too deeply.")
			}
			f := &jsonFrame{object: tok == json.Delim('{')}
			if f.object {
				f.wantKey = true
				f.keys = map[string]struct{}{}
			}
			stack = append(stack, f)
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		if str, ok := tok.(string); ok && strings.ContainsRune(str, 0) {
			return invalid(path(), DetailNULCharacter, "Strings cannot contain the NUL character.")
		}
		valueDone()
	}
}
