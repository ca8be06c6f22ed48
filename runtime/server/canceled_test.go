package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/ogen-go/ogen/ogenerrors"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
)

// TestClientClosedRequest maps errors caused by the request's context
// being canceled (the client went away) to 499 client_closed_request, not
// to a 500 internal_error, while a 4xx verdict and a deadline keep theirs.
func TestClientClosedRequest(t *testing.T) {
	t.Parallel()
	// What db.Acquire returns once the client is gone.
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	_, acquireErr := db.Acquire(gone, pool)
	if !errors.Is(acquireErr, context.Canceled) {
		t.Fatalf("db.Acquire with a canceled context: %v, want context.Canceled in the chain", acquireErr)
	}
	internal := func(err error) error {
		return apierr.Wrap(err, http.StatusInternalServerError, apierr.CodeInternal, apierr.ErrInternal.Message)
	}
	op := ogenerrors.OperationContext{Name: "GetThing", ID: "getThing"}
	tests := map[string]struct {
		err    error
		status int
		code   string
	}{
		"db.Acquire":             {fmt.Errorf("load user: %w", acquireErr), StatusClientClosedRequest, CodeClientClosedRequest},
		"bare":                   {context.Canceled, StatusClientClosedRequest, CodeClientClosedRequest},
		"internal apierr of it":  {internal(fmt.Errorf("query: %w", context.Canceled)), StatusClientClosedRequest, CodeClientClosedRequest},
		"unavailable apierr":     {apierr.Wrap(context.Canceled, 503, apierr.CodeUnavailable, "x"), StatusClientClosedRequest, CodeClientClosedRequest},
		"security handler":       {&ogenerrors.SecurityError{OperationContext: op, Security: "BearerAuth", Err: internal(acquireErr)}, StatusClientClosedRequest, CodeClientClosedRequest},
		"verdict kept":           {apierr.Wrap(context.Canceled, http.StatusNotFound, apierr.CodeNotFound, "x"), 404, apierr.CodeNotFound},
		"deadline still a 503":   {fmt.Errorf("query: %w", context.DeadlineExceeded), 503, apierr.CodeUnavailable},
		"other errors still 500": {errors.New("boom"), 500, apierr.CodeInternal},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := PublicError(tc.err)
			if e.Status != tc.status || e.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", e.Status, e.Code, tc.status, tc.code)
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req = req.WithContext(context.WithValue(req.Context(), loggerKey, quiet))
			WriteError(rec, req, tc.err)
			if rec.Code != tc.status {
				t.Fatalf("WriteError: status %d, want %d", rec.Code, tc.status)
			}
			if rec.Header().Get("Retry-After") != "" && tc.status != 503 {
				t.Errorf("Retry-After on a %d", rec.Code)
			}
			assertNoLeak(t, rec.Body.String())
		})
	}
}

// TestClientClosedRequestLogging sends requests whose client is already
// gone through the whole server: the handler that writes its own error and
// an ogen operation both answer 499, and nothing is logged at Warn or
// Error (a client hanging up is no server failure); the cause is logged at
// Debug.
func TestClientClosedRequestLogging(t *testing.T) {
	t.Parallel()
	tests := map[string]func() *http.Request{
		"handler writes the error": func() *http.Request { return httptest.NewRequest(http.MethodGet, "/wait", nil) },
		"ogen operation":           func() *http.Request { return postThing(`{"systolic":16,`+okDevice+`}`, "good") },
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{}, nil)
			ctx, cancel := context.WithCancel(t.Context())
			cancel() // the client went away
			res := f.do(t, req().WithContext(ctx))
			if res.status != StatusClientClosedRequest || res.body.Code != CodeClientClosedRequest {
				t.Fatalf("got %d %s, want %d %s", res.status, res.raw, StatusClientClosedRequest, CodeClientClosedRequest)
			}
			var debug int
			for _, rec := range f.logs.records(t) {
				switch rec["level"] {
				case slog.LevelWarn.String(), slog.LevelError.String():
					t.Errorf("logged at %s: %v", rec["level"], rec)
				case slog.LevelDebug.String():
					if rec["msg"] == "request failed" && rec["code"] == CodeClientClosedRequest && rec["error"] != nil {
						debug++
					}
				}
			}
			if debug != 1 {
				t.Errorf("want the cause logged once at Debug; logs: %s", f.logs.String())
			}
		})
	}
}
