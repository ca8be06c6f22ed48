package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/exhgen/exhgen/runtime/server"

	"github.com/exhgen/exhgen/runtime/db"
)

// Config is the backend's configuration, read from environment variables.
type Config struct {
	DatabaseURL     string
	Addr            string
	Issuer          string
	DBMaxConns      int32
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	RequestTimeout  time.Duration
	MigrateOnStart  bool
	LogLevel        slog.Level
	LogFormat       string
	DebugAddr       string
	// Getenv reads the variables the spec names, such as SSO providers'
	// client secrets (os.Getenv outside tests; nil reads none).
	Getenv func(string) string
}

// envVar documents one configuration variable; --help prints the table.
type envVar struct {
	Name, Default, Help string
}

var envVars = []envVar{
	{"DATABASE_URL", "", "PostgreSQL connection URL (required), e.g. postgres://user@127.0.0.1:5432/clinic?sslmode=disable"},
	{"EXH_ADDR", ":8080", "Address the HTTP server listens on."},
	{"EXH_ISSUER", "http://localhost:<port>", "Public base URL of the API: the `iss` and `aud` of access tokens."},
	{"EXH_DB_MAX_CONNS", "16", "Maximum PostgreSQL connections in the pool."},
	{"EXH_MAX_BODY_BYTES", "1048576", "Largest accepted request body; larger ones get 413."},
	{"EXH_REQUEST_TIMEOUT", "15s", "Deadline of each request, passed to the database; a request over it gets 503."},
	{"EXH_SHUTDOWN_TIMEOUT", "20s", "How long `serve` drains in-flight requests after SIGTERM."},
	{"EXH_MIGRATE_ON_START", "true", "Whether `serve` applies pending migrations before listening."},
	{"EXH_LOG_LEVEL", "info", "debug, info, warn or error."},
	{"EXH_LOG_FORMAT", "json", "json or text."},
	{"EXH_DEBUG_ADDR", "", "If set, serve Go's pprof profiles on this address (keep it on localhost)."},
}

// LoadConfig reads the configuration; getenv is os.Getenv outside tests.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v != "" {
			return v
		}
		for _, e := range envVars {
			if e.Name == name {
				return e.Default
			}
		}
		return ""
	}
	c := Config{
		DatabaseURL: get("DATABASE_URL"),
		Addr:        get("EXH_ADDR"),
		Issuer:      strings.TrimSpace(getenv("EXH_ISSUER")),
		LogFormat:   get("EXH_LOG_FORMAT"),
		DebugAddr:   get("EXH_DEBUG_ADDR"),
		Getenv:      getenv,
	}
	var err error
	if !validAddr(c.Addr) {
		return c, fmt.Errorf("EXH_ADDR: want host:port or :port, got %q", c.Addr)
	}
	if c.DebugAddr != "" && !validAddr(c.DebugAddr) {
		return c, fmt.Errorf("EXH_DEBUG_ADDR: want host:port, got %q", c.DebugAddr)
	}
	if c.Issuer != "" {
		if err := checkIssuer(c.Issuer); err != nil {
			return c, fmt.Errorf("EXH_ISSUER: %w", err)
		}
	}
	conns, err := strconv.ParseInt(get("EXH_DB_MAX_CONNS"), 10, 32)
	if err != nil || conns < 1 {
		return c, fmt.Errorf("EXH_DB_MAX_CONNS: want a positive integer, got %q", get("EXH_DB_MAX_CONNS"))
	}
	c.DBMaxConns = int32(conns)
	if c.MaxBodyBytes, err = strconv.ParseInt(get("EXH_MAX_BODY_BYTES"), 10, 64); err != nil || c.MaxBodyBytes < 1 {
		return c, fmt.Errorf("EXH_MAX_BODY_BYTES: want a positive integer, got %q", get("EXH_MAX_BODY_BYTES"))
	}
	if c.RequestTimeout, err = time.ParseDuration(get("EXH_REQUEST_TIMEOUT")); err != nil || c.RequestTimeout <= 0 || c.RequestTimeout >= server.DefaultWriteTimeout {
		return c, fmt.Errorf("EXH_REQUEST_TIMEOUT: want a positive duration below the %s write timeout, such as 15s, got %q",
			server.DefaultWriteTimeout, get("EXH_REQUEST_TIMEOUT"))
	}
	if c.ShutdownTimeout, err = time.ParseDuration(get("EXH_SHUTDOWN_TIMEOUT")); err != nil || c.ShutdownTimeout <= 0 {
		return c, fmt.Errorf("EXH_SHUTDOWN_TIMEOUT: want a positive duration such as 20s, got %q", get("EXH_SHUTDOWN_TIMEOUT"))
	}
	if c.MigrateOnStart, err = strconv.ParseBool(get("EXH_MIGRATE_ON_START")); err != nil {
		return c, fmt.Errorf("EXH_MIGRATE_ON_START: want true or false, got %q", get("EXH_MIGRATE_ON_START"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("EXH_LOG_LEVEL"))); err != nil {
		return c, fmt.Errorf("EXH_LOG_LEVEL: want debug, info, warn or error, got %q", get("EXH_LOG_LEVEL"))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return c, fmt.Errorf("EXH_LOG_FORMAT: want json or text, got %q", c.LogFormat)
	}
	if c.DatabaseURL == "" {
		return c, errors.New("DATABASE_URL is not set: give the PostgreSQL connection URL")
	}
	// The value is not echoed: it may hold a password.
	if _, err := db.Config(c.DatabaseURL, c.DBMaxConns); err != nil {
		return c, errors.New("DATABASE_URL: not a valid PostgreSQL connection URL")
	}
	return c, nil
}

// validAddr reports whether addr is a listen address: host:port or :port.
func validAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port != ""
}

// checkIssuer accepts an absolute http(s) URL without user info, query or
// fragment: it becomes the `iss` and `aud` of every access token.
func checkIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an absolute http or https URL such as https://api.example.com, got %q", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("want a URL without user info, query or fragment, got %q", s)
	}
	return nil
}

// logger returns the logger the configuration asks for, writing to w.
func (c Config) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
