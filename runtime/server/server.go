package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Defaults for zero Config fields.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultRequestTimeout    = 15 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownTimeout   = 20 * time.Second
	DefaultMaxBodyBytes      = 1 << 20
	DefaultMaxHeaderBytes    = 64 << 10
	// DefaultReadyTimeout bounds one call of the ready function.
	DefaultReadyTimeout = 2 * time.Second
)

// Config configures a Server. Zero values get the defaults above.
type Config struct {
	// Addr is the address ListenAndServe listens on, e.g. ":8080".
	Addr string
	// MaxBodyBytes caps request bodies (413 beyond it).
	MaxBodyBytes int64
	// MaxHeaderBytes caps request headers (431 beyond it).
	MaxHeaderBytes int

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// RequestTimeout is the deadline of each request's context (AV-1):
	// whatever the handler waits for under that context (a pooled
	// connection, a row lock, a query) ends with it, and a request that
	// ran out answers 503 service_unavailable with Retry-After. (The
	// http.Server timeouts cancel no context: after WriteTimeout a
	// handler keeps running, only its response is lost.) It must be below
	// WriteTimeout, or the 503 could not be sent: a value that is not is
	// lowered to three quarters of WriteTimeout (New logs a warning when
	// it lowers a value that was set; the default is lowered silently).
	RequestTimeout time.Duration
	// ShutdownTimeout bounds the graceful drain once Serve's ctx is done.
	ShutdownTimeout time.Duration

	// Logger receives access logs and server-side error causes; nil means
	// slog.Default().
	Logger *slog.Logger
	// NewRequestID generates request ids; nil means 16 random bytes in hex.
	NewRequestID func() string
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&c.ReadTimeout, DefaultReadTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.RequestTimeout, DefaultRequestTimeout)
	if c.RequestTimeout >= c.WriteTimeout {
		c.RequestTimeout = c.WriteTimeout / 4 * 3
	}
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.ShutdownTimeout, DefaultShutdownTimeout)
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.NewRequestID == nil {
		c.NewRequestID = randomID
	}
	return c
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// Server serves the api handler behind the middleware chain.
type Server struct {
	cfg     Config
	handler http.Handler
}

// New builds a server. api receives every request not handled by the probe
// routes; ready (may be nil) decides /readyz; openapiJSON (may be nil) is
// served at /openapi.json.
func New(cfg Config, api http.Handler, ready func(context.Context) error, openapiJSON []byte) *Server {
	requested := cfg.RequestTimeout
	cfg = cfg.withDefaults()
	if requested > 0 && cfg.RequestTimeout != requested {
		// The server does not do what it was told: say so. (A request
		// that ran out at or after WriteTimeout could not be answered.)
		cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn,
			"request timeout lowered below the write timeout",
			slog.Duration("request_timeout_configured", requested),
			slog.Duration("write_timeout", cfg.WriteTimeout),
			slog.Duration("request_timeout", cfg.RequestTimeout),
		)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), DefaultReadyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				loggerFrom(r.Context()).WarnContext(r.Context(), "not ready",
					slog.String("request_id", RequestID(r.Context())), slog.Any("error", err))
				WriteError(w, r, errNotReady)
				return
			}
		}
		writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
	})
	if openapiJSON != nil {
		mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(openapiJSON)
		})
	}
	if api == nil {
		api = http.HandlerFunc(NotFound)
	}
	mux.Handle("/", api)

	s := &Server{cfg: cfg}
	var h http.Handler = mux
	h = strictJSON(h, cfg.MaxBodyBytes)
	h = oneCredential(h)
	h = s.bodyLimit(h)
	h = s.deadline(h)
	h = retryAfter(h)
	h = securityHeaders(h)
	h = s.recovery(h)
	h = s.accessLog(h)
	h = s.requestID(h)
	s.handler = h
	return s
}

type statusBody struct {
	Status string `json:"status"`
}

// Handler returns the full middleware-wrapped handler.
func (s *Server) Handler() http.Handler { return s.handler }

// httpServer returns a fresh http.Server with every timeout set.
func (s *Server) httpServer(ctx context.Context) *http.Server {
	return &http.Server{
		Addr:              s.cfg.Addr,
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		// Requests must outlive ctx: they are drained by Shutdown, not
		// cancelled when the shutdown begins.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// Serve serves on ln until ctx is done, then shuts down gracefully: it stops
// accepting, waits up to ShutdownTimeout for in-flight requests, closes the
// remaining connections and returns. It returns nil after a clean drain.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.httpServer(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serr)
	}
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// ListenAndServe listens on Config.Addr and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}
