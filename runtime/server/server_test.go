package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

func TestAV1_TimeoutsSet(t *testing.T) {
	t.Parallel()
	srv := New(Config{}, nil, nil, nil).httpServer(t.Context())
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout,
		"ReadTimeout":       srv.ReadTimeout,
		"WriteTimeout":      srv.WriteTimeout,
		"IdleTimeout":       srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s not set", name)
		}
	}
	if srv.ReadHeaderTimeout != DefaultReadHeaderTimeout || srv.MaxHeaderBytes != DefaultMaxHeaderBytes {
		t.Errorf("defaults not applied: %v %d", srv.ReadHeaderTimeout, srv.MaxHeaderBytes)
	}
	custom := New(Config{ReadHeaderTimeout: time.Second, MaxBodyBytes: 7}, nil, nil, nil)
	if got := custom.httpServer(t.Context()).ReadHeaderTimeout; got != time.Second {
		t.Errorf("ReadHeaderTimeout = %v", got)
	}
	if custom.cfg.MaxBodyBytes != 7 || custom.cfg.ShutdownTimeout != DefaultShutdownTimeout {
		t.Errorf("cfg = %+v", custom.cfg)
	}
}

// failReader fails the test if the body is read.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("body was read")
	return 0, io.EOF
}

func TestIN3_BodyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{MaxBodyBytes: 64}, nil)

	// Declared too large: 413 without reading.
	req := httptest.NewRequest(http.MethodPost, "/things", failReader{t})
	req.ContentLength = 65
	req.Header.Set("Content-Type", "application/json")
	res := f.do(t, req)
	if res.status != 413 || res.body.Code != apierr.CodePayloadTooLarge {
		t.Fatalf("declared: %d %s", res.status, res.raw)
	}

	// Unknown length, found too large while ogen reads it.
	big := `{"systolic":1,` + okDevice + `,"tags":["` + strings.Repeat("a", 100) + `"]}`
	req = postThing(big, "good")
	req.ContentLength = -1
	res = f.do(t, req)
	if res.status != 413 || res.body.Code != apierr.CodePayloadTooLarge {
		t.Fatalf("streamed via ogen: %d %s", res.status, res.raw)
	}

	// Same through a plain handler using WriteError.
	req = httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader(strings.Repeat("a", 100)))
	req.ContentLength = -1
	res = f.do(t, req)
	if res.status != 413 {
		t.Fatalf("streamed via handler: %d %s", res.status, res.raw)
	}

	// At the limit is fine.
	res = f.do(t, httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader(strings.Repeat("a", 64))))
	if res.status != 200 || len(res.raw) != 64 {
		t.Fatalf("at limit: %d %q", res.status, res.raw)
	}
}

// TestIN2_OneAuthorizationHeader: two Authorization headers are a 400,
// before any handler picks one.
func TestIN2_OneAuthorizationHeader(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	for _, tc := range []struct {
		name   string
		values []string
		status int
	}{
		{"none", nil, http.StatusOK},
		{"one", []string{"Bearer a"}, http.StatusOK},
		{"two", []string{"Bearer a", "Bearer b"}, http.StatusBadRequest},
		{"two schemes", []string{"Basic YTpi", "Bearer b"}, http.StatusBadRequest},
	} {
		req := httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader("x"))
		if tc.values != nil {
			req.Header["Authorization"] = tc.values
		}
		res := f.do(t, req)
		if res.status != tc.status || (tc.status == http.StatusBadRequest && res.body.Code != apierr.CodeBadRequest) {
			t.Errorf("%s: %d %s, want %d", tc.name, res.status, res.raw, tc.status)
		}
	}
}

func TestIN5_PanicRecovery(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/panic", "/things"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{}, nil)
			req := postThing(`{"systolic":13,`+okDevice+`}`, "good") // CreateThing panics on 13
			req.URL.Path = path
			req.Header.Set(HeaderRequestID, "req-123")
			res := f.do(t, req)
			if res.status != 500 || res.body.Code != apierr.CodeInternal || res.body.RequestID != "req-123" {
				t.Fatalf("got %d %s", res.status, res.raw)
			}
			assertNoLeak(t, res.raw)
			if res.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("security headers missing on the panic response")
			}
			var logged bool
			for _, r := range f.logs.records(t) {
				if r["msg"] == "panic serving request" && r["request_id"] == "req-123" &&
					strings.Contains(r["panic"].(string), "secret panic text") {
					logged = true
				}
			}
			if !logged {
				t.Errorf("panic not logged: %s", f.logs)
			}
		})
	}
}

func TestPanicAfterWriteAborts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	f.srv.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/write-then-panic", nil))
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{NewRequestID: func() string { return "generated" }}, nil)
	for in, want := range map[string]string{
		"":                          "generated",
		"abc-DEF_1.2:3":             "abc-DEF_1.2:3",
		"has space":                 "generated",
		"new\nline":                 "generated",
		strings.Repeat("a", 64):     strings.Repeat("a", 64),
		strings.Repeat("a", 65):     "generated",
		`"quoted"`:                  "generated",
		"7d3b0f5e-8d2a-4a7e-9a36-7": "7d3b0f5e-8d2a-4a7e-9a36-7",
	} {
		req := httptest.NewRequest(http.MethodGet, "/nope", nil)
		if in != "" {
			req.Header.Set(HeaderRequestID, in)
		}
		res := f.do(t, req)
		if got := res.header.Get(HeaderRequestID); got != want {
			t.Errorf("X-Request-ID %q → %q, want %q", in, got, want)
		}
		if res.body.RequestID != want {
			t.Errorf("body request_id %q, want %q", res.body.RequestID, want)
		}
	}
	// The default generator gives distinct ids.
	d := newFixture(t, Config{}, nil)
	a := d.do(t, httptest.NewRequest(http.MethodGet, "/livez", nil)).header.Get(HeaderRequestID)
	b := d.do(t, httptest.NewRequest(http.MethodGet, "/livez", nil)).header.Get(HeaderRequestID)
	if len(a) != 32 || a == b {
		t.Errorf("generated ids %q, %q", a, b)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	for _, path := range []string{"/livez", "/nope", "/openapi.json"} {
		res := f.do(t, httptest.NewRequest(http.MethodGet, path, nil))
		for k, v := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "no-store",
			"Referrer-Policy":        "no-referrer",
			"X-Frame-Options":        "DENY",
		} {
			if got := res.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
	}
}

func TestAccessLogNeverLogsSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, nil)
	req := postThing(`{"systolic":1,"device":{"serial":"BODYSECRET"}}`, "good")
	req.URL.RawQuery = "token=QUERYSECRET"
	req.Header.Set("Cookie", "session=HEADERSECRET")
	req.Header.Set(HeaderRequestID, "rid-1")
	if res := f.do(t, req); res.status != 201 {
		t.Fatalf("status %d: %s", res.status, res.raw)
	}
	logs := f.logs.String()
	for _, s := range []string{"BODYSECRET", "QUERYSECRET", "HEADERSECRET"} {
		if strings.Contains(logs, s) {
			t.Errorf("log contains %s: %s", s, logs)
		}
	}
	recs := f.logs.records(t)
	if len(recs) != 1 {
		t.Fatalf("want 1 access log record, got %s", logs)
	}
	r := recs[0]
	if r["msg"] != "http request" || r["method"] != "POST" || r["path"] != "/things" ||
		r["status"] != float64(201) || r["request_id"] != "rid-1" || r["duration"] == nil {
		t.Errorf("access log record %v", r)
	}
}

func TestProbesAndOpenAPI(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	f := newFixture(t, Config{}, pool.Ping)

	res := f.do(t, httptest.NewRequest(http.MethodGet, "/livez", nil))
	if res.status != 200 || res.raw != "{\"status\":\"ok\"}\n" {
		t.Fatalf("livez %d %q", res.status, res.raw)
	}
	res = f.do(t, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if res.status != 200 {
		t.Fatalf("readyz %d %q", res.status, res.raw)
	}
	res = f.do(t, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if res.status != 200 || res.header.Get("Content-Type") != "application/json" || res.raw != `{"openapi":"3.0.3"}` {
		t.Fatalf("openapi.json %d %v %q", res.status, res.header, res.raw)
	}

	pool.Close() // the database goes away
	res = f.do(t, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if res.status != 503 || res.body.Code != apierr.CodeUnavailable {
		t.Fatalf("readyz after close %d %q", res.status, res.raw)
	}
	assertNoLeak(t, res.raw)
	if strings.Contains(res.raw, "closed") {
		t.Errorf("readyz leaks the cause: %s", res.raw)
	}
	// livez does not care.
	if res := f.do(t, httptest.NewRequest(http.MethodGet, "/livez", nil)); res.status != 200 {
		t.Fatalf("livez after close %d", res.status)
	}
}

// TestDUR4_GracefulShutdown: cancelling Serve's ctx stops accepting new
// connections, lets the in-flight request finish, then returns nil.
func TestDUR4_GracefulShutdown(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		if r.Context().Err() != nil {
			t.Error("request context cancelled by the shutdown")
		}
		_, _ = io.WriteString(w, "done")
	})
	s := New(Config{Logger: quiet}, api, nil, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	url := "http://" + ln.Addr().String() + "/slow"
	got := make(chan string, 1)
	go func() {
		res, err := http.Get(url)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		got <- string(b)
	}()
	<-started
	cancel()

	// Serve is draining: it has not returned, and new connections fail once
	// the listener is closed.
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the request finished", err)
	default:
	}
	close(release)
	if b := <-got; b != "done" {
		t.Fatalf("in-flight request got %q", b)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestDUR4_ShutdownTimeout(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done() // only ends when the connection is force-closed
	})
	s := New(Config{ShutdownTimeout: 50 * time.Millisecond, Logger: quiet}, api, nil, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/stuck")
		if err == nil {
			res.Body.Close()
		}
	}()
	<-started
	cancel()
	if err := <-served; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Serve = %v, want a deadline error after ShutdownTimeout", err)
	}
}
