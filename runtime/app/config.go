package app

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the backend's configuration, read from environment variables.
type Config struct {
	DatabaseURL     string
	Addr            string
	Issuer          string
	DBMaxConns      int32
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	MigrateOnStart  bool
	LogLevel        slog.Level
	LogFormat       string
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
	{"EXH_SHUTDOWN_TIMEOUT", "20s", "How long `serve` drains in-flight requests after SIGTERM."},
	{"EXH_MIGRATE_ON_START", "true", "Whether `serve` applies pending migrations before listening."},
	{"EXH_LOG_LEVEL", "info", "debug, info, warn or error."},
	{"EXH_LOG_FORMAT", "json", "json or text."},
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
		Issuer:      getenv("EXH_ISSUER"),
		LogFormat:   get("EXH_LOG_FORMAT"),
	}
	var err error
	conns, err := strconv.ParseInt(get("EXH_DB_MAX_CONNS"), 10, 32)
	if err != nil || conns < 1 {
		return c, fmt.Errorf("EXH_DB_MAX_CONNS: want a positive integer, got %q", get("EXH_DB_MAX_CONNS"))
	}
	c.DBMaxConns = int32(conns)
	if c.MaxBodyBytes, err = strconv.ParseInt(get("EXH_MAX_BODY_BYTES"), 10, 64); err != nil || c.MaxBodyBytes < 1 {
		return c, fmt.Errorf("EXH_MAX_BODY_BYTES: want a positive integer, got %q", get("EXH_MAX_BODY_BYTES"))
	}
	if c.ShutdownTimeout, err = time.ParseDuration(get("EXH_SHUTDOWN_TIMEOUT")); err != nil {
		return c, fmt.Errorf("EXH_SHUTDOWN_TIMEOUT: %w", err)
	}
	if c.MigrateOnStart, err = strconv.ParseBool(get("EXH_MIGRATE_ON_START")); err != nil {
		return c, fmt.Errorf("EXH_MIGRATE_ON_START: want true or false, got %q", get("EXH_MIGRATE_ON_START"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("EXH_LOG_LEVEL"))); err != nil {
		return c, fmt.Errorf("EXH_LOG_LEVEL: %w", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return c, fmt.Errorf("EXH_LOG_FORMAT: want json or text, got %q", c.LogFormat)
	}
	if c.DatabaseURL == "" {
		return c, fmt.Errorf("DATABASE_URL is not set")
	}
	return c, nil
}

func (c Config) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}
