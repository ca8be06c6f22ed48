package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/exhgen/exhgen/runtime/apierr"
)

// TestAV1_RequestDeadline checks that a handler waiting on its request's
// context (for a pooled connection, a lock...) is stopped at
// RequestTimeout and the client gets a 503 with Retry-After, whether the
// handler writes the context's error, ogen does, or nobody does.
func TestAV1_RequestDeadline(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	tests := map[string]func() *http.Request{
		"handler writes the error": func() *http.Request { return httptest.NewRequest(http.MethodGet, "/wait", nil) },
		"handler writes nothing":   func() *http.Request { return httptest.NewRequest(http.MethodGet, "/wait-silently", nil) },
		"ogen operation":           func() *http.Request { return postThing(`{"systolic":16,`+okDevice+`}`, "good") },
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{RequestTimeout: timeout}, nil)
			start := time.Now()
			res := f.do(t, req())
			elapsed := time.Since(start)
			if res.status != http.StatusServiceUnavailable || res.body.Code != apierr.CodeUnavailable {
				t.Fatalf("got %d %s after %v, want 503 %s", res.status, res.raw, elapsed, apierr.CodeUnavailable)
			}
			if res.header.Get("Retry-After") == "" {
				t.Errorf("no Retry-After: %v", res.header)
			}
			if res.body.RequestID == "" {
				t.Errorf("no request id: %s", res.raw)
			}
			if elapsed < timeout || elapsed >= noDeadline {
				t.Errorf("answered after %v, want soon after %v", elapsed, timeout)
			}
		})
	}
}

// TestAV1_FastRequestsUnaffected checks that a request finishing in time
// gets its own response.
func TestAV1_FastRequestsUnaffected(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{RequestTimeout: time.Minute}, nil)
	res := f.do(t, postThing(`{"systolic":1,`+okDevice+`}`, "good"))
	if res.status != http.StatusCreated {
		t.Fatalf("got %d %s", res.status, res.raw)
	}
	if res.header.Get("Retry-After") != "" {
		t.Errorf("Retry-After on a 201")
	}
}

func TestAV1_RequestTimeoutBelowWriteTimeout(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg  Config
		want time.Duration
	}{
		"default":                 {Config{}, DefaultRequestTimeout},
		"set":                     {Config{RequestTimeout: 5 * time.Second}, 5 * time.Second},
		"above WriteTimeout":      {Config{RequestTimeout: 90 * time.Second}, 45 * time.Second},
		"equal to WriteTimeout":   {Config{RequestTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}, 7500 * time.Millisecond},
		"default above the write": {Config{WriteTimeout: 10 * time.Second}, 7500 * time.Millisecond},
	}
	if DefaultRequestTimeout >= DefaultWriteTimeout {
		t.Fatalf("DefaultRequestTimeout %v is not below DefaultWriteTimeout %v", DefaultRequestTimeout, DefaultWriteTimeout)
	}
	for name, tc := range tests {
		if got := tc.cfg.withDefaults().RequestTimeout; got != tc.want {
			t.Errorf("%s: RequestTimeout = %v, want %v", name, got, tc.want)
		}
	}
}

// TestAV1_RequestTimeoutLoweredIsLogged checks that New warns, through the
// configured logger, when it lowers a RequestTimeout that was set to
// WriteTimeout or more, and says nothing otherwise.
func TestAV1_RequestTimeoutLoweredIsLogged(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg  Config
		warn bool
	}{
		"above WriteTimeout":      {Config{RequestTimeout: 90 * time.Second}, true},
		"equal to WriteTimeout":   {Config{RequestTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}, true},
		"below WriteTimeout":      {Config{RequestTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}, false},
		"default":                 {Config{}, false},
		"default above the write": {Config{WriteTimeout: 10 * time.Second}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.cfg, nil)
			var warned []map[string]any
			for _, rec := range f.logs.records(t) {
				if rec["level"] == "WARN" && strings.Contains(rec["msg"].(string), "request timeout") {
					warned = append(warned, rec)
				}
			}
			if !tc.warn {
				if len(warned) != 0 {
					t.Fatalf("unexpected warning %v", warned)
				}
				return
			}
			if len(warned) != 1 {
				t.Fatalf("want one warning about the request timeout, got %v (all logs: %s)", warned, f.logs.String())
			}
			for k, want := range map[string]time.Duration{
				"request_timeout_configured": tc.cfg.RequestTimeout,
				"write_timeout":              f.srv.cfg.WriteTimeout,
				"request_timeout":            f.srv.cfg.RequestTimeout,
			} {
				// slog's JSON handler writes durations in nanoseconds.
				if got, _ := warned[0][k].(float64); time.Duration(got) != want {
					t.Errorf("%s = %v, want %v", k, warned[0][k], want)
				}
			}
		})
	}
}

// TestRetryAfterOnOgenErrors checks that a 503 written by ogen (from the
// Handler's NewError, which cannot set headers) carries Retry-After.
func TestRetryAfterOnOgenErrors(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	retryAfter(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("Retry-After = %q", rec.Header().Get("Retry-After"))
	}
}
