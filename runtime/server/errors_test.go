package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-faster/jx"
	ht "github.com/ogen-go/ogen/http"
	"github.com/ogen-go/ogen/ogenerrors"
	"github.com/ogen-go/ogen/ogenregex"
	"github.com/ogen-go/ogen/validate"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/rql"
)

const okDevice = `"device":{"serial":"abc"}`

// TestIN5_OgenRequestErrors drives the generated server with bad requests
// and checks the public error: status, code, and the JSON pointers ogen's
// errors allow us to recover.
func TestIN5_OgenRequestErrors(t *testing.T) {
	t.Parallel()
	type field struct{ Field, Code string }
	tests := map[string]struct {
		req     *http.Request
		status  int
		code    string
		details []field
	}{
		"wrong type": {
			req:    postThing(`{"systolic":"x",`+okDevice+`}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/systolic", DetailInvalidType}},
		},
		"unknown field nested": {
			req:    postThing(`{"systolic":1,"device":{"serial":"abc","meta":{"model":"x","extra":1}}}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/device/meta/extra", DetailUnknownField}},
		},
		"unknown field top level": {
			req:    postThing(`{"systolic":1,`+okDevice+`,"id":"x"}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/id", DetailUnknownField}},
		},
		"unknown field in array item": {
			req:    postThing(`{"systolic":1,`+okDevice+`,"devices":[{"serial":"abc"},{"serial":"abd","zz":1}]}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/devices", DetailInvalidItem}},
		},
		"required missing in array item": {
			req:    postThing(`{"systolic":1,`+okDevice+`,"devices":[{}]}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/devices", DetailInvalidItem}},
		},
		"required missing top level": {
			req:    postThing(`{`+okDevice+`}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/systolic", DetailRequired}},
		},
		"required missing nested": {
			req:    postThing(`{"device":{}}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/device/serial", DetailRequired}},
		},
		"validation nested and indexed": {
			req:    postThing(`{"systolic":1,"device":{"serial":"ab"},"devices":[{"serial":"abc"},{"serial":"x"}],"tags":["","a"]}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{
				{"/device/serial", DetailMinLength},
				{"/devices/1/serial", DetailMinLength},
				{"/tags/0", DetailMinLength},
			},
		},
		"maximum and max length": {
			req:    postThing(`{"systolic":1000,"device":{"serial":"abc","meta":{"model":"toolong"}}}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/device/meta/model", DetailMaxLength}, {"/systolic", DetailMaximum}},
		},
		"minimum": {
			req:    postThing(`{"systolic":-1,`+okDevice+`}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/systolic", DetailMinimum}},
		},
		"max items": {
			req:    postThing(`{"systolic":1,`+okDevice+`,"devices":[`+strings.Repeat(`{"serial":"abc"},`, 3)+`{"serial":"abc"}]}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/devices", DetailMaxItems}},
		},
		"enum": {
			req:    postThing(`{"systolic":1,`+okDevice+`,"kind":"c"}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/kind", DetailEnum}},
		},
		"date-time": {
			req:    postThing(`{"systolic":1,`+okDevice+`,"at":"yesterday"}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/at", DetailFormat}},
		},
		"wrong item type": {
			req:    postThing(`{"systolic":1,`+okDevice+`,"tags":[1]}`, "good"),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"/tags", DetailInvalidItem}},
		},
		"trailing data": {
			req:    postThing(`{"systolic":1,`+okDevice+`} x`, "good"),
			status: 400, code: apierr.CodeBadRequest,
		},
		"truncated json": {
			req:    postThing(`{"systolic":1,`, "good"),
			status: 400, code: apierr.CodeBadRequest,
		},
		"not an object": {
			req:    postThing(`[1]`, "good"),
			status: 400, code: apierr.CodeBadRequest,
		},
		"empty body": {
			req:    postThing(``, "good"),
			status: 400, code: apierr.CodeBadRequest,
		},
		"no content type": {
			req:    withHeader(postThing(`{}`, "good"), "Content-Type", ""),
			status: 415, code: apierr.CodeUnsupportedMedia,
		},
		"wrong content type": {
			req:    withHeader(postThing(`{}`, "good"), "Content-Type", "text/plain"),
			status: 415, code: apierr.CodeUnsupportedMedia,
		},
		"no token": {
			req:    postThing(`{}`, ""),
			status: 401, code: apierr.CodeUnauthorized,
		},
		"bad token": {
			req:    postThing(`{}`, "forged"),
			status: 401, code: apierr.CodeUnauthorized,
		},
		"bad path param": {
			req:    httptest.NewRequest(http.MethodGet, "/things/notauuid", nil),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"path:id", DetailFormat}},
		},
		"query param above maximum": {
			req:    httptest.NewRequest(http.MethodGet, "/things/7d3b0f5e-8d2a-4a7e-9a36-7b1f1c9f0a11?limit=1000", nil),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"query:limit", DetailMaximum}},
		},
		"query param not a number": {
			req:    httptest.NewRequest(http.MethodGet, "/things/7d3b0f5e-8d2a-4a7e-9a36-7b1f1c9f0a11?limit=x", nil),
			status: 400, code: apierr.CodeValidation,
			details: []field{{"query:limit", DetailInvalidType}},
		},
		"handler apierr": {
			req:    httptest.NewRequest(http.MethodGet, "/things/00000000-0000-0000-0000-000000000000", nil),
			status: 404, code: apierr.CodeNotFound,
		},
		"handler plain error": {
			req:    postThing(`{"systolic":14,`+okDevice+`}`, "good"),
			status: 500, code: apierr.CodeInternal,
		},
		"unknown path": {
			req:    httptest.NewRequest(http.MethodGet, "/nope", nil),
			status: 404, code: apierr.CodeNotFound,
		},
		"method not allowed": {
			req:    httptest.NewRequest(http.MethodDelete, "/things", nil),
			status: 405, code: apierr.CodeMethodNotAllowed,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{}, nil)
			res := f.do(t, tc.req)
			if res.status != tc.status || res.body.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s; body %s", res.status, res.body.Code, tc.status, tc.code, res.raw)
			}
			if res.body.RequestID == "" || res.body.RequestID != res.header.Get(HeaderRequestID) {
				t.Errorf("request_id %q, header %q", res.body.RequestID, res.header.Get(HeaderRequestID))
			}
			var got []field
			for _, d := range res.body.Details {
				got = append(got, field{d.Field, d.Code})
				if d.Message == "" {
					t.Errorf("detail %s has no message", d.Field)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.details) {
				t.Errorf("details = %v, want %v", got, tc.details)
			}
			assertNoLeak(t, res.raw)
		})
	}
}

// withHeader sets (or, for "", deletes) a request header.
func withHeader(r *http.Request, k, v string) *http.Request {
	if v == "" {
		r.Header.Del(k)
	} else {
		r.Header.Set(k, v)
	}
	return r
}

// assertNoLeak fails when a response body carries Go error text.
func assertNoLeak(t *testing.T, body string) {
	t.Helper()
	for _, s := range []string{"operation ", "decode ", "unexpected", "invalid:", "pq:", "jwt:", "forged",
		"secret", "goroutine", "parsing", "strconv", "mime", "int:", "string:", "callback", "yesterday"} {
		if strings.Contains(body, s) {
			t.Errorf("response leaks %q: %s", s, body)
		}
	}
}

func TestMethodNotAllowedHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	res := f.do(t, httptest.NewRequest(http.MethodDelete, "/things", nil))
	if res.header.Get("Allow") != "POST" {
		t.Errorf("Allow = %q", res.header.Get("Allow"))
	}
	res = f.do(t, httptest.NewRequest(http.MethodOptions, "/things", nil))
	if res.status != http.StatusNoContent || res.header.Get("Allow") != "POST" {
		t.Errorf("OPTIONS = %d Allow %q", res.status, res.header.Get("Allow"))
	}
}

func TestAUTH_SecurityErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	// The security handler's own 401 message is kept.
	res := f.do(t, postThing(`{}`, "expired"))
	if res.status != 401 || res.body.Message != "The token has expired." {
		t.Fatalf("got %d %q", res.status, res.body.Message)
	}
	// ErrorHandler path (no shared default response) sets WWW-Authenticate.
	rec := httptest.NewRecorder()
	req := postThing(`{}`, "")
	ErrorHandler(req.Context(), rec, req, &ogenerrors.SecurityError{Security: "BearerAuth", Err: ogenerrors.ErrSecurityRequirementIsNotSatisfied})
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("got %d WWW-Authenticate %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// TestIN5_PublicError maps hand-built error values like ogen's.
func TestIN5_PublicError(t *testing.T) {
	t.Parallel()
	op := ogenerrors.OperationContext{Name: "CreateThing", ID: "createThing"}
	nested := &validate.Error{Fields: []validate.FieldError{
		{Name: "device", Error: &validate.Error{Fields: []validate.FieldError{
			{Name: "serial", Error: validate.ErrFieldRequired},
			{Name: "a/b~c", Error: fmt.Errorf("string: %w", &validate.MaxLengthError{Len: 9, MaxLength: 5})},
		}}},
		{Name: "items", Error: &validate.Error{Fields: []validate.FieldError{
			{Name: "[2]", Error: &validate.NoRegexMatchError{Pattern: ogenregex.MustCompile("^a$")}},
		}}},
		{Name: "list", Error: &validate.DuplicateItemsError{Indices: []int{0, 1}}},
	}}
	tests := map[string]struct {
		err     error
		status  int
		code    string
		details string
	}{
		"validate nested": {
			err:    &ogenerrors.DecodeRequestError{OperationContext: op, Err: fmt.Errorf("validate: %w", nested)},
			status: 400, code: apierr.CodeValidation,
			details: "[{/device/a~1b~0c max_length} {/device/serial required} {/items/2 pattern} {/list unique_items}]",
		},
		"decode body without field": {
			err:    &ogenerrors.DecodeRequestError{OperationContext: op, Err: &ogenerrors.DecodeBodyError{ContentType: "application/json", Body: []byte("{"), Err: errors.New("unexpected EOF")}},
			status: 400, code: apierr.CodeBadRequest,
		},
		"jx error inside body": {
			err: &ogenerrors.DecodeRequestError{OperationContext: op, Err: &ogenerrors.DecodeBodyError{ContentType: "application/json",
				Err: fmt.Errorf("decode Thing: %w", fmt.Errorf("callback: %w", fmt.Errorf("decode field \"n\": %w", jx.DecodeStr(`"x"`).Null())))}},
			status: 400, code: apierr.CodeValidation, details: "[{/n invalid_type}]",
		},
		"body required": {
			err:    &ogenerrors.DecodeRequestError{OperationContext: op, Err: validate.ErrBodyRequired},
			status: 400, code: apierr.CodeBadRequest,
		},
		"content type": {
			err:    &ogenerrors.DecodeRequestError{OperationContext: op, Err: validate.InvalidContentType("text/xml")},
			status: 415, code: apierr.CodeUnsupportedMedia,
		},
		"body too large": {
			err:    &ogenerrors.DecodeRequestError{OperationContext: op, Err: &http.MaxBytesError{Limit: 10}},
			status: 413, code: apierr.CodePayloadTooLarge,
		},
		"params": {
			err: &ogenerrors.DecodeParamsError{OperationContext: op, Err: &ogenerrors.DecodeParamError{
				Name: "X-Thing", In: "header", Err: validate.ErrFieldRequired}},
			status: 400, code: apierr.CodeValidation, details: "[{header:X-Thing required}]",
		},
		"security": {
			err:    &ogenerrors.SecurityError{OperationContext: op, Security: "BearerAuth", Err: errors.New("token abc")},
			status: 401, code: apierr.CodeUnauthorized,
		},
		"security forbidden kept": {
			err:    &ogenerrors.SecurityError{OperationContext: op, Err: apierr.ErrForbidden},
			status: 403, code: apierr.CodeForbidden,
		},
		"not implemented":   {err: fmt.Errorf("x: %w", ht.ErrNotImplemented), status: 501, code: CodeNotImplemented},
		"apierr wrapped":    {err: fmt.Errorf("load: %w", apierr.ErrPreconditionFailed), status: 412, code: apierr.CodePreconditionFailed},
		"deadline":          {err: fmt.Errorf("query: %w", context.DeadlineExceeded), status: 503, code: apierr.CodeUnavailable},
		"statement timeout": {err: fmt.Errorf("query: %w", sqlStateError("57014")), status: 503, code: apierr.CodeUnavailable},
		"other sql error":   {err: fmt.Errorf("query: %w", sqlStateError("42P01")), status: 500, code: apierr.CodeInternal},
		"plain":             {err: errors.New("boom"), status: 500, code: apierr.CodeInternal},
		"query syntax": {err: fmt.Errorf("list: %w", queryError("eq(a")), status: 400, code: apierr.CodeQuerySyntax,
			details: "[{query rql_syntax}]"},
		"query field": {err: queryError("eq(nope,1)"), status: 400, code: apierr.CodeQueryUnknownField,
			details: "[{query:nope rql_unknown_field}]"},
		"query empty":    {err: rql.ErrEmptyQuery, status: 400, code: apierr.CodeQueryEmpty, details: "[{query rql_empty}]"},
		"query no match": {err: rql.ErrNoMatch, status: 412, code: apierr.CodeQueryNoMatch, details: "[{query rql_no_match}]"},
		"nil":            {err: nil, status: 500, code: apierr.CodeInternal},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := PublicError(tc.err)
			if e.Status != tc.status || e.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", e.Status, e.Code, tc.status, tc.code)
			}
			var got []string
			for _, d := range e.Details {
				got = append(got, "{"+d.Field+" "+d.Code+"}")
			}
			if g := "[" + strings.Join(got, " ") + "]"; tc.details != "" && g != tc.details || tc.details == "" && len(got) > 0 {
				t.Errorf("details = %s, want %s", g, tc.details)
			}
			if tc.err != nil && strings.Contains(e.Message, tc.err.Error()) {
				t.Errorf("message %q contains the Go error", e.Message)
			}
		})
	}
}

// queryError is the error parsing and compiling raw over a one-field
// schema gives.
func queryError(raw string) error {
	q, err := rql.Parse(raw)
	if err != nil {
		return err
	}
	s := &rql.Schema{Fields: []rql.Field{{Name: "a", Type: rql.Integer, Column: "a", SQLType: "bigint"}}, DefaultLimit: 1, MaxLimit: 1}
	if err := s.Init(); err != nil {
		panic(err)
	}
	_, err = s.Compile(q, 1)
	return err
}

type sqlStateError string

func (e sqlStateError) Error() string    { return "ERROR: something (SQLSTATE " + string(e) + ")" }
func (e sqlStateError) SQLState() string { return string(e) }

func TestWriteErrorHeaders(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(context.WithValue(req.Context(), loggerKey, quiet))
	WriteError(rec, req, fmt.Errorf("x: %w", context.DeadlineExceeded))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d, headers %v", rec.Code, rec.Header())
	}
}

func TestPointerEscaping(t *testing.T) {
	t.Parallel()
	if got := pointer([]string{"a/b", "c~d", "0"}); got != "/a~1b/c~0d/0" {
		t.Fatalf("pointer = %q", got)
	}
}
