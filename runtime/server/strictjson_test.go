package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/runtime/apierr"
)

func TestIN2_StrictJSON(t *testing.T) {
	t.Parallel()
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := map[string]struct {
		body, contentType string
		status            int
		code, field       string
		detail            string
	}{
		"valid":                  {body: `{"systolic":1,` + okDevice + `}`, status: 201},
		"duplicate top level":    {body: `{"systolic":1,"systolic":2,` + okDevice + `}`, status: 400, code: apierr.CodeValidation, field: "/systolic", detail: DetailDuplicateKey},
		"duplicate nested":       {body: `{"systolic":1,"device":{"serial":"abc","serial":"abd"}}`, status: 400, code: apierr.CodeValidation, field: "/device/serial", detail: DetailDuplicateKey},
		"same name in siblings":  {body: `{"systolic":1,"device":{"serial":"abc"},"devices":[{"serial":"abc"},{"serial":"abd"}]}`, status: 201},
		"nul in value":           {body: `{"systolic":1,"device":{"serial":"ab\u0000c"}}`, status: 400, code: apierr.CodeValidation, field: "/device/serial", detail: DetailNULCharacter},
		"nul in array item":      {body: `{"systolic":1,` + okDevice + `,"tags":["a","\u0000"]}`, status: 400, code: apierr.CodeValidation, field: "/tags/1", detail: DetailNULCharacter},
		"nul in name":            {body: `{"a\u0000":1}`, status: 400, code: apierr.CodeValidation, field: "", detail: DetailNULCharacter},
		"invalid utf-8":          {body: "{\"systolic\":1,\"device\":{\"serial\":\"ab\xffc\"}}", status: 400, code: apierr.CodeBadRequest},
		"trailing value":         {body: `{"systolic":1,` + okDevice + `}{}`, status: 400, code: apierr.CodeBadRequest},
		"trailing garbage":       {body: `{"systolic":1,` + okDevice + `} x`, status: 400, code: apierr.CodeBadRequest},
		"truncated":              {body: `{"systolic":1,`, status: 400, code: apierr.CodeBadRequest},
		"too deep":               {body: `{"systolic":1,` + okDevice + `,"x":` + deep(64) + `}`, status: 400, code: apierr.CodeValidation, field: "/x" + strings.Repeat("/0", 63), detail: DetailTooDeep},
		"deep but allowed":       {body: deep(64), status: 400, code: apierr.CodeBadRequest}, // passes the check; ogen rejects the array
		"merge patch checked":    {body: `{"a":1,"a":2}`, contentType: "application/merge-patch+json", status: 400, code: apierr.CodeValidation, field: "/a", detail: DetailDuplicateKey},
		"other type unchecked":   {body: `{"a":1,"a":2}`, contentType: "text/plain", status: 415, code: apierr.CodeUnsupportedMedia},
		"utf-8 charset":          {body: `{"systolic":1,` + okDevice + `}`, contentType: "application/json; charset=UTF-8", status: 201},
		"utf-16 charset":         {body: `{"systolic":1,` + okDevice + `}`, contentType: "application/json; charset=utf-16", status: 415, code: apierr.CodeUnsupportedMedia},
		"latin1 charset":         {body: `{"systolic":1,` + okDevice + `}`, contentType: "application/json; charset=latin1", status: 415, code: apierr.CodeUnsupportedMedia},
		"utf8 charset":           {body: `{"systolic":1,` + okDevice + `}`, contentType: "application/json; charset=utf8", status: 201},
		"UTF8 charset":           {body: `{"systolic":1,` + okDevice + `}`, contentType: "application/json; charset=UTF8", status: 201},
		"quoted utf-8 charset":   {body: `{"systolic":1,` + okDevice + `}`, contentType: `application/json; charset="Utf-8"`, status: 201},
		"us-ascii charset":       {body: `{"systolic":1,` + okDevice + `}`, contentType: "application/json; charset=us-ascii", status: 201},
		"US-ASCII charset":       {body: `{"systolic":1,` + okDevice + `}`, contentType: "application/json; charset=US-ASCII", status: 201},
		"ascii escapes":          {body: `{"systolic":1,"device":{"serial":"ab\u00e9"}}`, contentType: "application/json; charset=us-ascii", status: 201},
		"utf-8 text":             {body: `{"systolic":1,"device":{"serial":"abé"}}`, contentType: "application/json; charset=utf-8", status: 201},
		"utf-8 text as us-ascii": {body: `{"systolic":1,"device":{"serial":"abé"}}`, contentType: "application/json; charset=us-ascii", status: 400, code: apierr.CodeBadRequest},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{}, nil)
			req := postThing(tc.body, "good")
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			res := f.do(t, req)
			if res.status != tc.status || res.body.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s: %s", res.status, res.body.Code, tc.status, tc.code, res.raw)
			}
			if tc.field != "" {
				if len(res.body.Details) != 1 || res.body.Details[0].Field != tc.field || res.body.Details[0].Code != tc.detail {
					t.Fatalf("details %+v, want %s %s", res.body.Details, tc.field, tc.detail)
				}
			}
			if res.status == http.StatusBadRequest {
				assertNoLeak(t, res.raw)
			}
		})
	}
}

func TestCheckJSONDepthBoundary(t *testing.T) {
	t.Parallel()
	if e := checkJSON([]byte(strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth))); e != nil {
		t.Fatalf("depth %d rejected: %v", MaxJSONDepth, e)
	}
	if e := checkJSON([]byte(strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1))); e == nil {
		t.Fatalf("depth %d accepted", MaxJSONDepth+1)
	}
	for _, ok := range []string{`1`, `"s"`, `null`, ` {"a":[1,{"b":{}}],"c":"\u00e9"} `, `[]`} {
		if e := checkJSON([]byte(ok)); e != nil {
			t.Errorf("%s rejected: %v", ok, e)
		}
	}
}

func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":1,"a":2}`, `[[[]]]`, `"\u0000"`, "\xff", `{} {}`, `{"a":{"b":[1,2,{"c":null}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = checkJSON(b) // must not panic
	})
}

// TestIN3_StrictJSONMemory checks what checking a JSON body costs: the
// body itself and next to nothing more, also for a 1 MiB body of half a
// million values, which a value tree would make hundreds of megabytes
// (32 such requests at once, unauthenticated, took a backend from 36 MB to
// 774 MB).
//
// Not parallel: it measures the process's allocations (runtime.MemStats),
// to which parallel tests would add theirs.
func TestIN3_StrictJSONMemory(t *testing.T) {
	const size = DefaultMaxBodyBytes - 16
	body := append(append([]byte{'['}, bytes.Repeat([]byte("1,"), size/2-1)...), '1', ']')
	if e := checkJSON(body); e != nil {
		t.Fatal(e)
	}
	if n := allocated(func() { _ = checkJSON(body) }); n >= 64<<10 {
		t.Errorf("checkJSON of a %d-byte body allocated %d bytes, want < 64 KiB", len(body), n)
	}

	// The middleware reads a body of known length into one buffer of
	// that size (io.ReadAll would allocate about twice the body).
	reached := false
	h := strictJSON(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }), DefaultMaxBodyBytes)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	n := allocated(func() { h.ServeHTTP(rec, req) })
	if !reached {
		t.Fatalf("the body was refused: %d %s", rec.Code, rec.Body)
	}
	if limit := uint64(len(body)) + 64<<10; n >= limit {
		t.Errorf("strictJSON allocated %d bytes for a %d-byte body, want < %d", n, len(body), limit)
	}
}

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestStrictJSONShortBody checks that a body shorter than its
// Content-Length (the client stopped sending) is a 400, not a check of the
// bytes that came.
func TestStrictJSONShortBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	req := postThing(`{"systolic":1,`+okDevice+`}`, "good")
	req.ContentLength += 10
	res := f.do(t, req)
	if res.status != http.StatusBadRequest || res.body.Code != apierr.CodeBadRequest {
		t.Fatalf("got %d %s, want 400 %s", res.status, res.raw, apierr.CodeBadRequest)
	}
	assertNoLeak(t, res.raw)
}
