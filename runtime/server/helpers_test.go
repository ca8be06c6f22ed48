package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/server/internal/testapi"
)

// thingHandler implements the generated test API.
type thingHandler struct{}

func (thingHandler) CreateThing(ctx context.Context, req *testapi.Thing) (*testapi.Thing, error) {
	switch req.Systolic {
	case 13:
		panic("secret panic text")
	case 14:
		return nil, errors.New("pq: relation users does not exist")
	case 15:
		return nil, apierr.ErrForbidden
	case 16: // waits for something that never comes, as long as ctx lets it
		if err := waitForDeadline(ctx); err != nil {
			return nil, fmt.Errorf("wait for lock: %w", err)
		}
	}
	return req, nil
}

// waitForDeadline blocks until ctx ends and returns its error, or returns
// nil after noDeadline: a request without a deadline must not hang a test.
func waitForDeadline(ctx context.Context) error {
	t := time.NewTimer(noDeadline)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

const noDeadline = 5 * time.Second

func (thingHandler) GetThing(ctx context.Context, p testapi.GetThingParams) (*testapi.Thing, error) {
	if p.ID == uuid.Nil {
		return nil, apierr.ErrNotFound
	}
	return &testapi.Thing{Systolic: 1, Device: testapi.Device{Serial: "abc"}}, nil
}

func (thingHandler) NewError(ctx context.Context, err error) *testapi.ErrorStatusCode {
	status, b := Public(ctx, err)
	res := testapi.Error{Code: b.Code, Message: b.Message}
	if b.RequestID != "" {
		res.RequestID = testapi.NewOptString(b.RequestID)
	}
	for _, d := range b.Details {
		res.Details = append(res.Details, testapi.ErrorDetailsItem{Field: d.Field, Code: d.Code, Message: d.Message})
	}
	return &testapi.ErrorStatusCode{StatusCode: status, Response: res}
}

type thingSecurity struct{}

func (thingSecurity) HandleBearerAuth(ctx context.Context, _ testapi.OperationName, t testapi.BearerAuth) (context.Context, error) {
	switch t.Token {
	case "good":
		return ctx, nil
	case "expired":
		return nil, apierr.New(http.StatusUnauthorized, apierr.CodeUnauthorized, "The token has expired.")
	}
	return nil, errors.New("jwt: signature is invalid for token " + t.Token)
}

// logBuffer is a concurrency-safe sink for a JSON slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the JSON log records.
func (l *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

type fixture struct {
	srv  *Server
	logs *logBuffer
}

// newFixture serves the generated test API, wired as the doc comment says,
// plus /panic and /write-then-panic.
func newFixture(t *testing.T, cfg Config, ready func(context.Context) error) *fixture {
	t.Helper()
	api, err := testapi.NewServer(thingHandler{}, thingSecurity{},
		testapi.WithErrorHandler(ErrorHandler),
		testapi.WithNotFound(NotFound),
		testapi.WithMethodNotAllowed(MethodNotAllowed))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic("secret panic text") })
	mux.HandleFunc("/write-then-panic", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic("late")
	})
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) {
		if err := waitForDeadline(r.Context()); err != nil {
			WriteError(w, r, fmt.Errorf("wait for lock: %w", err))
			return
		}
		_, _ = io.WriteString(w, "no deadline")
	})
	mux.HandleFunc("/wait-silently", func(w http.ResponseWriter, r *http.Request) {
		if waitForDeadline(r.Context()) == nil {
			_, _ = io.WriteString(w, "no deadline")
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		_, _ = w.Write(b)
	})
	logs := &logBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return &fixture{srv: New(cfg, mux, ready, []byte(`{"openapi":"3.0.3"}`)), logs: logs}
}

type response struct {
	status int
	header http.Header
	raw    string
	body   apierr.Body
}

func (f *fixture) do(t *testing.T, req *http.Request) response {
	t.Helper()
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	res := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && rec.Code >= 400 {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
			t.Fatalf("error body %q: %v", res.raw, err)
		}
	}
	return res
}

func postThing(body, token string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/things", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}
