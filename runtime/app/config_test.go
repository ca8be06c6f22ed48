package app

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env is a fake environment for LoadConfig and run.
type env map[string]string

func (e env) get(name string) string { return e[name] }

// with returns a copy of e with kv (name, value, name, value...) set.
func (e env) with(kv ...string) env {
	out := make(env, len(e)+len(kv)/2)
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

const testDSN = "postgres://app@127.0.0.1:5432/clinic?sslmode=disable"

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	base := env{"DATABASE_URL": testDSN}
	defaults := Config{
		DatabaseURL:     testDSN,
		Addr:            ":8080",
		DBMaxConns:      16,
		MaxBodyBytes:    1 << 20,
		ShutdownTimeout: 20 * time.Second,
		RequestTimeout:  15 * time.Second,
		MigrateOnStart:  true,
		LogLevel:        slog.LevelInfo,
		LogFormat:       "json",
	}
	tests := []struct {
		name string
		env  env
		want Config
	}{
		{"defaults", base, defaults},
		{"blank values take the defaults", base.with("EXH_ADDR", "  ", "EXH_DB_MAX_CONNS", "", "EXH_LOG_LEVEL", " "), defaults},
		{
			"every variable",
			env{
				"DATABASE_URL":         " postgres://u:p@db.internal:6432/x ",
				"EXH_ADDR":             "127.0.0.1:9000",
				"EXH_ISSUER":           " https://api.example.com ",
				"EXH_DB_MAX_CONNS":     "4",
				"EXH_MAX_BODY_BYTES":   "2048",
				"EXH_SHUTDOWN_TIMEOUT": "1m30s",
				"EXH_REQUEST_TIMEOUT":  "5s",
				"EXH_MIGRATE_ON_START": "false",
				"EXH_LOG_LEVEL":        "debug",
				"EXH_LOG_FORMAT":       "text",
				"EXH_DEBUG_ADDR":       "localhost:6060",
			},
			Config{
				DatabaseURL:     "postgres://u:p@db.internal:6432/x",
				Addr:            "127.0.0.1:9000",
				Issuer:          "https://api.example.com",
				DBMaxConns:      4,
				MaxBodyBytes:    2048,
				ShutdownTimeout: 90 * time.Second,
				RequestTimeout:  5 * time.Second,
				MigrateOnStart:  false,
				LogLevel:        slog.LevelDebug,
				LogFormat:       "text",
				DebugAddr:       "localhost:6060",
			},
		},
		{"log level is case-insensitive", base.with("EXH_LOG_LEVEL", "WARN"), func() Config { c := defaults; c.LogLevel = slog.LevelWarn; return c }()},
		{"migrate on start 0", base.with("EXH_MIGRATE_ON_START", "0"), func() Config { c := defaults; c.MigrateOnStart = false; return c }()},
		{"keyword/value DSN", env{"DATABASE_URL": "host=127.0.0.1 user=app dbname=clinic"}, func() Config { c := defaults; c.DatabaseURL = "host=127.0.0.1 user=app dbname=clinic"; return c }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := LoadConfig(tt.env.get)
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if got.Getenv == nil {
				t.Error("Getenv not kept for the variables the spec names")
			}
			got.Getenv = nil // functions do not compare
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("config:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLoadConfigInvalid(t *testing.T) {
	t.Parallel()
	base := env{"DATABASE_URL": testDSN}
	tests := []struct {
		name    string
		env     env
		wantErr string // the variable the error must name
		notIn   string // never echoed (a password)
	}{
		{"missing DATABASE_URL", env{}, "DATABASE_URL", ""},
		{"blank DATABASE_URL", env{"DATABASE_URL": "   "}, "DATABASE_URL", ""},
		{"malformed DATABASE_URL", env{"DATABASE_URL": "postgres://app:s3cret@[::1/x"}, "DATABASE_URL", "s3cret"},
		{"addr without port", base.with("EXH_ADDR", "8080"), "EXH_ADDR", ""},
		{"addr with empty port", base.with("EXH_ADDR", "localhost:"), "EXH_ADDR", ""},
		{"issuer not a URL", base.with("EXH_ISSUER", "api.example.com"), "EXH_ISSUER", ""},
		{"issuer ftp", base.with("EXH_ISSUER", "ftp://api.example.com"), "EXH_ISSUER", ""},
		{"issuer with query", base.with("EXH_ISSUER", "https://api.example.com/?a=b"), "EXH_ISSUER", ""},
		{"max conns not a number", base.with("EXH_DB_MAX_CONNS", "many"), "EXH_DB_MAX_CONNS", ""},
		{"max conns zero", base.with("EXH_DB_MAX_CONNS", "0"), "EXH_DB_MAX_CONNS", ""},
		{"max conns negative", base.with("EXH_DB_MAX_CONNS", "-3"), "EXH_DB_MAX_CONNS", ""},
		{"max conns beyond int32", base.with("EXH_DB_MAX_CONNS", "3000000000"), "EXH_DB_MAX_CONNS", ""},
		{"body bytes not a number", base.with("EXH_MAX_BODY_BYTES", "1MB"), "EXH_MAX_BODY_BYTES", ""},
		{"body bytes zero", base.with("EXH_MAX_BODY_BYTES", "0"), "EXH_MAX_BODY_BYTES", ""},
		{"shutdown timeout without unit", base.with("EXH_SHUTDOWN_TIMEOUT", "20"), "EXH_SHUTDOWN_TIMEOUT", ""},
		{"shutdown timeout negative", base.with("EXH_SHUTDOWN_TIMEOUT", "-5s"), "EXH_SHUTDOWN_TIMEOUT", ""},
		{"shutdown timeout zero", base.with("EXH_SHUTDOWN_TIMEOUT", "0s"), "EXH_SHUTDOWN_TIMEOUT", ""},
		{"request timeout zero", base.with("EXH_REQUEST_TIMEOUT", "0s"), "EXH_REQUEST_TIMEOUT", ""},
		{"request timeout not below write timeout", base.with("EXH_REQUEST_TIMEOUT", "90s"), "EXH_REQUEST_TIMEOUT", ""},
		{"migrate on start yes", base.with("EXH_MIGRATE_ON_START", "yes"), "EXH_MIGRATE_ON_START", ""},
		{"log level unknown", base.with("EXH_LOG_LEVEL", "loud"), "EXH_LOG_LEVEL", ""},
		{"log format unknown", base.with("EXH_LOG_FORMAT", "xml"), "EXH_LOG_FORMAT", ""},
		{"debug addr without port", base.with("EXH_DEBUG_ADDR", "localhost"), "EXH_DEBUG_ADDR", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfig(tt.env.get)
			if err == nil {
				t.Fatalf("LoadConfig accepted %v", tt.env)
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not start with the variable %s", err, tt.wantErr)
			}
			if tt.notIn != "" && strings.Contains(err.Error(), tt.notIn) {
				t.Errorf("error %q leaks %q", err, tt.notIn)
			}
		})
	}
}

// TestHelpListsEveryVariable keeps --help and LoadConfig in step: every
// variable LoadConfig reads is documented, and each documented default
// is one LoadConfig accepts.
func TestHelpListsEveryVariable(t *testing.T) {
	t.Parallel()
	var read []string
	_, err := LoadConfig(func(name string) string {
		read = append(read, name)
		if name == "DATABASE_URL" {
			return testDSN
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, e := range envVars {
		documented[e.Name] = true
	}
	for _, name := range read {
		if !documented[name] {
			t.Errorf("LoadConfig reads %s, which --help does not list", name)
		}
	}
}
