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

// Doer sends HTTP requests: *http.Client, and what ogen's WithClient takes.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client lets a generated (ogen) Go client send RQL: it appends the query
// WithRawQuery put in a request's context to the request's query string.
//
//	c, _ := api.NewClient(url, sec, api.WithClient(rql.Client{HTTP: http.DefaultClient}))
//	page, err := c.ListMeasurementDocuments(rql.WithRawQuery(ctx, "gt(systolic,140)&sort(-taken_at)"))
type Client struct {
	HTTP Doer
}

// Do sends r with the context's RQL query.
func (c Client) Do(r *http.Request) (*http.Response, error) {
	if q := RawQuery(r.Context()); q != "" {
		u := *r.URL
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
		r = r.Clone(r.Context())
		r.URL = &u
	}
	h := c.HTTP
	if h == nil {
		h = http.DefaultClient
	}
	return h.Do(r)
}
