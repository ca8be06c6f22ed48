package user_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/server"
	"github.com/exhgen/exhgen/runtime/user"
)

// TestAV5_LoginWhileDatabaseUnavailableIs503 checks that a login the
// database cannot serve is a 503 with a generic message (retry later), not
// a 500 (or a 401, which would blame the credentials).
func TestAV5_LoginWhileDatabaseUnavailableIs503(t *testing.T) {
	t.Parallel()
	refused := func(t *testing.T, _ *fixture) *pgxpool.Pool {
		cfg, err := db.Config("postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", 1)
		if err != nil {
			t.Fatal(err)
		}
		pool, err := pgxpool.NewWithConfig(t.Context(), cfg) // connects lazily
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return pool
	}
	closed := func(_ *testing.T, f *fixture) *pgxpool.Pool {
		f.pool.Close()
		return f.pool
	}
	exhausted := func(t *testing.T, f *fixture) *pgxpool.Pool {
		pool, err := pgxpool.NewWithConfig(t.Context(), mustConfig(t, f.pool, 1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		held, err := pool.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(held.Release)
		return pool
	}
	tests := map[string]func(*testing.T, *fixture) *pgxpool.Pool{
		"connection refused": refused,
		"pool closed":        closed,
		"pool exhausted":     exhausted,
	}
	for name, down := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, user.RegistrationOpen)
			f.register(t, "alice@example.com")
			pool := down(t, f)
			users := user.NewService(pool, testProject(user.RegistrationOpen), f.tokens, nil,
				user.WithHasher(auth.NewHasher(testParams, 4)))
			// The deadline only matters without the acquire timeout: then an
			// exhausted pool would hang the test.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			ctx = db.WithAcquireTimeout(ctx, 100*time.Millisecond)
			_, err := users.Login(ctx, user.Credentials{Email: "alice@example.com", Password: strongPassword})
			requireAPIError(t, err, http.StatusServiceUnavailable, apierr.CodeUnavailable)
			if e := server.PublicError(err); e.Status != http.StatusServiceUnavailable || e.Code != apierr.CodeUnavailable {
				t.Fatalf("public error = %d %s", e.Status, e.Code)
			}
		})
	}
}

// mustConfig returns the configuration of pool with at most maxConns
// connections.
func mustConfig(t *testing.T, pool *pgxpool.Pool, maxConns int32) *pgxpool.Config {
	t.Helper()
	cfg := pool.Config()
	cfg.MaxConns, cfg.MinConns = maxConns, 0
	return cfg
}
