package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/db"
)

// Environment variables read by the server lookup.
const (
	EnvURL       = "EXH_TEST_DATABASE_URL"
	EnvEphemeral = "EXH_TEST_PG_EPHEMERAL"
)

// LocalURL is the server tried when EnvURL is not set.
const LocalURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const installHint = "install PostgreSQL (apt-get install -y postgresql) or set " + EnvURL

// server is a PostgreSQL server the tests create databases on.
type server struct {
	adminURL string        // URL of a maintenance database (postgres)
	admin    *pgxpool.Pool // creates and drops test databases
	cluster  *cluster      // non-nil when we started it
	err      error         // why no server could be found
}

var (
	once   sync.Once
	shared *server
)

func get() *server {
	once.Do(func() { shared = find(context.Background()) })
	return shared
}

// Main runs the tests and then stops the ephemeral cluster, if one was
// started. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if shared.admin != nil {
			shared.admin.Close()
		}
		if shared.cluster != nil {
			if err := shared.cluster.stop(); err != nil {
				fmt.Fprintf(os.Stderr, "dbtest: stop ephemeral PostgreSQL: %v\n", err)
			}
		}
	}
	os.Exit(code)
}

// find locates a server: EnvURL, then LocalURL, then an ephemeral cluster.
func find(ctx context.Context) *server {
	if u := os.Getenv(EnvURL); u != "" {
		s, err := connect(ctx, u, 10*time.Second)
		if err != nil {
			return &server{err: fmt.Errorf("%s is set but the server does not answer: %w", EnvURL, err)}
		}
		return s
	}
	var localErr error
	if os.Getenv(EnvEphemeral) != "1" {
		s, err := connect(ctx, LocalURL, time.Second)
		if err == nil {
			return s
		}
		localErr = err
	}
	c, err := startCluster(ctx)
	if err != nil {
		if localErr != nil {
			err = fmt.Errorf("127.0.0.1:5432 does not answer (%v); ephemeral cluster: %w", localErr, err)
		}
		return &server{err: err}
	}
	s, err := connect(ctx, c.url("postgres"), 10*time.Second)
	if err != nil {
		_ = c.stop()
		return &server{err: fmt.Errorf("connect to ephemeral cluster: %w", err)}
	}
	s.cluster = c
	return s
}

func connect(ctx context.Context, u string, timeout time.Duration) (*server, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.ConnectTimeout = timeout
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return &server{adminURL: u, admin: pool}, nil
}

func (s *server) check(t testing.TB) {
	t.Helper()
	if s.err != nil {
		t.Fatalf("dbtest: no PostgreSQL server found: %v\n%s", s.err, installHint)
	}
}

// URL creates a fresh, empty database and returns its URL. The database is
// dropped WITH (FORCE) when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	s := get()
	s.check(t)

	name := "exh_test_" + randHex(t, 8)
	ident := pgx.Identifier{name}.Sanitize()
	ctx := t.Context()
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("dbtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	u, err := withDatabase(s.adminURL, name)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return u
}

// New returns a pool (opened with db.Open) on a fresh, empty database. The
// pool is closed and the database dropped when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := URL(t)
	pool, err := db.Open(t.Context(), u, 8)
	if err != nil {
		t.Fatalf("dbtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// withDatabase returns base with its database name replaced by name. base is
// a postgres:// URL or a keyword/value connection string.
func withDatabase(base, name string) (string, error) {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			return "", errors.New("parse server url: invalid url")
		}
		u.Path = "/" + name
		u.RawPath = ""
		q := u.Query()
		if q.Has("dbname") {
			q.Set("dbname", name)
			u.RawQuery = q.Encode()
		}
		return u.String(), nil
	}
	// Keyword/value form: a later keyword wins.
	return base + " dbname=" + name, nil
}

func randHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("dbtest: random name: %v", err)
	}
	return hex.EncodeToString(b)
}
