package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/exhgen/exhgen/runtime/apierr"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-ID"

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
	clientIPKey
)

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// ClientIP returns the address of the peer that sent the request ctx
// belongs to (the host part of http.Request.RemoteAddr; proxies are not
// trusted, so X-Forwarded-For is ignored), or "" outside a request. Audit
// rows and per-IP limits use it.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey).(string)
	return ip
}

// WithClientIP returns ctx carrying ip as the client address, for callers
// outside the HTTP server (tests, background jobs acting for a client).
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey, ip)
}

func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// validRequestID accepts 1–64 characters of [A-Za-z0-9._:-], so a client
// id can neither forge log lines nor grow without bound.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = s.cfg.NewRequestID()
		}
		w.Header().Set(HeaderRequestID, id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, loggerKey, s.cfg.Logger)
		ctx = context.WithValue(ctx, clientIPKey, remoteHost(r.RemoteAddr))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rw *recorder) WriteHeader(code int) {
	if rw.status == 0 && code >= 200 {
		rw.status = code
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush, deadlines etc.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelWarn
			}
			s.cfg.Logger.LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", RequestID(r.Context())),
				slog.String("remote_addr", r.RemoteAddr),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

// written tracks whether anything was sent, so recovery knows whether it
// can still answer.
type written struct {
	http.ResponseWriter
	sent bool
}

func (rw *written) WriteHeader(code int) {
	if code >= 200 {
		rw.sent = true
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *written) Write(b []byte) (int, error) {
	rw.sent = true
	return rw.ResponseWriter.Write(b)
}

func (rw *written) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

func (s *Server) recovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := &written{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { // compared as net/http does
				panic(v)
			}
			s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
				slog.String("request_id", RequestID(r.Context())),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())),
			)
			if ww.sent {
				// Too late for an error response: abort the connection so the
				// client sees a truncated response, not a complete one.
				panic(http.ErrAbortHandler)
			}
			writeErrorResponse(ww, r, apierr.ErrInternal)
		}()
		next.ServeHTTP(ww, r)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// deadline gives the request's context a deadline Config.RequestTimeout
// away (AV-1). A handler that ran out and wrote nothing gets a 503; one
// that wrote its own error (the context's error maps to 503 too) keeps it.
func (s *Server) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		ww := &written{ResponseWriter: w}
		next.ServeHTTP(ww, r.WithContext(ctx))
		if !ww.sent && r.Context().Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			WriteError(ww, r, fmt.Errorf("request ran longer than %v: %w", s.cfg.RequestTimeout, ctx.Err()))
		}
	})
}

// retryAfter adds Retry-After to 503 and 429 responses that lack it, such
// as the ones ogen writes from a Handler's NewError.
func retryAfter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&retryAfterWriter{ResponseWriter: w}, r)
	})
}

type retryAfterWriter struct{ http.ResponseWriter }

func (w *retryAfterWriter) WriteHeader(code int) {
	setRetryAfter(w.Header(), code)
	w.ResponseWriter.WriteHeader(code)
}

// setRetryAfter sets Retry-After: 1 for a 503 or 429 unless h has one.
func setRetryAfter(h http.Header, status int) {
	if (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
}

func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// errTwoCredentials answers a request with more than one Authorization
// header: which one counts would depend on who reads it (Go takes the
// first, some proxies the last), so neither does.
var errTwoCredentials = apierr.New(http.StatusBadRequest, apierr.CodeBadRequest, "Send at most one Authorization header.")

// oneCredential refuses requests carrying several Authorization headers
// (IN-2): a handler would act on the first and a logout, say, end a
// session the client did not mean.
func oneCredential(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Values("Authorization")) > 1 {
			WriteError(w, r, errTwoCredentials)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) bodyLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			// Answer before reading; net/http closes the connection rather
			// than drain a large unread body.
			WriteError(w, r, &http.MaxBytesError{Limit: s.cfg.MaxBodyBytes})
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

var errNotReady = apierr.New(http.StatusServiceUnavailable, apierr.CodeUnavailable, "The service is not ready.")

// remoteHost is the host of a RemoteAddr ("192.0.2.1:1234" → "192.0.2.1",
// "[::1]:80" → "::1"), or the whole value when it has no port.
func remoteHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
