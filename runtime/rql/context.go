package rql

import (
	"context"
	"net/http"
)

type rawQueryKey struct{}

// WithRawQuery returns ctx carrying a request's raw query string. Code
// generated from OpenAPI cannot parse RQL (it is not key=value), so the
// server puts the raw string in the request context and the runtime reads
// it back with RawQuery.
func WithRawQuery(ctx context.Context, raw string) context.Context {
	return context.WithValue(ctx, rawQueryKey{}, raw)
}

// RawQuery returns the raw query string WithRawQuery stored ("" if none).
func RawQuery(ctx context.Context) string {
	s, _ := ctx.Value(rawQueryKey{}).(string)
	return s
}

// Middleware stores every request's raw query string in its context.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithRawQuery(r.Context(), r.URL.RawQuery)))
	})
}
