package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/ogen-go/ogen/ogenerrors"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
)

// TestAV5_DatabaseUnavailableIs503 maps the ways a database outage shows
// up to 503 service_unavailable (clients retry; a 500 says "bug", a 401
// "drop your token"), while verdicts and ordinary SQL errors keep theirs.
func TestAV5_DatabaseUnavailableIs503(t *testing.T) {
	t.Parallel()
	_, connectErr := pgconn.Connect(t.Context(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	var ce *pgconn.ConnectError
	if !errors.As(connectErr, &ce) {
		t.Fatalf("connecting to port 1: %v, want a *pgconn.ConnectError", connectErr)
	}
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	_, closedErr := pool.Acquire(t.Context())
	if closedErr == nil {
		t.Fatal("acquired from a closed pool")
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
		"connect error":            {fmt.Errorf("login: load user: %w", connectErr), 503, apierr.CodeUnavailable},
		"connection failure 08006": {fmt.Errorf("query: %w", &pgconn.PgError{Code: "08006", Message: "connection failure"}), 503, apierr.CodeUnavailable},
		"class 08 via SQLState":    {fmt.Errorf("query: %w", sqlStateError("08001")), 503, apierr.CodeUnavailable},
		"admin shutdown":           {fmt.Errorf("query: %w", &pgconn.PgError{Code: "57P01"}), 503, apierr.CodeUnavailable},
		"closed pool":              {fmt.Errorf("query: %w", closedErr), 503, apierr.CodeUnavailable},
		"pool exhausted":           {fmt.Errorf("query: %w", db.ErrPoolExhausted), 503, apierr.CodeUnavailable},
		"deadline":                 {fmt.Errorf("query: %w", context.DeadlineExceeded), 503, apierr.CodeUnavailable},
		"internal apierr of it":    {internal(fmt.Errorf("authenticate: %w", connectErr)), 503, apierr.CodeUnavailable},
		"security handler":         {&ogenerrors.SecurityError{OperationContext: op, Security: "BearerAuth", Err: internal(connectErr)}, 503, apierr.CodeUnavailable},
		"security handler raw":     {&ogenerrors.SecurityError{OperationContext: op, Security: "BearerAuth", Err: connectErr}, 503, apierr.CodeUnavailable},
		"verdict kept":             {apierr.Wrap(connectErr, http.StatusUnauthorized, apierr.CodeUnauthorized, "x"), 401, apierr.CodeUnauthorized},
		"unique violation":         {fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"}), 500, apierr.CodeInternal},
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
			if got := rec.Header().Get("Retry-After"); (tc.status == 503) != (got != "") {
				t.Errorf("status %d with Retry-After %q", rec.Code, got)
			}
			assertNoLeak(t, rec.Body.String())
		})
	}
}
